import { type Readable, Writable } from 'node:stream';
import type Docker from 'dockerode';
import { statusOf } from './docker-client';
import { ownerLabels } from './labels';

/** The limits and isolation settings of a container (all enforced by the Docker engine). */
export interface ContainerSpec {
  image: string;
  /** Memory limit in bytes; swap is set to the same value (no swap beyond it). */
  memoryBytes: number;
  /** CPU cores (fractions allowed), enforced as a CFS quota. */
  cpus: number;
  /** Most processes and threads at once. */
  pids: number;
  /** Size of the /tmp tmpfs in bytes, and of /dev/shm. */
  tmpBytes: number;
  /** Size of the /var/outputs tmpfs in bytes. */
  outputsBytes: number;
  /** Size of the /var/inputs tmpfs in bytes. */
  inputsBytes: number;
  network: 'none' | 'host';
  /** User the code runs as, `uid:gid`; never root. */
  user: string;
}

/** Where the code runs and the only writable places it has. */
export const SANDBOX_WORKDIR = '/tmp';

function tmpfs(bytes: number, extra: string): string {
  return `rw,nosuid,nodev,size=${Math.max(1, Math.floor(bytes / 1024))}k,${extra}`;
}

/** The program a container runs as its main process, with its output attached. */
export interface MainProgram {
  argv: readonly string[];
  env: readonly string[];
  /** Set when the program reads stdin (the bytes come with `run`); `undefined`: no stdin. */
  stdin: Buffer | undefined;
}

function createOptions(
  spec: ContainerSpec,
  runId: string,
  main: MainProgram,
): Docker.ContainerCreateOptions {
  const [uid = '1000', gid = uid] = spec.user.split(':');
  const [entrypoint = 'sh', ...cmd] = main.argv;
  return {
    Image: spec.image,
    Entrypoint: [entrypoint],
    Cmd: cmd,
    User: spec.user,
    WorkingDir: SANDBOX_WORKDIR,
    Env: [`HOME=${SANDBOX_WORKDIR}`, ...main.env],
    OpenStdin: main.stdin !== undefined,
    StdinOnce: main.stdin !== undefined,
    AttachStdin: main.stdin !== undefined,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    Labels: ownerLabels(runId),
    NetworkDisabled: spec.network === 'none',
    HostConfig: {
      NetworkMode: spec.network,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: {
        '/tmp': tmpfs(spec.tmpBytes, 'mode=1777'),
        '/var/inputs': tmpfs(spec.inputsBytes, `noexec,uid=${uid},gid=${gid},mode=0755`),
        '/var/outputs': tmpfs(spec.outputsBytes, `uid=${uid},gid=${gid},mode=0755`),
      },
      Memory: spec.memoryBytes,
      MemorySwap: spec.memoryBytes,
      NanoCpus: Math.round(spec.cpus * 1e9),
      PidsLimit: spec.pids,
      IpcMode: 'private',
      // /dev/shm stays writable (Python multiprocessing needs it for its semaphores) but gets
      // the size of /tmp rather than the engine's default, which a daemon may have raised.
      ShmSize: spec.tmpBytes,
      Init: true,
      AutoRemove: true,
      Privileged: false,
    },
  };
}

/** A started container whose main process waits for its run (see {@link prepareAttached}). */
export interface AttachedRun {
  readonly container: Docker.Container;
  /**
   * Feeds stdin (then closes it) and streams the output to `handlers` until the process ends.
   * Output that arrived before is delivered first.
   */
  run(stdin: Buffer | undefined, handlers: StreamHandlers): Promise<void>;
}

/**
 * Creates a container whose main process is `main`, attaches to its stdin and output, and
 * starts it: one container start per run, as `docker run` does. `onCreated` gets the
 * container as soon as it exists, so the caller can remove it whatever happens next.
 */
export async function prepareAttached(
  docker: Docker,
  spec: ContainerSpec,
  main: MainProgram,
  runId: string,
  onCreated?: (container: Docker.Container) => void,
): Promise<AttachedRun> {
  const container = await docker.createContainer(createOptions(spec, runId, main));
  onCreated?.(container);
  try {
    const stream = (await container.attach({
      stream: true,
      stdin: main.stdin !== undefined,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as unknown as NodeJS.ReadWriteStream & Readable;
    let handlers: StreamHandlers | undefined;
    const early: ['out' | 'err', Buffer][] = [];
    const done = pump(container, stream, undefined, {
      onStdout: (chunk) => {
        if (handlers) return handlers.onStdout(chunk);
        early.push(['out', chunk]);
        return undefined;
      },
      onStderr: (chunk) => {
        if (handlers) return handlers.onStderr(chunk);
        early.push(['err', chunk]);
        return undefined;
      },
    });
    // Until run() is called nobody awaits `done`; its failure is reported by run().
    done.catch(() => undefined);
    await container.start();
    return {
      container,
      async run(stdin, runHandlers) {
        for (const [which, chunk] of early.splice(0)) {
          if (which === 'out') runHandlers.onStdout(chunk);
          else runHandlers.onStderr(chunk);
        }
        handlers = runHandlers;
        if (stdin !== undefined) {
          stream.write(stdin);
          stream.end();
        }
        await done;
      },
    };
  } catch (error) {
    await removeContainer(container).catch(() => undefined);
    throw error;
  }
}

/**
 * Where the two output streams of a run go. A handler that returns a promise pauses the
 * container's output until it settles (backpressure for a consumer that is slower than Docker).
 */
export interface StreamHandlers {
  onStdout: (chunk: Buffer) => undefined | Promise<void>;
  onStderr: (chunk: Buffer) => undefined | Promise<void>;
}

function pump(
  container: Docker.Container,
  stream: NodeJS.ReadWriteStream & Readable,
  stdin: Buffer | undefined,
  handlers: StreamHandlers,
): Promise<void> {
  // demuxStream ignores what its sinks' write() returns: backpressure pauses the source.
  const sink = (write: (chunk: Buffer) => undefined | Promise<void>) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        const wait = write(chunk);
        if (wait) {
          stream.pause();
          wait.then(
            () => stream.resume(),
            () => stream.resume(),
          );
        }
        callback();
      },
    });
  return new Promise<void>((resolve, reject) => {
    container.modem.demuxStream(stream, sink(handlers.onStdout), sink(handlers.onStderr));
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
    if (stdin !== undefined) {
      stream.write(stdin);
      stream.end();
    }
  });
}

/** How long {@link removeContainer} waits for the engine to finish a removal. */
export const REMOVAL_WAIT_MS = 15_000;

/**
 * Kills and removes a container and resolves once it is gone (a container that is already
 * gone is fine). Waits at most `waitMs` for the engine.
 */
export async function removeContainer(
  container: Docker.Container,
  waitMs = REMOVAL_WAIT_MS,
): Promise<void> {
  const abortSignal = AbortSignal.timeout(waitMs);
  try {
    await container.remove({ force: true, abortSignal });
    return;
  } catch (error) {
    const status = statusOf(error);
    if (status === 404) return;
    // 409: AutoRemove (or another caller) is removing it already: wait until that is done.
    if (status !== 409) throw error;
  }
  try {
    await container.wait({ condition: 'removed', abortSignal });
  } catch (error) {
    // 404: it was gone before the wait began.
    if (statusOf(error) !== 404) throw error;
  }
}
