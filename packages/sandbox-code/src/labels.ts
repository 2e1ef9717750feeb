import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Label on every container this package creates. */
export const SANDBOX_LABEL = 'flyte.sandbox';
/** Label naming the run (or pool slot) a container was created for. */
export const RUN_ID_LABEL = 'flyte.sandbox.run-id';
/** Label with the process id of the Node process that owns the container. */
export const OWNER_PID_LABEL = 'flyte.sandbox.owner-pid';
/** Label with the owner's start time, so a reused pid is not mistaken for the owner. */
export const OWNER_START_LABEL = 'flyte.sandbox.owner-start';
/** Label with the owner's host name: only containers of this host are judged by pid. */
export const OWNER_HOST_LABEL = 'flyte.sandbox.owner-host';

/**
 * A stable start time of process `pid`: on Linux the start tick from /proc (identical for
 * every reader), elsewhere `undefined`.
 */
export function processStartOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) counted after the command name, which may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** The labels that tie a new container to this process. */
export function ownerLabels(runId: string): Record<string, string> {
  return {
    [SANDBOX_LABEL]: '1',
    [RUN_ID_LABEL]: runId,
    [OWNER_PID_LABEL]: String(process.pid),
    [OWNER_START_LABEL]: processStartOf(process.pid) ?? String(Math.round(performance.timeOrigin)),
    [OWNER_HOST_LABEL]: hostname(),
  };
}
