import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import {
  OWNER_HOST_LABEL,
  OWNER_PID_LABEL,
  OWNER_START_LABEL,
  processStartOf,
  SANDBOX_LABEL,
} from './labels';
import { removeContainer } from './sandbox-container';

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Whether the process that created a container (by its labels) still runs on this host. */
export function ownerIsAlive(labels: Record<string, string>): boolean {
  const pid = Number(labels[OWNER_PID_LABEL]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (isZombie(pid)) return false;
  const start = processStartOf(pid);
  // A different start time means the pid was reused by another process.
  return start === undefined || start === labels[OWNER_START_LABEL];
}

/**
 * Removes the sandbox containers of this host whose owner process is gone (killed before its
 * `finally` ran). Containers of live processes and of other hosts are left alone.
 *
 * @returns The ids of the containers removed.
 */
export async function reapOrphanedSandboxes(docker: Docker): Promise<string[]> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${SANDBOX_LABEL}=1`, `${OWNER_HOST_LABEL}=${hostname()}`] },
  });
  const removed: string[] = [];
  for (const info of containers) {
    if (ownerIsAlive(info.Labels)) continue;
    await removeContainer(docker.getContainer(info.Id));
    removed.push(info.Id);
  }
  return removed;
}

const reaped = new WeakMap<Docker, Promise<unknown>>();

/** Runs {@link reapOrphanedSandboxes} once per Docker client (on its first use). */
export function reapOnce(docker: Docker): Promise<unknown> {
  let done = reaped.get(docker);
  if (!done) {
    // Reaping is housekeeping: a failure here must not fail the run that triggered it.
    done = reapOrphanedSandboxes(docker).catch(() => undefined);
    reaped.set(docker, done);
  }
  return done;
}
