import { TaskExecution_Phase } from './core';

/** A task execution phase, as flyteidl2 defines it (`flyteidl2.core.TaskExecution.Phase`). */
export { TaskExecution_Phase as Phase } from './core';

const TERMINAL_PHASES: ReadonlySet<TaskExecution_Phase> = new Set([
  TaskExecution_Phase.SUCCEEDED,
  TaskExecution_Phase.FAILED,
  TaskExecution_Phase.ABORTED,
  // The external job is over; whoever polls decides whether to create a new one.
  TaskExecution_Phase.RETRYABLE_FAILED,
]);

/**
 * Whether a phase is final: the external job will not change any more, so polling stops.
 * `RETRYABLE_FAILED` is final for the job that reported it (a retry is a new job).
 */
export function isTerminalPhase(phase: TaskExecution_Phase): boolean {
  return TERMINAL_PHASES.has(phase);
}

// Keys are states with case, spaces, dashes and underscores removed ("TIMED_OUT" -> "timedout").
const PHASE_BY_STATE: ReadonlyMap<string, TaskExecution_Phase> = new Map([
  ...['done', 'succeeded', 'success', 'successful', 'completed', 'complete'].map(
    (s) => [s, TaskExecution_Phase.SUCCEEDED] as const,
  ),
  ...['failed', 'failure', 'error', 'errored', 'timeout', 'timedout'].map(
    (s) => [s, TaskExecution_Phase.FAILED] as const,
  ),
  ...['cancelled', 'canceled', 'aborted'].map((s) => [s, TaskExecution_Phase.ABORTED] as const),
  ...['running', 'terminating', 'executing', 'started', 'inprogress'].map(
    (s) => [s, TaskExecution_Phase.RUNNING] as const,
  ),
  ...['pending', 'queued', 'resuming', 'blocked', 'scheduled', 'waiting', 'submitted'].map(
    (s) => [s, TaskExecution_Phase.QUEUED] as const,
  ),
  ['initializing', TaskExecution_Phase.INITIALIZING],
]);

const warnedStates = new Set<string>();

/** Options for {@link phaseFromState}. */
export interface PhaseFromStateOptions {
  /**
   * Called the first time (per process) an unknown state is seen. Defaults to
   * `process.emitWarning` with code `FLYTE_UNKNOWN_STATE`.
   */
  onUnknownState?: (state: string, message: string) => void;
}

/**
 * Maps the state string an external system reports (BigQuery `DONE`, Snowflake `RUNNING`, a
 * batch system's `TIMED_OUT` ...) to a flyteidl2 phase. Case, spaces, dashes and underscores
 * are ignored. Cancellation maps to `ABORTED`.
 *
 * An unknown state never throws: a status poll must survive a service inventing a new state.
 * It maps to `RUNNING` (not terminal, so polling goes on) and is reported once per state.
 *
 * @example
 * phaseFromState('DONE'); // Phase.SUCCEEDED
 * phaseFromState('timed_out'); // Phase.FAILED
 */
export function phaseFromState(
  state: string,
  options: PhaseFromStateOptions = {},
): TaskExecution_Phase {
  const key = state.toLowerCase().replace(/[\s_-]/g, '');
  const phase = PHASE_BY_STATE.get(key);
  if (phase !== undefined) return phase;
  if (!warnedStates.has(key)) {
    warnedStates.add(key);
    const message = `Unknown external state ${JSON.stringify(state)}: treating it as RUNNING and polling on.`;
    if (options.onUnknownState) options.onUnknownState(state, message);
    else process.emitWarning(message, { code: 'FLYTE_UNKNOWN_STATE' });
  }
  return TaskExecution_Phase.RUNNING;
}
