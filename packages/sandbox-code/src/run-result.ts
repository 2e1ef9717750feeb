/** What every run reports besides its typed outputs. */
export interface SandboxRunResult {
  /** Exit code of the code or command (137 when killed, for example by the OOM killer). */
  exitCode: number;
  /** Standard output, capped (head and tail kept) with secrets masked. */
  stdout: string;
  /** Standard error, capped (head and tail kept) with secrets masked. */
  stderr: string;
  /**
   * Wall-clock time of the run itself, from the creation of its container to the end of the code,
   * in milliseconds (waits for the engine, the image or a `concurrency` slot are not in it).
   */
  durationMs: number;
  /** Whether the kernel's OOM killer stopped a process of the run (memory limit reached). */
  oomKilled: boolean;
  /** Whether the run was stopped by its `timeout` (only ever true on a `SandboxTimeoutError`). */
  timedOut: boolean;
  /** Whether stdout or stderr went over the cap and lost their middle part. */
  truncated: boolean;
}
