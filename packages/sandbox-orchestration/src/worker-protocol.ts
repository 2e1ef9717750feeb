import type { SandboxLimitName } from './errors';
import type { OrchestratorLimits } from './limits';
import type { GuestOutcome } from './sandbox-session';

/** Starts one run in a worker. Everything is plain data: the worker has no task objects. */
export interface RunMessage {
  type: 'run';
  id: number;
  name: string;
  script: string;
  prelude: string;
  limits: Readonly<Required<OrchestratorLimits>>;
  synchronous: boolean;
  request: string;
  /**
   * One slot over a SharedArrayBuffer, set by the host when the run is aborted: the worker cannot
   * read an abort message while it runs guest code synchronously, its interrupt handler reads this.
   */
  abortFlag: Int32Array;
}

/** The host's answer to one task call. */
export interface SettleMessage {
  type: 'settle';
  id: number;
  sequence: number;
  json?: string;
  failure?: { name: string; message: string };
}

/** Asks the worker to stop a run. */
export interface AbortMessage {
  type: 'abort';
  id: number;
}

export type ToWorker = RunMessage | SettleMessage | AbortMessage;

/** The guest called a task. */
export interface CallMessage {
  type: 'call';
  id: number;
  task: string;
  args: string;
  sequence: number;
}

/** A run ended with an outcome. */
export interface DoneMessage {
  type: 'done';
  id: number;
  /** See {@link FailedMessage.retiring}. */
  retiring: boolean;
  outcome: GuestOutcome;
}

/** A run ended without an outcome. */
export interface FailedMessage {
  type: 'failed';
  id: number;
  /** The worker's QuickJS module broke: it exits after this message and must get no more runs. */
  retiring: boolean;
  failure:
    | { kind: 'limit'; limit: SandboxLimitName; observed: string }
    | { kind: 'aborted' }
    | { kind: 'error'; message: string };
}

export type FromWorker = CallMessage | DoneMessage | FailedMessage;
