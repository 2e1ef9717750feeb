// Errors (all FlyteErrors; run errors carry the run report in `result`)
export {
  BaseImageMissingError,
  DockerUnavailableError,
  ImageBuildError,
  InvalidPackageError,
  InvalidSandboxOptionsError,
  SandboxAbortedError,
  SandboxExitError,
  SandboxInputError,
  SandboxOutputError,
  SandboxRunError,
  SandboxTimeoutError,
} from './errors';
// For operators and tooling: image names, package-manager messages, labels, orphan cleanup
export { BUILT_IMAGE_LABEL, BUILT_IMAGE_REPOSITORY, DEFAULT_BASE_IMAGE } from './image-builder';
export { findMissingPackage, type MissingPackage } from './invalid-package';
export type { IoKind } from './io-kinds';
export {
  OWNER_HOST_LABEL,
  OWNER_PID_LABEL,
  OWNER_START_LABEL,
  RUN_ID_LABEL,
  SANDBOX_LABEL,
} from './labels';
export type { SandboxLanguage } from './programs';
export { reapOrphanedSandboxes } from './reaper';
export type { SandboxRunResult } from './run-result';
// Creating and running sandboxes (Biome keeps exports sorted by module, so this comes last)
export {
  type CodeSandbox,
  type CreateSandboxOptions,
  createSandbox,
  parseByteSize,
  type SandboxBuildOptions,
  type SandboxPoolOptions,
  type SandboxResources,
  type SandboxRunOptions,
  type SandboxRunOutput,
  type SandboxSecret,
} from './sandbox';
