import {
  FlyteError,
  isTerminalPhase,
  Phase,
  parseTaskIo,
  type TaskDefinition,
  type TaskTemplateContext,
} from '@flyte/idl';
import type { TaskTemplate } from '@flyte/idl/core';
import type { z } from 'zod';
import type { LogLink, Resource, ResourceMeta } from './async-connector';
import {
  afterDelay,
  backoffDelay,
  clampDelay,
  MAX_TIMER_MS,
  raceAbort,
  SequentialWaits,
} from './backoff';
import { type AnyConnector, type ConnectorRegistry, defaultRegistry } from './connector-registry';
import {
  ConnectorAbortedError,
  ConnectorTaskFailedError,
  ConnectorTimeoutError,
  refuseOption,
  TransientConnectorError,
  UNBOUNDED_MS_RULE,
} from './errors';
import { resolveSecrets, SecretRedactor, type SecretSources } from './secrets';
import { type ConnectorStateStore, checkStoredRun } from './state-store';

/** Run options a task applies to every run (a run's own options win). */
export type ConnectorRunDefaults = Omit<RunConnectorTaskOptions, 'signal' | 'onEvent' | 'runId'>;

/**
 * What the executor needs from a task: its identity, interface and template, and optionally
 * defaults for its runs (the connector, poll bounds, secrets ...).
 */
export type ConnectorTaskLike = Pick<
  TaskDefinition,
  'name' | 'taskType' | 'taskTypeVersion' | 'interface' | 'toTaskTemplate'
> & { readonly runDefaults?: ConnectorRunDefaults | undefined };

/** A progress event of a connector run. */
export type ConnectorTaskEvent =
  | {
      type: 'created';
      /** The connector's metadata for the job (already free of secrets). */
      resourceMeta: ResourceMeta;
      /** 0 for the first job of the run, then one more per re-create. */
      attempt: number;
      /** True when a durable run found its job in the state store instead of creating it. */
      reattached: boolean;
    }
  | { type: 'phase'; phase: Phase; phaseName: string; message?: string | undefined }
  | { type: 'logLinks'; logLinks: readonly LogLink[] }
  | {
      type: 'retry';
      /** `transient`: a failed call is retried; `recreate`: a `RETRYABLE_FAILED` job is created anew. */
      reason: 'transient' | 'recreate';
      attempt: number;
      delayMs: number;
      message: string;
    }
  | { type: 'done'; phase: Phase; phaseName: string; error?: Error | undefined };

/** Options of {@link runConnectorTask}. */
export interface RunConnectorTaskOptions extends SecretSources {
  /** Aborts the run: the job is deleted (once, best effort) and the run rejects. */
  signal?: AbortSignal | undefined;
  /**
   * Overall bound of the run in milliseconds; when it passes the job is deleted. No bound by
   * default (or with `Infinity`).
   */
  timeout?: number | undefined;
  /** Shortest wait between polls, in milliseconds, more than 0. Default 500. */
  minPollInterval?: number | undefined;
  /** Longest wait between polls, in milliseconds. Default 30 000. */
  maxPollInterval?: number | undefined;
  /** How many times a job that ends `RETRYABLE_FAILED` is created again. Default 0. */
  retries?: number | undefined;
  /** How many transient failures (of `get`, or `TransientConnectorError` from `create`) a run tolerates. Default 5. */
  transientRetries?: number | undefined;
  /**
   * Bound of the `delete` call made when a run leaves a job behind (abort, timeout, or a failure
   * with nothing recording the job), in milliseconds; removing the run's saved record afterwards
   * has a bound of its own of the same length. Default 10 000.
   */
  deleteTimeout?: number | undefined;
  /** Called with each progress event, in order. Exceptions it throws are ignored. */
  onEvent?: ((event: ConnectorTaskEvent) => void) | undefined;
  /** Makes the run durable: the job is saved after `create` and found again by `runId`. */
  stateStore?: ConnectorStateStore | undefined;
  /** Identifies a durable run; required with `stateStore`. */
  runId?: string | undefined;
  /** The connector to use; otherwise looked up in `registry` by task type and version. */
  connector?: AnyConnector | undefined;
  /** Where to look up the connector; {@link defaultRegistry} by default. */
  registry?: ConnectorRegistry | undefined;
  /** Passed to the connector as `outputPrefix`. Default `""`. */
  outputPrefix?: string | undefined;
  /** Identifier fields of the template given to the connector. Default project/domain/version `"local"`. */
  templateContext?: TaskTemplateContext | undefined;
}

const phaseName = (phase: Phase) => Phase[phase] ?? String(phase);
const LOCAL_CONTEXT: TaskTemplateContext = { project: 'local', domain: 'local', version: 'local' };

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Whether an error is worth retrying: a {@link TransientConnectorError}, or a network error
 * (Node's socket codes, or `fetch`'s `TypeError` caused by one).
 */
export function isTransientError(error: unknown): boolean {
  if (TransientConnectorError.isInstance(error)) return true;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  }
  return false;
}

/**
 * A run in progress: await `result`, or iterate it for progress events (the iteration ends after
 * the `done` event). Events are buffered, so iterating late misses nothing.
 */
export class ConnectorRun<O = Record<string, unknown>>
  implements AsyncIterable<ConnectorTaskEvent>
{
  /** The task's outputs, checked against its output schema. */
  readonly result: Promise<O>;
  readonly #events: ConnectorTaskEvent[] = [];
  /** Iterators waiting for the next event: one each, so several can iterate at once. */
  readonly #waiting = new Set<() => void>();

  /** @internal */
  constructor(start: (emit: (event: ConnectorTaskEvent) => void) => Promise<O>) {
    this.result = start((event) => {
      this.#events.push(event);
      for (const wake of this.#waiting) wake();
      this.#waiting.clear();
    });
    // The result is also reported by the `done` event; do not report it as unhandled twice.
    this.result.catch(() => {});
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConnectorTaskEvent> {
    let index = 0;
    for (;;) {
      while (index < this.#events.length) {
        const event = this.#events[index++] as ConnectorTaskEvent;
        yield event;
        // The last event: the loop never waits after it.
        if (event.type === 'done') return;
      }
      await new Promise<void>((resolve) => this.#waiting.add(resolve));
    }
  }
}

/**
 * Runs a connector-backed task locally: `create`, then `get` until a terminal phase, with
 * exponential backoff and full jitter between polls. Resolves with the outputs.
 *
 * @throws ConnectorTaskFailedError when the job ends in another phase than `SUCCEEDED`.
 * @throws ConnectorAbortedError / ConnectorTimeoutError after deleting the job.
 * @throws TransientConnectorError when transient failures exceed `transientRetries`.
 *
 * @example
 * const { rows } = await runConnectorTask(query, { sql: 'select 1' }, { timeout: 60_000 });
 */
export function runConnectorTask<T extends ConnectorTaskLike>(
  task: T,
  inputs: z.input<T['interface']['inputs']>,
  options: RunConnectorTaskOptions = {},
): Promise<z.output<T['interface']['outputs']>> {
  // Nobody can iterate this run: do not buffer its events.
  return execute(task, inputs, withDefaults(task, options), () => {});
}

/**
 * Starts a connector run and returns it at once: iterate it for events, await `result` for the
 * outputs. Same behaviour and options as {@link runConnectorTask}.
 */
export function startConnectorTask<T extends ConnectorTaskLike>(
  task: T,
  inputs: z.input<T['interface']['inputs']>,
  options: RunConnectorTaskOptions = {},
): ConnectorRun<z.output<T['interface']['outputs']>> {
  return new ConnectorRun((emit) => execute(task, inputs, withDefaults(task, options), emit));
}

/** The task's run defaults, overridden by each option given a value (`undefined` keeps the default). */
function withDefaults(task: ConnectorTaskLike, options: RunConnectorTaskOptions) {
  if (!task.runDefaults) return options;
  const merged: Record<string, unknown> = { ...task.runDefaults };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value;
  return merged as RunConnectorTaskOptions;
}

/**
 * Refuses option values that would make a run misbehave rather than fail clearly: a poll
 * interval of 0 never backs off, and Node fires timers longer than about 24.8 days at once.
 */
function checkRunOptions(task: ConnectorTaskLike, options: RunConnectorTaskOptions): void {
  const refuse = (option: string, value: unknown, rule: string) =>
    refuseOption('invalid_run_options', `Connector task "${task.name}"`, option, value, rule);
  const { timeout } = options;
  if (timeout !== undefined && !(timeout > 0)) {
    refuse('timeout', timeout, UNBOUNDED_MS_RULE);
  }
  for (const option of ['minPollInterval', 'maxPollInterval', 'deleteTimeout'] as const) {
    const value = options[option];
    if (value !== undefined && !(value > 0 && value <= MAX_TIMER_MS)) {
      refuse(option, value, `a number of milliseconds above 0 and at most ${MAX_TIMER_MS}`);
    }
  }
  for (const option of ['retries', 'transientRetries'] as const) {
    const value = options[option];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
      refuse(option, value, 'a whole number, 0 or more');
    }
  }
}

async function execute<T extends ConnectorTaskLike>(
  task: T,
  rawInputs: unknown,
  options: RunConnectorTaskOptions,
  emitRaw: (event: ConnectorTaskEvent) => void,
): Promise<z.output<T['interface']['outputs']>> {
  const min = options.minPollInterval ?? 500;
  const max = Math.max(min, options.maxPollInterval ?? 30_000);
  const bounds = { minMs: min, maxMs: max };
  const retries = options.retries ?? 0;
  const transientBudget = options.transientRetries ?? 5;
  const taskType = task.taskType;

  let redactor = new SecretRedactor({});
  const emit = (event: ConnectorTaskEvent) => {
    // The error of a 'done' event is the one the run throws, already redacted where it fails.
    const clean = redactor.value(event);
    emitRaw(clean);
    try {
      options.onEvent?.(clean);
    } catch {
      // A broken progress display must not break the run.
    }
  };

  const controller = new AbortController();
  const signal = controller.signal;
  const waits = new SequentialWaits(signal);
  const onUserAbort = () =>
    controller.abort(
      new ConnectorAbortedError(
        `Connector task "${task.name}" (${taskType}) was aborted; its external job was deleted.`,
        { taskType },
        { cause: options.signal?.reason },
      ),
    );
  options.signal?.addEventListener('abort', onUserAbort, { once: true });
  if (options.signal?.aborted) onUserAbort();
  let cancelTimeout: (() => void) | undefined;

  // The job we are responsible for: set from `create` until it reaches a terminal phase.
  let live:
    | { connector: AnyConnector; meta: ResourceMeta; secrets: Record<string, string> }
    | undefined;
  // Whether the state store holds the live job, so that a rerun can find it again; `saving`
  // while its record is being written.
  let recorded = false;
  let saving: Promise<void> | undefined;
  let lastPhase: Phase = Phase.UNDEFINED;
  const deleteTimeout = options.deleteTimeout ?? 10_000;
  // Whether the live job's deletion worked, once it was asked for: one `delete` per job.
  let deletion: Promise<boolean> | undefined;
  const deleteOnce = (job: NonNullable<typeof live>): Promise<boolean> => {
    deletion ??= (async () => {
      const bound = AbortSignal.timeout(deleteTimeout);
      try {
        await raceAbort(
          job.connector.delete({ resourceMeta: job.meta, secrets: job.secrets, signal: bound }),
          bound,
        );
        return true;
      } catch {
        // Best effort: the run is already failing, with its own reason.
        return false;
      }
    })();
    return deletion;
  };

  const store = options.stateStore;
  const runId = options.runId ?? '';
  try {
    checkRunOptions(task, options);
    const { timeout } = options;
    if (timeout !== undefined) {
      cancelTimeout = afterDelay(timeout, () =>
        controller.abort(
          new ConnectorTimeoutError(
            `Connector task "${task.name}" (${taskType}) did not finish within ${timeout} ms; its external job was deleted. Raise the timeout or check the job's logs.`,
            { taskType, timeoutMs: timeout },
          ),
        ),
      );
    }
    signal.throwIfAborted();
    const parsedInputs = parseOrFail(task, 'inputs', task.interface.inputs, rawInputs);
    const connector =
      options.connector ??
      (options.registry ?? defaultRegistry).getConnector(taskType, task.taskTypeVersion);
    const secrets = resolveSecrets(options);
    redactor = new SecretRedactor(secrets);
    const template = templateOf(task, options.templateContext ?? LOCAL_CONTEXT);
    if (store && !options.runId) {
      throw new FlyteError(
        'invalid_run_options',
        `Connector task "${task.name}": a stateStore needs a runId to find the run again. Pass runId.`,
      );
    }
    let transientLeft = transientBudget;

    const withTransientRetries = async <R>(
      call: () => Promise<R>,
      retryable: (e: unknown) => boolean,
    ) => {
      for (let failures = 0; ; failures++) {
        try {
          return await waits.race(call());
        } catch (error) {
          if (signal.aborted || !retryable(error) || transientLeft <= 0) throw error;
          transientLeft--;
          const hint = TransientConnectorError.isInstance(error)
            ? (error as TransientConnectorError).retryAfterMs
            : undefined;
          const delayMs =
            hint === undefined ? backoffDelay(failures, bounds) : clampDelay(hint, bounds);
          emit({
            type: 'retry',
            reason: 'transient',
            attempt: failures + 1,
            delayMs,
            message: (error as Error).message,
          });
          await waits.sleep(delayMs);
        }
      }
    };

    const loaded = store ? await waits.race(store.load(runId)) : undefined;
    // A store backed by a database may answer null for "no saved run".
    const stored = loaded == null ? undefined : checkStoredRun(runId, loaded);
    if (
      stored &&
      (stored.taskType !== taskType ||
        stored.taskTypeVersion !== task.taskTypeVersion ||
        stored.connector !== connector.name)
    ) {
      // Another connector's resource metadata would be decoded, or its job polled, as this one's.
      throw new FlyteError(
        'run_state_mismatch',
        `Run "${runId}" was saved for task type "${stored.taskType}" v${stored.taskTypeVersion} by connector "${stored.connector}", not "${taskType}" v${task.taskTypeVersion} by "${connector.name}". Use another runId, or remove the saved run from the state store.`,
        {
          details: {
            runId,
            saved: stored.taskType,
            requested: taskType,
            savedConnector: stored.connector,
            connector: connector.name,
          },
        },
      );
    }

    for (let attempt = stored?.attempt ?? 0; ; attempt++) {
      let meta: ResourceMeta;
      let reattached = false;
      // A new job: its phases are its own (a failure to create it is no RETRYABLE_FAILED).
      lastPhase = Phase.UNDEFINED;
      if (stored && attempt === stored.attempt) {
        meta = connector.decodeMeta(new TextEncoder().encode(stored.resourceMeta));
        reattached = true;
        live = { connector, meta, secrets };
        recorded = true;
      } else {
        const createJob = () => {
          const creating = connector.create({
            taskTemplate: template,
            inputs: parsedInputs,
            outputPrefix: options.outputPrefix ?? '',
            secrets,
            signal,
          });
          // If we stop waiting (abort, timeout) and the job is created anyway, delete it.
          creating.then(
            (late) => {
              if (signal.aborted && !live) void deleteOnce({ connector, meta: late, secrets });
            },
            () => {},
          );
          return creating;
        };
        meta = await withTransientRetries(createJob, (e) => TransientConnectorError.isInstance(e));
        // Ours from here: a failure before it is recorded deletes it (nobody could find it).
        live = { connector, meta, secrets };
        recorded = false;
        deletion = undefined;
        if (store) {
          saving = store.save(runId, {
            taskType,
            taskTypeVersion: task.taskTypeVersion,
            connector: connector.name,
            resourceMeta: new TextDecoder().decode(connector.encodeMeta(meta)),
            attempt,
            createdAt: new Date().toISOString(),
          });
          await waits.race(saving);
          saving = undefined;
          recorded = true;
        }
      }
      emit({ type: 'created', resourceMeta: meta, attempt, reattached });

      let resource: Resource;
      let lastLinks = '';
      let lastMessage: string | undefined;
      for (let poll = 0; ; poll++) {
        resource = await withTransientRetries(
          () => connector.get({ resourceMeta: meta, secrets, signal }),
          isTransientError,
        );
        if (resource.phase !== lastPhase || resource.message !== lastMessage) {
          lastPhase = resource.phase;
          lastMessage = resource.message;
          emit({
            type: 'phase',
            phase: resource.phase,
            phaseName: phaseName(resource.phase),
            message: resource.message,
          });
        }
        const links = resource.logLinks ?? [];
        const linksKey = JSON.stringify(links);
        if (links.length > 0 && linksKey !== lastLinks) {
          lastLinks = linksKey;
          emit({ type: 'logLinks', logLinks: links });
        }
        if (isTerminalPhase(resource.phase)) break;
        const delayMs =
          resource.nextPollAfterMs === undefined
            ? backoffDelay(poll, bounds)
            : clampDelay(resource.nextPollAfterMs, bounds);
        await waits.sleep(delayMs);
      }
      // The job is over: nothing of ours is left running.
      live = undefined;
      recorded = false;
      if (store) await waits.race(store.remove(runId));

      if (resource.phase === Phase.SUCCEEDED) {
        const outputs = parseOrFail(
          task,
          'outputs',
          task.interface.outputs,
          resource.outputs ?? {},
        );
        emit({ type: 'done', phase: resource.phase, phaseName: phaseName(resource.phase) });
        return outputs as z.output<T['interface']['outputs']>;
      }
      // `attempt` counts the run's jobs, those made before a re-attach included.
      if (resource.phase === Phase.RETRYABLE_FAILED && attempt < retries) {
        const delayMs = backoffDelay(attempt, bounds);
        emit({
          type: 'retry',
          reason: 'recreate',
          attempt: attempt + 1,
          delayMs,
          message: resource.message ?? '',
        });
        await waits.sleep(delayMs);
        continue;
      }
      const links = redactor.value(resource.logLinks ?? []);
      throw new ConnectorTaskFailedError(
        `Connector task "${task.name}" (${taskType}) ended ${phaseName(resource.phase)}${resource.message ? `: ${resource.message.replace(/\.$/, '')}` : ''}${links.length ? `. Logs: ${links.map((l) => l.uri).join(', ')}` : ''}`,
        {
          phase: resource.phase,
          connectorMessage: resource.message ?? '',
          logLinks: links,
          taskType,
          attempts: attempt + 1,
        },
      );
    }
  } catch (error) {
    // What the run failed with is settled first: a timeout that fires during the clean-up below
    // must not replace it. A job that succeeded but whose outputs did not fit, or an earlier
    // job's phase, is no phase of this failure.
    cancelTimeout?.();
    const aborted = signal.aborted;
    const failure = aborted ? signal.reason : error;
    const finalPhase = aborted
      ? Phase.ABORTED
      : isTerminalPhase(lastPhase) && lastPhase !== Phase.SUCCEEDED
        ? lastPhase
        : Phase.FAILED;
    // A job left running is deleted when the run was aborted or timed out, and when nothing
    // records it (no state store, or saving failed): nobody could find it again. A recorded job
    // outlives any other failure, for a rerun to re-attach to; its record goes only once the job
    // is gone (a job whose deletion failed keeps it, for a rerun to find and delete the job).
    if (live && (aborted || !recorded)) {
      const gone = await deleteOnce(live);
      if (gone && store && (recorded || saving)) {
        // A save still in flight is let finish first: landing after the removal, it would point a
        // rerun at the deleted job.
        const inFlight = saving;
        const removal = (async () => {
          await inFlight?.catch(() => {});
          await store.remove(runId);
        })();
        await raceAbort(removal, AbortSignal.timeout(deleteTimeout)).catch(() => {});
      }
    }
    // A connector may throw anything: what leaves the run is an Error with no secret in it.
    const clean = redactor.error(failure instanceof Error ? failure : new Error(String(failure)));
    emit({
      type: 'done',
      phase: finalPhase,
      phaseName: phaseName(finalPhase),
      error: clean,
    });
    throw clean;
  } finally {
    waits.dispose();
    cancelTimeout?.();
    options.signal?.removeEventListener('abort', onUserAbort);
  }
}

// Building a template converts the whole interface (JSON Schemas included); a task's template
// does not change between runs, so each task builds it once per context.
const templates = new WeakMap<ConnectorTaskLike, Map<string, TaskTemplate>>();
function templateOf(task: ConnectorTaskLike, context: TaskTemplateContext): TaskTemplate {
  let byContext = templates.get(task);
  if (!byContext) {
    byContext = new Map();
    templates.set(task, byContext);
  }
  const key = JSON.stringify([context.project, context.domain, context.version, context.org ?? '']);
  let template = byContext.get(key);
  if (!template) {
    template = task.toTaskTemplate(context);
    byContext.set(key, template);
  }
  return template;
}

function parseOrFail(
  task: ConnectorTaskLike,
  stage: 'inputs' | 'outputs',
  schema: z.ZodType,
  value: unknown,
): Record<string, unknown> {
  return parseTaskIo(schema, value, {
    task: task.name,
    stage,
    kind: 'Connector task',
    ...(stage === 'outputs'
      ? { hint: 'The connector returned outputs that do not match the task interface.' }
      : {}),
  }) as Record<string, unknown>;
}
