import {
  captureDefinitionSite,
  createTaskTemplate,
  type DefinitionSite,
  FlyteError,
  parseTaskIo,
  type TaskDefinition,
  type TaskInterface,
  type TaskRunOptions,
  type TaskTemplateContext,
  typedInterfaceOf,
} from '@flyte/idl';
import type { TaskTemplate } from '@flyte/idl/core';
import { z } from 'zod';
import { NondeterminismError, OrchestratorError } from './errors';
import { buildDirectPrelude, buildPrelude } from './guest-prelude';
import { firstSourcePosition, mapGuestStack } from './guest-stack';
import type { Journal, JournalEntry } from './journal';
import { type OrchestratorLimits, resolveLimits } from './limits';
import { loadEngine, loadedEngine, type QuickJSEngine } from './quickjs-engine';
import {
  type GuestOutcome,
  type HostBridge,
  SandboxSession,
  type SessionMode,
} from './sandbox-session';
import {
  adaptTask,
  ORCHESTRATOR_BRAND,
  type OrchestratorTask,
  type TaskInvoker,
} from './task-adapter';
import { type CompiledSource, validateOrchestratorSource } from './validate';
import { sharedWorkerExecutor } from './worker-executor';

/** The task type an orchestrator's template carries. */
export const ORCHESTRATOR_TASK_TYPE = 'sandboxed-javascript';

/** Options of one run. */
export interface OrchestratorRunOptions extends TaskRunOptions {
  /**
   * Records every task call. Pass an empty journal (`createJournal()`) to record; pass a recorded
   * one to replay: recorded calls return their recorded results without running the task, then the
   * run continues live (and keeps recording into the same object).
   */
  journal?: Journal | undefined;
  /** Seed of `Math.random` in the guest. Default: derived from the inputs. */
  seed?: number | undefined;
}

/** Reuse of QuickJS contexts between runs of one orchestrator. */
export interface OrchestratorPoolOptions {
  /** How many idle contexts to keep. Their intrinsics are frozen and no state survives a run. */
  size: number;
}

/** What {@link orchestrator} needs. */
export interface OrchestratorOptions<I extends z.ZodRawShape, O extends z.ZodType> {
  /** Unique within a project, for example `"etl.fan_out"`. */
  name: string;
  /** The body of an async function whose parameters are the inputs (see `ORCHESTRATOR_SYNTAX_GUIDE`). */
  source: string;
  /** The inputs, as a zod object shape: their names are the function's parameters, in this order. */
  inputs: I;
  /** The schema of the output value. */
  output: O;
  /** The tasks the code may call, by the name it calls them with. */
  tasks?: Readonly<Record<string, OrchestratorTask>>;
  /** Resource limits of each run; unset fields take `DEFAULT_LIMITS`. */
  limits?: OrchestratorLimits;
  /** Keep up to `size` contexts between runs instead of a fresh runtime per run. */
  pool?: OrchestratorPoolOptions;
  /**
   * Where the QuickJS sandbox runs. `'in-process'` (default, fastest): in this thread.
   * `'worker'`: in a shared pool of worker threads, each with its own WebAssembly module, so that
   * an abort inside QuickJS kills one worker, not the host. Tasks run in this thread either way.
   * Not combinable with `pool`.
   */
  isolation?: OrchestratorIsolation;
}

/** Where an orchestrator's sandbox runs; see `OrchestratorOptions.isolation`. */
export type OrchestratorIsolation = 'in-process' | 'worker';

function executorFor(
  name: string,
  isolation: OrchestratorIsolation | undefined,
  pool: OrchestratorPoolOptions | undefined,
): RunExecutor {
  if (isolation !== undefined && isolation !== 'in-process' && isolation !== 'worker') {
    throw new FlyteError(
      'invalid_orchestrator',
      `Orchestrator "${name}": isolation is ${JSON.stringify(isolation)}; use 'in-process' or 'worker'.`,
    );
  }
  if (isolation === 'worker') {
    if (pool) {
      throw new FlyteError(
        'invalid_orchestrator',
        `Orchestrator "${name}": pool and isolation: 'worker' cannot be combined (worker runs always get a fresh context); drop one of them.`,
      );
    }
    return sharedWorkerExecutor();
  }
  if (pool === undefined) return inProcessFresh;
  if (!(Number.isInteger(pool.size) && pool.size >= 1)) {
    throw new FlyteError(
      'invalid_orchestrator',
      `Orchestrator "${name}": pool.size is ${String(pool.size)}; give a whole number of at least 1, or leave pool out for a fresh context per run.`,
    );
  }
  return new InProcessExecutor(pool.size);
}

/** The outputs schema of an orchestrator: the Flyte convention of one output named `o0`. */
export type OrchestratorOutputs<O extends z.ZodType> = z.ZodObject<{ o0: O }>;

/**
 * Orchestration logic that runs in a QuickJS sandbox, described as a Flyte task.
 *
 * It carries every field of a `TaskDefinition` (name, task type `sandboxed-javascript`, typed
 * interface, `definedAt`, `toTaskTemplate`). Its `interface.outputs` follows Flyte's convention for
 * a single output: an object with one output named `o0` holding the `output` schema. `run()`,
 * though, returns the output value itself, not `{ o0: value }`; {@link Orchestrator.toTaskDefinition}
 * gives a view whose `run` returns `{ o0 }` for code that expects the plain contract. Other
 * orchestrators accept an orchestrator in `tasks` directly and get its value.
 */
export interface Orchestrator<
  I extends z.ZodRawShape = z.ZodRawShape,
  O extends z.ZodType = z.ZodType,
> extends Omit<TaskDefinition<z.ZodObject<I>, OrchestratorOutputs<O>>, 'run'> {
  /** The source as given. */
  readonly source: string;
  /** The limits every run gets. */
  readonly limits: Readonly<Required<OrchestratorLimits>>;
  /**
   * Runs the orchestrator. Inputs are checked with their zod schemas first, the output after.
   * Resolves to the output value itself (not `{ o0 }`). Rejects with `OrchestratorError` (code or
   * task failed), `SandboxLimitError` (a limit was hit), `NondeterminismError` (a replayed
   * journal diverged) or the signal's reason.
   */
  run(inputs: z.input<z.ZodObject<I>>, options?: OrchestratorRunOptions): Promise<z.output<O>>;
  /** A `TaskDefinition` view whose `run` resolves to `{ o0: output }`. */
  toTaskDefinition(): TaskDefinition<z.ZodObject<I>, OrchestratorOutputs<O>>;
  /** Frees pooled contexts. The orchestrator stays usable; later runs create new ones. */
  dispose(): void;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED = new Set(
  'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await async eval arguments map undefined NaN Infinity'.split(
    ' ',
  ),
);

function checkNames(
  name: string,
  kind: string,
  names: readonly string[],
  taken: Set<string>,
): void {
  for (const n of names) {
    if (!IDENTIFIER.test(n) || RESERVED.has(n)) {
      throw new FlyteError(
        'invalid_orchestrator',
        `Orchestrator "${name}": ${kind} name ${JSON.stringify(n)} is not usable as a JavaScript variable name; rename it to a plain identifier (letters, digits, _ and $, not a keyword, not "map").`,
        { details: { orchestrator: name, [kind]: n } },
      );
    }
    if (taken.has(n)) {
      throw new FlyteError(
        'invalid_orchestrator',
        `Orchestrator "${name}": ${JSON.stringify(n)} is both an input and a task; rename one of them.`,
        { details: { orchestrator: name, name: n } },
      );
    }
    taken.add(n);
  }
}

/** An orchestrator checked and compiled once, ready to run many times. */
export interface PreparedOrchestrator {
  name: string;
  compiled: CompiledSource;
  inputNames: readonly string[];
  taskNames: readonly string[];
  invokers: ReadonlyMap<string, TaskInvoker>;
  limits: Readonly<Required<OrchestratorLimits>>;
  /** The prelude for fresh contexts and for pooled ones (frozen intrinsics). */
  preludes: { fresh: string; pooled: string };
  /**
   * For synchronous code: the preludes of the direct call path (`buildDirectPrelude`), used in
   * this thread when the engine passed its self-test.
   */
  directPreludes: { fresh: string; pooled: string; host: boolean } | undefined;
  /** Whether the code names `Math`, so that runs must seed `Math.random`. */
  usesMath: boolean;
}

/** Validates names and source and adapts the tasks. Throws before anything runs. */
export function prepareOrchestrator(
  name: string,
  source: string,
  inputNames: readonly string[],
  tasks: Readonly<Record<string, OrchestratorTask>>,
  limits: OrchestratorLimits | undefined,
): PreparedOrchestrator {
  if (typeof name !== 'string' || !name.trim()) {
    throw new FlyteError('invalid_orchestrator', 'orchestrator: name must be a non-empty string.');
  }
  if (typeof source !== 'string') {
    throw new FlyteError(
      'invalid_orchestrator',
      `Orchestrator "${name}": source must be a string of JavaScript, got ${typeof source}.`,
    );
  }
  const taskNames = Object.keys(tasks);
  const taken = new Set<string>();
  checkNames(name, 'input', inputNames, taken);
  checkNames(name, 'task', taskNames, taken);
  const invokers = new Map(taskNames.map((t) => [t, adaptTask(t, tasks[t] as OrchestratorTask)]));
  const resolved = resolveLimits(name, limits);
  const compiled = validateOrchestratorSource(source, {
    name,
    inputs: inputNames,
    tasks: taskNames,
  });
  const asynchronous = !compiled.synchronous;
  const direct = {
    math: compiled.builtins.has('Math'),
    json: compiled.builtins.has('JSON'),
  };
  return {
    name,
    compiled,
    inputNames,
    taskNames,
    invokers,
    limits: resolved,
    preludes: {
      fresh: buildPrelude({ asynchronous, freezeIntrinsics: false, taskNames }),
      pooled: buildPrelude({ asynchronous, freezeIntrinsics: true, taskNames }),
    },
    directPreludes: compiled.synchronous
      ? {
          fresh: buildDirectPrelude({ ...direct, freezeIntrinsics: false }),
          pooled: buildDirectPrelude({ ...direct, freezeIntrinsics: true }),
          host: direct.json,
        }
      : undefined,
    usesMath: direct.math,
  };
}

/** What the runner reads: `"<seed>|<inputs as a JSON array>"`. */
function requestOf(
  values: readonly unknown[],
  seed: number | undefined,
  inputsJson: string | undefined,
): string {
  return `${seed ?? 0}|${inputsJson ?? JSON.stringify(values)}`;
}

/** FNV-1a over the inputs' JSON: the same inputs seed `Math.random` the same way. */
function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

function describeCall(task: string, args: string): string {
  const shown = args.length > 200 ? `${args.slice(0, 200)}...` : args;
  return `${task}(${shown.slice(1, -1)})`;
}

/** Runs a prepared orchestrator's guest code once: in this thread, or in a worker. */
export interface RunExecutor {
  /**
   * Resolves to the guest's outcome. `bridge` is absent for synchronous code, which makes no host
   * calls; so is `signal` in this thread, where nothing can abort code that holds the thread.
   */
  run(
    prepared: PreparedOrchestrator,
    request: string,
    bridge?: HostBridge,
    signal?: AbortSignal,
  ): Promise<GuestOutcome>;
  /** Frees what the executor keeps between runs. */
  dispose(): void;
}

/**
 * Runs in this thread. Without a pool, each run gets a fresh runtime and context (strict
 * isolation); with one, up to `poolSize` idle contexts with frozen intrinsics are kept and reused
 * after runs that ended cleanly.
 */
export class InProcessExecutor implements RunExecutor {
  private readonly idle: SandboxSession[] = [];

  constructor(private readonly poolSize = 0) {}

  private async acquire(prepared: PreparedOrchestrator): Promise<SandboxSession> {
    return this.acquireFrom(loadedEngine() ?? (await loadEngine()), prepared, 'runner');
  }

  private acquireFrom(
    engine: QuickJSEngine,
    prepared: PreparedOrchestrator,
    mode: SessionMode,
  ): SandboxSession {
    for (let session = this.idle.pop(); session; session = this.idle.pop()) {
      if (session.engine === engine && !engine.broken && session.mode === mode) return session;
      session.dispose();
    }
    const pooled = this.poolSize > 0;
    const { script } = prepared.compiled;
    if (mode === 'runner') {
      const { fresh, pooled: frozen } = prepared.preludes;
      return new SandboxSession(
        engine,
        prepared.name,
        script,
        prepared.limits,
        pooled ? frozen : fresh,
      );
    }
    const preludes = prepared.directPreludes;
    if (!preludes) throw new Error(`orchestrator "${prepared.name}" has no direct call path`);
    return new SandboxSession(
      engine,
      prepared.name,
      script,
      prepared.limits,
      pooled ? preludes.pooled : preludes.fresh,
      { mode, inputCount: prepared.inputNames.length, host: preludes.host },
    );
  }

  /**
   * Runs synchronous code (see `CompiledSource.synchronous`): through the direct call path when
   * the engine has one, else through the runner. `inputsJson` is the inputs' JSON when the caller
   * made it already. Returns the outcome without a promise once the engine is loaded.
   */
  runSynchronous(
    prepared: PreparedOrchestrator,
    values: readonly unknown[],
    seed: number | undefined,
    inputsJson: string | undefined,
  ): GuestOutcome | Promise<GuestOutcome> {
    const engine = loadedEngine();
    if (!engine) {
      return loadEngine().then(() => this.runSynchronous(prepared, values, seed, inputsJson));
    }
    const mode = engine.raw && prepared.directPreludes ? 'direct' : 'runner';
    const session = this.acquireFrom(engine, prepared, mode);
    let reusable = false;
    try {
      const result =
        mode === 'direct'
          ? session.executeDirect(values, seed)
          : session.executeSync(requestOf(values, seed, inputsJson));
      reusable = result.reusable;
      return result.outcome;
    } finally {
      this.release(session, reusable);
    }
  }

  private release(session: SandboxSession, reusable: boolean): void {
    if (reusable && !session.engine.broken && this.idle.length < this.poolSize) {
      this.idle.push(session);
    } else {
      session.dispose();
    }
  }

  async run(
    prepared: PreparedOrchestrator,
    request: string,
    bridge?: HostBridge,
    signal?: AbortSignal,
  ): Promise<GuestOutcome> {
    const session = await this.acquire(prepared);
    let reusable = false;
    try {
      const result =
        bridge && signal
          ? await session.execute(request, bridge, signal)
          : session.executeSync(request);
      reusable = result.reusable;
      return result.outcome;
    } finally {
      this.release(session, reusable);
    }
  }

  dispose(): void {
    for (const session of this.idle.splice(0)) session.dispose();
  }
}

const inProcessFresh = new InProcessExecutor();

const NO_FAILURES: ReadonlyMap<number, unknown> = new Map();
const NO_TASKS: ReadonlyMap<number, string> = new Map();

/**
 * Runs synchronous code (no awaits, no tasks): one call into the guest, nothing to wait for or
 * record. Returns the output value without a promise once the engine is loaded, and throws
 * (rather than rejecting) when the run fails. The inputs' JSON is made only when something needs
 * it: a journal, the seed of `Math.random`, or the runner.
 */
export function executeSynchronous(
  prepared: PreparedOrchestrator,
  inputValues: readonly unknown[],
  executor: RunExecutor,
  options: OrchestratorRunOptions,
): unknown {
  let inputsJson: string | undefined;
  if (options.journal) {
    inputsJson = JSON.stringify(inputValues);
    checkJournal(prepared.name, options.journal, inputsJson);
  }
  let seed = options.seed;
  if (seed === undefined && prepared.usesMath) {
    inputsJson ??= JSON.stringify(inputValues);
    seed = seedOf(inputsJson);
  }
  const pending =
    executor instanceof InProcessExecutor
      ? executor.runSynchronous(prepared, inputValues, seed, inputsJson)
      : // A worker's run can be aborted while it computes: the signal goes with it.
        executor.run(prepared, requestOf(inputValues, seed, inputsJson), undefined, options.signal);
  if (pending instanceof Promise) {
    return pending.then((outcome) => settleOutcome(prepared, outcome, NO_FAILURES, NO_TASKS));
  }
  return settleOutcome(prepared, pending, NO_FAILURES, NO_TASKS);
}

/**
 * Runs a prepared orchestrator once with the inputs as a JSON array in parameter order. Returns
 * the output value decoded from JSON (`undefined` when the code returned nothing).
 */
export async function executeOrchestration(
  prepared: PreparedOrchestrator,
  inputValues: readonly unknown[],
  executor: RunExecutor,
  options: OrchestratorRunOptions = {},
): Promise<unknown> {
  const { name } = prepared;
  const journal = options.journal;
  options.signal?.throwIfAborted();
  if (prepared.compiled.synchronous) {
    const value = executeSynchronous(prepared, inputValues, executor, options);
    return value instanceof Promise ? await value : value;
  }

  const inputsJson = JSON.stringify(inputValues);
  if (journal) checkJournal(name, journal, inputsJson);
  const request = `${options.seed ?? seedOf(inputsJson)}|${inputsJson}`;

  const recorded = new Map<number, JournalEntry>(journal?.calls.map((e) => [e.sequence, e]));
  const failures = new Map<number, unknown>();
  const taskOfCall = new Map<number, string>();
  const internal = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, internal.signal])
    : internal.signal;
  let divergence: NondeterminismError | undefined;

  const callTask = async (task: string, args: string, sequence: number): Promise<string> => {
    const entry = recorded.get(sequence);
    if (entry) {
      if (entry.task !== task || entry.args !== args) {
        divergence ??= new NondeterminismError(name, {
          sequence,
          expected: describeCall(entry.task, entry.args),
          received: describeCall(task, args),
        });
        internal.abort(divergence);
        throw divergence;
      }
      if (entry.error) {
        const replayed = new Error(entry.error.message);
        replayed.name = entry.error.name;
        throw replayed;
      }
      return entry.result ?? 'null';
    }
    const invoke = prepared.invokers.get(task);
    if (!invoke) throw new Error(`the sandbox asked for a task that is not declared: ${task}`);
    try {
      signal.throwIfAborted();
      const result = await invoke(args, signal);
      journal?.calls.push({ sequence, task, args, result });
      return result;
    } catch (error) {
      if (!signal.aborted) {
        const e = error instanceof Error ? error : new Error(String(error));
        journal?.calls.push({ sequence, task, args, error: { name: e.name, message: e.message } });
      }
      throw error;
    }
  };
  const bridge: HostBridge = {
    async call(task, args, sequence) {
      taskOfCall.set(sequence, task);
      try {
        return await callTask(task, args, sequence);
      } catch (error) {
        failures.set(sequence, error);
        throw error;
      }
    },
  };

  try {
    const outcome = await executor
      .run(prepared, request, bridge, signal)
      .catch((error: unknown) => {
        throw divergence ?? error;
      });
    if (divergence) throw divergence;
    return settleOutcome(prepared, outcome, failures, taskOfCall);
  } finally {
    internal.abort(new Error(`orchestrator "${name}" run ended`));
  }
}

function checkJournal(name: string, journal: Journal, inputsJson: string): void {
  if (journal.version !== 1 || !Array.isArray(journal.calls)) {
    throw new FlyteError(
      'invalid_journal',
      `Orchestrator "${name}": the journal is not a version 1 journal ({ version: 1, calls: [] }); pass createJournal() or a journal a run wrote.`,
    );
  }
  if (journal.inputs !== undefined && journal.inputs !== inputsJson) {
    throw new NondeterminismError(name, {
      sequence: -1,
      expected: `inputs ${journal.inputs}`,
      received: `inputs ${inputsJson}`,
    });
  }
  journal.inputs = inputsJson;
}

/** Turns the guest's outcome into the output value, or the error a user can act on. */
function settleOutcome(
  prepared: PreparedOrchestrator,
  outcome: GuestOutcome,
  failures: ReadonlyMap<number, unknown>,
  tasks: ReadonlyMap<number, string>,
): unknown {
  if (outcome.ok) {
    if ('primitive' in outcome) return outcome.primitive;
    return outcome.json === undefined ? undefined : JSON.parse(outcome.json);
  }
  const { name, compiled } = prepared;
  const error = outcome.error;
  if (typeof error.taskCall === 'number' && error.taskCall >= 0) {
    const callSite = firstSourcePosition(compiled, error.callStack ?? '');
    const task = error.task || tasks.get(error.taskCall);
    const cause = failures.get(error.taskCall);
    const where = callSite ? ` at ${name}:${callSite.line}:${callSite.column}` : '';
    const guestStack = mapGuestStack(name, compiled, error.callStack ?? '');
    throw new OrchestratorError(
      `Orchestrator "${name}": task "${task}" called${where} failed: ${cause instanceof Error ? cause.message : error.message}${guestStack ? `\n${guestStack}` : ''}`,
      { orchestrator: name, guestStack, callSite, task, cause },
    );
  }
  const position = firstSourcePosition(compiled, error.stack);
  const guestStack = mapGuestStack(name, compiled, error.stack);
  throw new OrchestratorError(
    `Orchestrator "${name}" threw${position ? ` at ${name}:${position.line}:${position.column}` : ''}: ${error.name}: ${error.message}${guestStack ? `\n${guestStack}` : ''}`,
    { orchestrator: name, guestStack, callSite: position },
  );
}

/**
 * Creates an orchestrator: pure orchestration logic, written as the body of an async JavaScript
 * function, that runs in a QuickJS sandbox and reaches the world only through `tasks`. The source
 * is validated and compiled once, here; a source that breaks a rule of
 * `ORCHESTRATOR_SYNTAX_GUIDE` throws `OrchestratorValidationError` now.
 *
 * @example
 * const sum = orchestrator({
 *   name: 'math.sum_of_doubles',
 *   inputs: { xs: z.array(z.number()) },
 *   output: z.number(),
 *   tasks: { double: async (x: number) => x * 2 },
 *   source: `
 *     const doubled = await Promise.all(xs.map((x) => double(x)));
 *     doubled.reduce((a, b) => a + b, 0)
 *   `,
 * });
 * await sum.run({ xs: [1, 2, 3] }); // 12
 */
export function orchestrator<I extends z.ZodRawShape, O extends z.ZodType>(
  options: OrchestratorOptions<I, O>,
): Orchestrator<I, O> {
  const definedAt: DefinitionSite | undefined = captureDefinitionSite(orchestrator);
  const inputSchema = z.object(options.inputs);
  const outputs = z.object({ o0: options.output }) as OrchestratorOutputs<O>;
  const iface: TaskInterface<z.ZodObject<I>, OrchestratorOutputs<O>> = {
    inputs: inputSchema,
    outputs,
  };
  const inputNames = Object.keys(options.inputs);
  const prepared = prepareOrchestrator(
    options.name,
    options.source,
    inputNames,
    options.tasks ?? {},
    options.limits,
  );
  // Fails now, not at registration, when a schema has no flyteidl2 type.
  typedInterfaceOf(iface);
  const executor = executorFor(options.name, options.isolation, options.pool);
  const inputBoundary = { task: options.name, stage: 'inputs', kind: 'Orchestrator' } as const;
  const outputBoundary = { task: options.name, stage: 'output', kind: 'Orchestrator' } as const;
  const output = (value: unknown): z.output<O> =>
    parseTaskIo(options.output, value, outputBoundary);
  const taskTypes = Object.fromEntries(
    Object.entries(options.tasks ?? {}).map(
      ([t, task]) => [t, typeof task === 'function' ? 'function' : task.taskType] as const,
    ),
  );

  const self: Orchestrator<I, O> & { [ORCHESTRATOR_BRAND]: true } = {
    [ORCHESTRATOR_BRAND]: true,
    name: options.name,
    taskType: ORCHESTRATOR_TASK_TYPE,
    taskTypeVersion: 1,
    interface: iface,
    definedAt,
    source: options.source,
    limits: prepared.limits,
    run(inputs, runOptions = {}) {
      try {
        runOptions.signal?.throwIfAborted();
        const parsed = parseTaskIo(inputSchema, inputs, inputBoundary) as Record<string, unknown>;
        const values = inputNames.map((n) => parsed[n]);
        if (!prepared.compiled.synchronous) {
          return executeOrchestration(prepared, values, executor, runOptions).then(output);
        }
        // Synchronous code settles without a promise in between: one promise for the caller.
        const value = executeSynchronous(prepared, values, executor, runOptions);
        return value instanceof Promise ? value.then(output) : Promise.resolve(output(value));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    toTaskDefinition() {
      return {
        name: self.name,
        taskType: self.taskType,
        taskTypeVersion: self.taskTypeVersion,
        interface: iface,
        definedAt,
        run: async (inputs, runOptions) =>
          ({ o0: await self.run(inputs, runOptions) }) as z.output<OrchestratorOutputs<O>>,
        toTaskTemplate: (context) => self.toTaskTemplate(context),
      };
    },
    toTaskTemplate(context: TaskTemplateContext): TaskTemplate {
      return createTaskTemplate(self, context, {
        custom: {
          language: 'javascript',
          engine: 'quickjs',
          source: options.source,
          inputOrder: inputNames,
          tasks: taskTypes,
          limits: { ...prepared.limits },
          ...(options.pool ? { pool: { size: options.pool.size } } : {}),
        },
      });
    },
    dispose() {
      if (executor instanceof InProcessExecutor && executor !== inProcessFresh) executor.dispose();
    },
  };
  return self;
}

/** What {@link orchestrateLocal} needs. */
export interface OrchestrateLocalOptions extends OrchestratorRunOptions {
  /** Input values by name: the names are the function's parameters. */
  inputs?: Readonly<Record<string, unknown>>;
  /** The tasks the code may call. */
  tasks?: Readonly<Record<string, OrchestratorTask>>;
  /** Resource limits; unset fields take `DEFAULT_LIMITS`. */
  limits?: OrchestratorLimits;
  /** Where the sandbox runs; see `OrchestratorOptions.isolation`. */
  isolation?: OrchestratorIsolation;
}

/**
 * Validates and runs orchestrator source once, without creating a task: for scripts, tests and
 * code written on the fly (for example by a model). Inputs are plain JSON values; the result is
 * the output value. Same rules, limits and errors as {@link orchestrator}.
 *
 * @example
 * await orchestrateLocal('await add(x, 1)', { inputs: { x: 41 }, tasks: { add: async (a, b) => a + b } }); // 42
 */
export async function orchestrateLocal(
  source: string,
  options: OrchestrateLocalOptions = {},
): Promise<unknown> {
  const inputs = options.inputs ?? {};
  const inputNames = Object.keys(inputs);
  const prepared = prepareOrchestrator(
    'orchestrateLocal',
    source,
    inputNames,
    options.tasks ?? {},
    options.limits,
  );
  const executor = executorFor('orchestrateLocal', options.isolation, undefined);
  return executeOrchestration(
    prepared,
    inputNames.map((n) => inputs[n]),
    executor,
    options,
  );
}
