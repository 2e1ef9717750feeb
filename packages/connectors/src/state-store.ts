import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlyteError, zodIssueLines } from '@flyte/idl';
import { z } from 'zod';

/** What a durable run saves right after `create`, to re-attach after a crash. */
export interface StoredConnectorRun {
  taskType: string;
  taskTypeVersion: number;
  /** The connector's name, checked on re-attach. */
  connector: string;
  /** The resource metadata as UTF-8 JSON text (the `resource_meta` bytes, decoded). */
  resourceMeta: string;
  /** Which job of the run this is (re-creates after `RETRYABLE_FAILED` count up). */
  attempt: number;
  /** ISO 8601 time of the `create`. */
  createdAt: string;
}

// What re-attaching reads; `createdAt` is informational (a store may keep it as a timestamp).
const storedConnectorRunSchema = z.object({
  taskType: z.string().min(1),
  taskTypeVersion: z.number().int(),
  connector: z.string().min(1),
  resourceMeta: z.string(),
  attempt: z.number().int().min(0),
});

/** The fields of a {@link StoredConnectorRun} that re-attaching a run reads. */
export type ReattachableRun = Omit<StoredConnectorRun, 'createdAt'>;

/**
 * The fields re-attaching needs from `value`, which a {@link ConnectorStateStore} loaded for
 * `runId` (any store may hand back anything: a file edited by hand, a row from an older version).
 *
 * @throws FlyteError `invalid_run_state` naming each field that is wrong.
 */
export function checkStoredRun(runId: string, value: unknown): ReattachableRun {
  const result = storedConnectorRunSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = zodIssueLines(result.error, 'state');
  throw new FlyteError(
    'invalid_run_state',
    `The saved state of run "${runId}" is not a connector run: ${issues.join('; ')}. Remove it from the state store to start the run afresh (the external job it pointed to may still be running).`,
    { cause: result.error, details: { runId, issues } },
  );
}

/**
 * Where durable connector runs keep their state, by run id. Implement it over a database or
 * object store to share runs between machines; {@link FileStateStore} keeps files on disk.
 */
export interface ConnectorStateStore {
  /** The saved run, or `undefined` when none is saved under `runId`. */
  load(runId: string): Promise<StoredConnectorRun | undefined>;
  /** Saves (replaces) the run's state; must be durable when it resolves. */
  save(runId: string, state: StoredConnectorRun): Promise<void>;
  /** Forgets the run; resolves when there is nothing to forget. */
  remove(runId: string): Promise<void>;
}

/**
 * A {@link ConnectorStateStore} keeping one JSON file per run in a directory. Writes go to a
 * temporary file renamed into place, so a crash leaves the old state or the new one, never half.
 */
export class FileStateStore implements ConnectorStateStore {
  /** @param directory - Created on first save. */
  constructor(readonly directory: string) {}

  #path(runId: string): string {
    if (!runId) throw new FlyteError('invalid_run_id', 'A durable run needs a non-empty runId.');
    return join(this.directory, `${encodeURIComponent(runId)}.json`);
  }

  async load(runId: string): Promise<StoredConnectorRun | undefined> {
    let text: string;
    try {
      text = await readFile(this.#path(runId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as StoredConnectorRun;
    } catch (cause) {
      throw new FlyteError(
        'invalid_run_state',
        `The state file of run "${runId}" (${this.#path(runId)}) is not JSON. Delete it to start the run afresh (the external job it pointed to may still be running).`,
        { cause, details: { runId, path: this.#path(runId) } },
      );
    }
  }

  async save(runId: string, state: StoredConnectorRun): Promise<void> {
    const path = this.#path(runId);
    await mkdir(this.directory, { recursive: true });
    const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
    try {
      await writeFile(temporary, JSON.stringify(state), { flush: true });
      await rename(temporary, path);
    } finally {
      await rm(temporary, { force: true });
    }
  }

  async remove(runId: string): Promise<void> {
    await rm(this.#path(runId), { force: true });
  }
}

/** A {@link ConnectorStateStore} in memory: survives an abort or a retry, not a crash. */
export class MemoryStateStore implements ConnectorStateStore {
  readonly #runs = new Map<string, StoredConnectorRun>();

  async load(runId: string): Promise<StoredConnectorRun | undefined> {
    return this.#runs.get(runId);
  }

  async save(runId: string, state: StoredConnectorRun): Promise<void> {
    this.#runs.set(runId, { ...state });
  }

  async remove(runId: string): Promise<void> {
    this.#runs.delete(runId);
  }
}
