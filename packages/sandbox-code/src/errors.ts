import { FlyteError } from '@flyte/idl';
import type { SandboxRunResult } from './run-result';

/** The options of a sandbox are inconsistent or out of range (found before anything starts). */
export class InvalidSandboxOptionsError extends FlyteError {
  constructor(message: string, details: { sandbox: string; option: string; value?: unknown }) {
    super('invalid_sandbox_options', message, { details });
  }
}

/** The Docker engine did not answer. `details.endpoint` names the socket or address asked. */
export class DockerUnavailableError extends FlyteError {
  constructor(message: string, details: { endpoint: string }, cause?: unknown) {
    super('docker_unavailable', message, { cause, details });
  }
}

/** The base image is not on the Docker engine and could not be pulled. */
export class BaseImageMissingError extends FlyteError {
  constructor(message: string, details: { image: string }, cause?: unknown) {
    super('base_image_missing', message, { cause, details });
  }
}

/** A package named in `packages` or `systemPackages` does not exist (apt, pip or npm said so). */
export class InvalidPackageError extends FlyteError {
  /** The package the package manager could not find. */
  readonly packageName: string;
  /** Which package manager rejected it. */
  readonly manager: 'apt' | 'pip' | 'npm';

  constructor(
    message: string,
    details: { packageName: string; manager: 'apt' | 'pip' | 'npm'; image: string },
  ) {
    super('invalid_package', message, { details });
    this.packageName = details.packageName;
    this.manager = details.manager;
  }
}

/** An image build failed for another reason than an unknown package. */
export class ImageBuildError extends FlyteError {
  constructor(message: string, details: { image: string; logTail: string }, cause?: unknown) {
    super('image_build_failed', message, { cause, details });
  }
}

/** Base of the errors a run raises after its container started; `result` is what was seen. */
export class SandboxRunError extends FlyteError {
  /** Exit code, output (capped, secrets masked), duration and flags of the failed run. */
  readonly result: SandboxRunResult;

  constructor(code: string, message: string, result: SandboxRunResult, cause?: unknown) {
    super(code, message, {
      cause,
      details: {
        exitCode: result.exitCode,
        durationMs: result.durationMs,
        oomKilled: result.oomKilled,
        timedOut: result.timedOut,
      },
    });
    this.result = result;
  }
}

/** The run took longer than its `timeout`; the container was killed and removed. */
export class SandboxTimeoutError extends SandboxRunError {
  constructor(message: string, result: SandboxRunResult) {
    super('sandbox_timeout', message, result);
  }
}

/** The run was cancelled by its `AbortSignal`; the container was killed and removed. */
export class SandboxAbortedError extends SandboxRunError {
  constructor(message: string, result: SandboxRunResult, reason: unknown) {
    super('sandbox_aborted', message, result, reason);
  }
}

/** The code exited with a non-zero code (`result.oomKilled` says if memory ran out). */
export class SandboxExitError extends SandboxRunError {
  constructor(message: string, result: SandboxRunResult) {
    super('sandbox_exit', message, result);
  }
}

/** An output is missing, too large or does not parse as its declared type. */
export class SandboxOutputError extends SandboxRunError {
  /** The name of the output at fault. */
  readonly output: string;

  constructor(message: string, output: string, result: SandboxRunResult, cause?: unknown) {
    super('sandbox_output', message, result, cause);
    this.output = output;
  }
}

/** An input could not be turned into a file for the container (for example a remote `uri`). */
export class SandboxInputError extends FlyteError {
  constructor(message: string, details: { sandbox: string; input: string }, cause?: unknown) {
    super('sandbox_input', message, { cause, details });
  }
}
