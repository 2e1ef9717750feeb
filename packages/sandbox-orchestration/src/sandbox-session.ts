import { FlyteError } from '@flyte/idl';
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import { OrchestratorError, SandboxLimitError, type SandboxLimitName } from './errors';
import {
  DIRECT_LAZY,
  DISALLOWED_GLOBALS,
  FATAL_HOOK,
  FATAL_PENDING,
  HostOp,
  LAZY_PRELUDE,
} from './guest-prelude';
import type { OrchestratorLimits } from './limits';
import { CONTEXT_INTRINSICS, type QuickJSEngine } from './quickjs-engine';
import {
  canPassAsCString,
  contextPointer,
  pointerOf,
  type RawQuickJS,
  ValueKind,
} from './quickjs-raw';

/** How a session reaches the host: one task call, identified by its sequence number. */
export interface HostBridge {
  /** Runs (or replays) one task call; resolves to the JSON text of its result. */
  call(task: string, argsJson: string, sequence: number): Promise<string>;
}

/** What the guest's run resolved to, decoded. */
export type GuestOutcome =
  | { ok: true; json: string | undefined }
  /** A primitive result the direct call path read from QuickJS's memory. */
  | { ok: true; primitive: string | number | boolean | null }
  | { ok: false; error: GuestErrorDescription };

/** How a session's code is called (see `buildPrelude` and `buildDirectPrelude`). */
export type SessionMode = 'runner' | 'direct';

/** How a session is made (the defaults make a runner session). */
export interface SessionOptions {
  mode?: SessionMode;
  /** Direct sessions: how many inputs the orchestrator's function takes. */
  inputCount?: number;
  /** Direct sessions: whether the prelude calls the host function (code that names JSON). */
  host?: boolean;
  /**
   * Set to non-zero by another thread to stop the run: the interrupt handler reads it, so a worker
   * computing synchronously stops although it cannot receive the host's abort message.
   */
  abortFlag?: Int32Array;
}

/** Bytes of the buffer in QuickJS's memory through which short strings reach the guest. */
const SCRATCH_BYTES = 1024;

/** What the direct call path of one session holds: pointers into QuickJS's memory. */
interface DirectPath {
  readonly raw: RawQuickJS;
  readonly ctx: number;
  readonly fn: number;
  /** `seed(n)` of the prelude, 0 when the code does not name Math. */
  readonly seed: number;
  readonly undefinedValue: number;
  readonly nullValue: number;
  readonly trueValue: number;
  readonly falseValue: number;
  /** The argument vector (one pointer per input), allocated once. */
  readonly argv: number;
  /** A one-pointer argument vector for the prelude's helpers, apart from `argv`. */
  readonly helperArgv: number;
  readonly scratch: number;
  /** The guest string "length", to read a string result's length. */
  readonly lengthKey: number;
  /** Guest values this run made for its arguments, freed after the call (0: nothing to free). */
  readonly owned: Int32Array;
  /** The lazy functions (`DIRECT_LAZY`), fetched on first need. */
  lazy?: { ingest: number; encode: number; describe: number };
}

/** An input that is not a primitive, as the JSON text the guest parses and deep-freezes. */
class JsonInput {
  constructor(readonly text: string) {}
}

/** A guest error as the prelude describes it (plain JSON, no guest references). */
export interface GuestErrorDescription {
  name: string;
  message: string;
  stack: string;
  internal?: boolean;
  taskCall?: number;
  task?: string;
  callStack?: string;
}

import { GUEST_FILE, PRELUDE_FILE } from './guest-stack';

interface Settlement {
  deferred: ReturnType<QuickJSContext['newPromise']>;
  /** JSON text to resolve with, or the failure to reject with. */
  json?: string;
  failure?: { sequence: number; message: string };
}

/** The state of the one run a session is executing. */
class RunState {
  nextSequence = 0;
  inflight = 0;
  readonly settled: Settlement[] = [];
  limitHit: SandboxLimitError | undefined;
  fatal: OrchestratorError | undefined;
  cpuUsedMs = 0;
  memoryGrowth = 0;
  /** `performance.now()` past which the run is over its wall-clock limit. */
  deadline = 0;
  closed = false;
  private wake: (() => void) | undefined;

  constructor(
    readonly bridge: HostBridge,
    readonly signal: AbortSignal,
  ) {}

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves when a host call settles, the run is aborted, or it hit a limit. */
  waitForWork(): Promise<void> {
    if (this.settled.length > 0 || this.limitHit || this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }
}

/**
 * One QuickJS runtime and context with the prelude loaded and the orchestrator's code compiled,
 * able to execute runs one at a time. A session whose run hit a limit, failed, or was aborted is
 * disposed by its owner and never reused.
 */
export class SandboxSession {
  private readonly runtime: QuickJSRuntime;
  private readonly context: QuickJSContext;
  private readonly handles: QuickJSHandle[] = [];
  /** Buffers this session allocated in QuickJS's memory, freed with it. */
  private readonly allocations: number[] = [];
  private readonly runner: QuickJSHandle;
  private readonly fn: QuickJSHandle;
  private run: RunState | undefined;
  private lazy: QuickJSHandle | undefined;
  private host: QuickJSHandle | undefined;
  private readonly direct: DirectPath | undefined;
  /** How this session's code is called. */
  readonly mode: SessionMode;
  private sliceStart = 0;
  private sliceMemoryStart = 0;
  private disposed = false;
  private readonly abortFlag: Int32Array | undefined;
  /** The guest's fatal hook and the name of its count (asynchronous code), fetched on first use. */
  private fatalHook: { hook: QuickJSHandle; pending: QuickJSHandle } | null | undefined;
  /** Guest promises handed out for host calls and not settled yet; freed before the runtime. */
  private readonly pending = new Set<Settlement['deferred']>();

  constructor(
    readonly engine: QuickJSEngine,
    private readonly name: string,
    script: string,
    private readonly limits: Readonly<Required<OrchestratorLimits>>,
    prelude: string,
    options: SessionOptions = {},
  ) {
    this.mode = options.mode ?? 'runner';
    this.abortFlag = options.abortFlag;
    this.runtime = engine.module.newRuntime();
    try {
      this.runtime.setMemoryLimit(limits.memoryBytes);
      this.runtime.setMaxStackSize(limits.stackBytes);
      this.runtime.setInterruptHandler(() => this.shouldInterrupt());
      this.context = this.runtime.newContext({ intrinsics: CONTEXT_INTRINSICS });
      const ctx = this.context;
      // One host function for every operation: each function handed to QuickJS costs a crossing
      // per context, and a fresh context is made per run.
      const host = this.mode === 'runner' || options.host ? this.hostFunction() : ctx.undefined;
      const setup = this.keep(this.unwrap(ctx.evalCode(prelude, PRELUDE_FILE)));
      this.runner = this.keep(this.unwrap(ctx.callFunction(setup, ctx.undefined, host)));
      this.fn = this.keep(this.unwrap(ctx.evalCode(script, GUEST_FILE)));
      if (this.mode === 'direct') this.direct = this.openDirect(options.inputCount ?? 0);
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  private openDirect(inputCount: number): DirectPath {
    const raw = this.engine.raw;
    const ctx = contextPointer(this.context);
    if (!raw || ctx === undefined) {
      throw new Error('SandboxSession: the direct call path is not available for this engine');
    }
    const seed = this.keep(this.context.getProp(this.runner, 1));
    const argv = raw.malloc(4 * (inputCount + 1));
    const scratch = raw.malloc(SCRATCH_BYTES);
    this.allocations.push(argv, scratch);
    const { ffi } = raw;
    const direct: DirectPath = {
      raw,
      ctx,
      fn: pointerOf(this.fn),
      seed: this.context.typeof(seed) === 'function' ? pointerOf(seed) : 0,
      undefinedValue: ffi.QTS_GetUndefined(),
      nullValue: ffi.QTS_GetNull(),
      trueValue: ffi.QTS_GetTrue(),
      falseValue: ffi.QTS_GetFalse(),
      argv,
      helperArgv: argv + 4 * inputCount,
      scratch,
      lengthKey: pointerOf(this.keep(this.context.newString('length'))),
      owned: new Int32Array(inputCount),
    };
    this.lockDown(direct);
    const freezeAll = this.keep(this.context.getProp(this.runner, 3));
    if (this.context.typeof(freezeAll) === 'function') {
      this.keep(this.unwrap(this.context.callFunction(freezeAll, this.context.undefined)));
    }
    return direct;
  }

  /**
   * What the runner's prelude does in guest code, done through the FFI for a direct session
   * (compiling it would cost a fresh run more than the rest of its prelude): the four kinds of
   * function lose their `constructor`, and every disallowed global becomes undefined. The guest
   * cannot reach the global object, so a global set to undefined is as gone as a deleted one; a
   * pooled context is frozen right after.
   */
  private lockDown(direct: DirectPath): void {
    const { raw, ctx, scratch } = direct;
    const { ffi } = raw;
    const key = (name: string): number => {
      const pointer = raw.newString(ctx, name, scratch, SCRATCH_BYTES);
      if (pointer === 0 || raw.kindOf(pointer) === ValueKind.Exception) {
        throw new Error(`SandboxSession: QuickJS could not allocate the name ${name}`);
      }
      return pointer;
    };
    const prototypes = this.keep(this.context.getProp(this.runner, 2));
    const constructorKey = key('constructor');
    try {
      for (let i = 0; i < 4; i++) {
        const prototype = ffi.QTS_GetPropNumber(ctx, pointerOf(prototypes), i);
        // Defined, not set: the constructor of the async and generator kinds is read-only.
        const none = direct.undefinedValue;
        ffi.QTS_DefineProp(ctx, prototype, constructorKey, none, none, none, false, false, true);
        ffi.QTS_FreeValuePointer(ctx, prototype);
      }
    } finally {
      ffi.QTS_FreeValuePointer(ctx, constructorKey);
    }
    const global = ffi.QTS_GetGlobalObject(ctx);
    try {
      for (const name of DISALLOWED_GLOBALS) {
        const pointer = key(name);
        ffi.QTS_SetProp(ctx, global, pointer, direct.undefinedValue);
        ffi.QTS_FreeValuePointer(ctx, pointer);
      }
    } finally {
      ffi.QTS_FreeValuePointer(ctx, global);
    }
  }

  /** The one host function of this context (see {@link HostOp}), made on first need. */
  private hostFunction(): QuickJSHandle {
    this.host ??= this.keep(
      this.context.newFunction('host', (op, a, b, c, d) => this.onHost(op, a, b, c, d)),
    );
    return this.host;
  }

  private keep(handle: QuickJSHandle): QuickJSHandle {
    this.handles.push(handle);
    return handle;
  }

  private unwrap(result: ReturnType<QuickJSContext['evalCode']>): QuickJSHandle {
    if ('error' in result && result.error) {
      const described = this.context.dump(result.error) as { message?: string };
      result.error.dispose();
      throw new OrchestratorError(
        `Orchestrator "${this.name}" could not be set up in QuickJS: ${described?.message ?? String(described)}.`,
        { orchestrator: this.name },
      );
    }
    return (result as { value: QuickJSHandle }).value;
  }

  private shouldInterrupt(): boolean {
    const run = this.run;
    if (!run) return false;
    if (run.limitHit || run.closed) return true;
    if (this.abortedByHost()) {
      run.closed = true;
      return true;
    }
    const now = performance.now();
    if (now > run.deadline) {
      this.hit(run, 'wallClockMs', 'the run took longer than the wall-clock limit');
      return true;
    }
    const cpu = run.cpuUsedMs + (now - this.sliceStart);
    if (cpu > this.limits.cpuTimeMs) {
      this.hit(run, 'cpuTimeMs', `the code ran for ${Math.round(cpu)} ms of CPU time`);
      return true;
    }
    if (this.growth(run) > this.limits.memoryBytes) {
      this.hit(run, 'memoryBytes', 'the WebAssembly memory grew past the limit');
      return true;
    }
    return false;
  }

  private growth(run: RunState): number {
    return run.memoryGrowth + (this.engine.memory.buffer.byteLength - this.sliceMemoryStart);
  }

  /**
   * Ends the run with the stack limit when instrumented code caught a limit error it had no stack
   * left to report (see `FATAL_HOOK`): un-awaited async recursion, say, would otherwise swallow it.
   */
  private checkUnreported(run: RunState): void {
    if (run.limitHit) return;
    const ctx = this.context;
    if (this.fatalHook === undefined) {
      const hook = this.keep(ctx.getProp(ctx.global, FATAL_HOOK));
      this.fatalHook =
        ctx.typeof(hook) === 'function'
          ? { hook, pending: this.keep(ctx.newString(FATAL_PENDING)) }
          : null;
    }
    if (this.fatalHook === null) return;
    const count = ctx.getProp(this.fatalHook.hook, this.fatalHook.pending);
    const pending = ctx.typeof(count) === 'number' ? ctx.getNumber(count) : 0;
    count.dispose();
    if (pending !== 0) {
      this.hit(
        run,
        'stackBytes',
        'the code recursed too deeply (a limit error was caught with no stack left to report it)',
      );
    }
  }

  /** Whether another thread set the session's `abortFlag`: the run stops at once. */
  private abortedByHost(): boolean {
    return this.abortFlag !== undefined && Atomics.load(this.abortFlag, 0) !== 0;
  }

  /** Throws when the run must stop: the limit it hit, or the host's abort. */
  private throwIfStopped(run: RunState): void {
    if (run.limitHit) throw run.limitHit;
    if (this.abortedByHost()) throw new Error('the run was aborted by the host');
  }

  private hit(run: RunState, limit: SandboxLimitName, observed: string): void {
    run.limitHit ??= new SandboxLimitError(this.name, limit, this.limits[limit], observed);
    run.notify();
  }

  /**
   * Runs guest code synchronously, accounting CPU time and memory growth to the run. `start` is
   * the caller's `performance.now()` when it has just read it.
   */
  private slice<T>(run: RunState, body: () => T, start = performance.now()): T {
    this.sliceStart = start;
    this.sliceMemoryStart = this.engine.memory.buffer.byteLength;
    try {
      return body();
    } catch (error) {
      if (FlyteError.isInstance(error)) throw run.limitHit ?? error;
      // A throw out of QuickJS itself (host stack overflow inside WebAssembly, an abort) leaves
      // the module's memory in an unknown state: retire the whole module.
      this.engine.broken = true;
      this.disposed = true;
      if (error instanceof RangeError) {
        run.limitHit ??= new SandboxLimitError(
          this.name,
          'stackBytes',
          this.limits.stackBytes,
          'the code recursed deep enough to overflow the host stack inside QuickJS',
        );
        throw run.limitHit;
      }
      throw new OrchestratorError(
        `Orchestrator "${this.name}": the QuickJS sandbox crashed (${(error as Error)?.message ?? String(error)}). The sandbox was discarded; the host is unaffected. Run with isolation: 'worker' to contain such crashes in a worker thread.`,
        { orchestrator: this.name, cause: error },
      );
    } finally {
      // A synchronous run is one slice: nothing reads its CPU time after it.
      if (run.bridge !== NO_BRIDGE) run.cpuUsedMs += performance.now() - this.sliceStart;
      run.memoryGrowth = this.growth(run);
      if (run.memoryGrowth > this.limits.memoryBytes) {
        this.hit(run, 'memoryBytes', 'the WebAssembly memory grew past the limit');
      }
    }
  }

  private reserve(run: RunState, count: number): number | undefined {
    const first = run.nextSequence;
    if (first + count > this.limits.hostCalls) {
      this.hit(run, 'hostCalls', `the code made more than ${this.limits.hostCalls} task calls`);
      return undefined;
    }
    run.nextSequence += count;
    return first;
  }

  private onHost(
    op: QuickJSHandle,
    a: QuickJSHandle,
    b: QuickJSHandle,
    c: QuickJSHandle,
    d: QuickJSHandle,
  ): QuickJSHandle | undefined {
    switch (this.context.getNumber(op)) {
      case HostOp.call:
        return this.onHostCall(a, b);
      case HostOp.map:
        return this.onHostMap(a, b, c, d);
      case HostOp.limit:
        this.onGuestLimit(this.context.getString(a));
        return undefined;
      case HostOp.lazy:
        return this.lazyPrelude();
      default:
        return undefined;
    }
  }

  /** The guest's lazy part for a run: {@link lazyFactory}'s, while the run is within its limits. */
  private lazyPrelude(): QuickJSHandle | undefined {
    const run = this.run;
    if (!run || run.limitHit) return undefined;
    // QuickJS takes ownership of what a host function returns.
    return this.lazyFactory()?.dup();
  }

  /**
   * {@link LAZY_PRELUDE} (DIRECT_LAZY in a direct session), compiled on its first use in this
   * context and kept: the guest's `JSON.stringify` and the direct path's ingest, encode and
   * describe share the one compilation. A limit QuickJS raises meanwhile is reported.
   */
  private lazyFactory(): QuickJSHandle | undefined {
    if (!this.lazy) {
      const source = this.mode === 'direct' ? DIRECT_LAZY : LAZY_PRELUDE;
      const result = this.context.evalCode(source, PRELUDE_FILE);
      if (result.error) {
        const described = this.context.dump(result.error) as { message?: unknown };
        result.error.dispose();
        this.onGuestLimit(String(described?.message));
        return undefined;
      }
      this.lazy = this.keep(result.value);
    }
    return this.lazy;
  }

  /**
   * The guest saw an error QuickJS raises for one of its own limits. It ends the run now: the
   * interrupt handler stops the guest at its next check, no task call is made any more, and the
   * host fails the run when the current slice returns, whatever handlers the code attached.
   */
  private onGuestLimit(message: string): void {
    const run = this.run;
    if (!run || run.limitHit) return;
    if (message === 'stack overflow') {
      this.hit(run, 'stackBytes', 'the code recursed too deeply');
    } else if (message === 'out of memory') {
      this.hit(run, 'memoryBytes', 'QuickJS ran out of memory');
    }
  }

  private onHostCall(taskHandle: QuickJSHandle, argsHandle: QuickJSHandle): QuickJSHandle {
    const run = this.run;
    const ctx = this.context;
    if (run) this.checkUnreported(run);
    // After a limit, nothing more reaches the world.
    if (!run || run.closed || run.limitHit) return ctx.undefined;
    const task = ctx.getString(taskHandle);
    const args = ctx.getString(argsHandle);
    const sequence = this.reserve(run, 1);
    const deferred = ctx.newPromise();
    this.pending.add(deferred);
    if (sequence === undefined) return deferred.handle;
    run.inflight++;
    run.bridge.call(task, args, sequence).then(
      (json) => this.settle(run, { deferred, json }),
      (error: unknown) => {
        this.settle(run, { deferred, failure: { sequence, message: messageOf(error) } });
      },
    );
    return deferred.handle;
  }

  private onHostMap(
    taskHandle: QuickJSHandle,
    itemsHandle: QuickJSHandle,
    concurrencyHandle: QuickJSHandle,
    returnExceptionsHandle: QuickJSHandle,
  ): QuickJSHandle {
    const run = this.run;
    const ctx = this.context;
    if (run) this.checkUnreported(run);
    if (!run || run.closed || run.limitHit) return ctx.undefined;
    const task = ctx.getString(taskHandle);
    const items = JSON.parse(ctx.getString(itemsHandle)) as unknown[];
    const concurrency = ctx.getNumber(concurrencyHandle);
    const returnExceptions = ctx.dump(returnExceptionsHandle) === true;
    const deferred = ctx.newPromise();
    this.pending.add(deferred);
    const first = this.reserve(run, items.length);
    if (first === undefined) return deferred.handle;
    run.inflight++;
    const results: string[] = new Array(items.length);
    let next = 0;
    let failed: { sequence: number; message: string } | undefined;
    const lane = async (): Promise<void> => {
      while (next < items.length && failed === undefined && !run.closed) {
        const index = next++;
        const sequence = first + index;
        try {
          const json = await run.bridge.call(task, JSON.stringify([items[index]]), sequence);
          results[index] = `[1,${json}]`;
        } catch (error) {
          const failure = { sequence, message: messageOf(error) };
          if (!returnExceptions) failed ??= failure;
          results[index] = `[0,${JSON.stringify(failure)}]`;
        }
      }
    };
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < Math.min(concurrency, items.length); i++) lanes.push(lane());
    Promise.all(lanes).then(() => {
      if (failed) this.settle(run, { deferred, failure: failed });
      else this.settle(run, { deferred, json: `[${results.join(',')}]` });
    });
    return deferred.handle;
  }

  private settle(run: RunState, settlement: Settlement): void {
    run.inflight--;
    if (run.closed) {
      this.release(settlement.deferred);
      return;
    }
    run.settled.push(settlement);
    run.notify();
  }

  /** Hands settled host calls to the guest. */
  private deliver(run: RunState): void {
    const ctx = this.context;
    for (const s of run.settled.splice(0)) {
      if (s.json !== undefined) {
        const value = ctx.newString(s.json);
        s.deferred.resolve(value);
        value.dispose();
      } else {
        // A plain guest object: the guest never sees a host object, stack or prototype.
        const failure = ctx.newObject();
        const sequence = ctx.newNumber(s.failure?.sequence ?? -1);
        const message = ctx.newString(s.failure?.message ?? 'failed');
        ctx.setProp(failure, 'sequence', sequence);
        ctx.setProp(failure, 'message', message);
        sequence.dispose();
        message.dispose();
        s.deferred.reject(failure);
        failure.dispose();
      }
      this.release(s.deferred);
    }
  }

  private release(deferred: Settlement['deferred']): void {
    if (!this.pending.delete(deferred) || this.disposed) return;
    deferred.dispose();
  }

  /**
   * Executes one run of synchronous code through the direct call path (a session made in
   * `'direct'` mode): the inputs become guest values made here (objects as JSON the guest parses
   * and deep-freezes), the orchestrator's function is called with them, and a primitive result
   * is read from QuickJS's memory. Objects are encoded and errors described by the guest, as in
   * {@link SandboxSession.executeSync}. `seed` seeds `Math.random` when the code names `Math`.
   */
  executeDirect(
    values: readonly unknown[],
    seed: number | undefined,
  ): { outcome: GuestOutcome; reusable: boolean } {
    const direct = this.direct;
    if (this.disposed || !direct) throw new Error('SandboxSession: not a usable direct session');
    let inputs = values;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      const type = typeof value;
      const primitive =
        type === 'number' ||
        type === 'boolean' ||
        value === undefined ||
        value === null ||
        (type === 'string' && canPassAsCString(value as string));
      if (!primitive) {
        // What a JSON round trip would give the guest: it throws here, on the host, for a bigint.
        inputs = values.map((v) => {
          if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
            return new JsonInput(JSON.stringify(v) ?? 'null');
          }
          if (typeof v === 'string')
            return canPassAsCString(v) ? v : new JsonInput(JSON.stringify(v));
          return typeof v === 'function' || typeof v === 'symbol' ? null : v;
        });
        break;
      }
    }
    return this.runOnce((run) => this.callDirect(direct, run, inputs, seed));
  }

  /**
   * One run of synchronous code: `body` is its only slice of guest time, so the interrupt handler
   * enforces the wall-clock and CPU limits. Throws the limit error when a limit was hit.
   */
  private runOnce(body: (run: RunState) => GuestOutcome): {
    outcome: GuestOutcome;
    reusable: boolean;
  } {
    const run = new RunState(NO_BRIDGE, NEVER_ABORTED);
    const start = performance.now();
    run.deadline = start + this.limits.wallClockMs;
    this.run = run;
    try {
      const outcome = this.slice(run, () => body(run), start);
      this.throwIfStopped(run);
      return { outcome, reusable: outcome.ok };
    } finally {
      run.closed = true;
      this.run = undefined;
    }
  }

  private callDirect(
    direct: DirectPath,
    run: RunState,
    inputs: readonly unknown[],
    seed: number | undefined,
  ): GuestOutcome {
    const { raw, ctx, argv, owned } = direct;
    const { ffi } = raw;
    if (direct.seed !== 0 && seed !== undefined) {
      const value = ffi.QTS_NewFloat64(ctx, seed);
      const failed = this.unusable(direct, run, value) ?? this.callOne(direct, direct.seed, value);
      if (failed !== undefined) return failed;
    }
    for (let i = 0; i < inputs.length; i++) {
      const value = inputs[i];
      let pointer: number;
      let own = 0;
      // Whether `own` was made here by QuickJS, which may have failed to make it.
      let made = false;
      switch (typeof value) {
        case 'number':
          // As after a JSON round trip: -0 arrives as 0, NaN and the infinities as null.
          if (Number.isFinite(value)) {
            own = ffi.QTS_NewFloat64(ctx, value === 0 ? 0 : value);
            pointer = own;
            // A number needs no allocation inside QuickJS: only its box on the heap can fail.
            if (own === 0) {
              this.freeOwned(direct, i);
              return this.outOfMemory(run);
            }
          } else {
            pointer = direct.nullValue;
          }
          break;
        case 'string':
          own = raw.newString(ctx, value, direct.scratch, SCRATCH_BYTES);
          pointer = own;
          made = true;
          break;
        case 'boolean':
          pointer = value ? direct.trueValue : direct.falseValue;
          break;
        default:
          if (value instanceof JsonInput) {
            const ingested = this.ingest(direct, value.text);
            if (typeof ingested !== 'number') {
              this.freeOwned(direct, i);
              return ingested;
            }
            own = ingested;
            pointer = own;
          } else {
            pointer = direct.nullValue;
          }
      }
      const failed = made ? this.unusable(direct, run, own) : undefined;
      if (failed !== undefined) {
        this.freeOwned(direct, i);
        return failed;
      }
      owned[i] = own;
      raw.writePointer(argv + 4 * i, pointer);
    }
    const result = ffi.QTS_Call(ctx, direct.fn, direct.undefinedValue, inputs.length, argv);
    this.freeOwned(direct, inputs.length);
    try {
      return this.readResult(direct, run, result);
    } finally {
      ffi.QTS_FreeValuePointer(ctx, result);
    }
  }

  /**
   * The outcome when a value QuickJS made is not usable: 0 (no memory even for the value) or an
   * exception (QuickJS's own out-of-memory error, most likely), which is freed and described;
   * undefined when the value is usable.
   */
  private unusable(direct: DirectPath, run: RunState, value: number): GuestOutcome | undefined {
    if (value === 0) return this.outOfMemory(run);
    if (direct.raw.kindOf(value) !== ValueKind.Exception) return undefined;
    try {
      return this.describeException(direct, value);
    } finally {
      direct.raw.ffi.QTS_FreeValuePointer(direct.ctx, value);
    }
  }

  /** Ends the run with the memory limit: QuickJS could not allocate what the host asked for. */
  private outOfMemory(run: RunState): GuestOutcome {
    this.hit(run, 'memoryBytes', 'QuickJS ran out of memory');
    return UNDESCRIBED;
  }

  private freeOwned(direct: DirectPath, count: number): void {
    for (let i = 0; i < count; i++) {
      const pointer = direct.owned[i] as number;
      if (pointer !== 0) direct.raw.ffi.QTS_FreeValuePointer(direct.ctx, pointer);
      direct.owned[i] = 0;
    }
  }

  /** The guest value of an input's JSON text (the caller frees it), or the outcome of a failure. */
  private ingest(direct: DirectPath, text: string): number | GuestOutcome {
    const lazy = this.directLazy(direct);
    if (!lazy) return UNDESCRIBED;
    const { raw, ctx } = direct;
    const argument = raw.newString(ctx, text, direct.scratch, SCRATCH_BYTES);
    const run = this.run as RunState;
    const failed = this.unusable(direct, run, argument);
    if (failed !== undefined) return failed;
    raw.writePointer(direct.helperArgv, argument);
    const result = raw.ffi.QTS_Call(ctx, lazy.ingest, direct.undefinedValue, 1, direct.helperArgv);
    raw.ffi.QTS_FreeValuePointer(ctx, argument);
    return this.unusable(direct, run, result) ?? result;
  }

  /**
   * Calls a one-argument guest function for its effect and frees `argument`; returns the outcome
   * of a failure, or undefined.
   */
  private callOne(direct: DirectPath, fn: number, argument: number): GuestOutcome | undefined {
    const { raw, ctx } = direct;
    raw.writePointer(direct.helperArgv, argument);
    const result = raw.ffi.QTS_Call(ctx, fn, direct.undefinedValue, 1, direct.helperArgv);
    raw.ffi.QTS_FreeValuePointer(ctx, argument);
    try {
      return raw.kindOf(result) === ValueKind.Exception
        ? this.describeException(direct, result)
        : undefined;
    } finally {
      raw.ffi.QTS_FreeValuePointer(ctx, result);
    }
  }

  /** Turns the result of the orchestrator's function into an outcome. */
  private readResult(direct: DirectPath, run: RunState, result: number): GuestOutcome {
    const { raw, ctx } = direct;
    switch (raw.kindOf(result)) {
      case ValueKind.Int:
        return this.primitive(run, raw.intOf(result));
      case ValueKind.Float: {
        const value = raw.ffi.QTS_GetFloat64(ctx, result);
        // What JSON gives: -0 is 0, NaN and the infinities are null.
        return this.primitive(run, Number.isFinite(value) ? (value === 0 ? 0 : value) : null);
      }
      case ValueKind.Boolean:
        return this.primitive(run, raw.intOf(result) !== 0);
      case ValueKind.Null:
        return this.primitive(run, null);
      case ValueKind.Undefined:
        return { ok: true, json: undefined };
      case ValueKind.String: {
        const text = raw.exactStringOf(ctx, result, direct.lengthKey);
        if (text === undefined) return this.outOfMemory(run);
        if (text === false) return this.encodeResult(direct, run, result);
        // The limit counts the output's JSON bytes, quotes included.
        if ((text.length + 2) * 3 > this.limits.outputBytes) {
          return this.decode(run, `o${JSON.stringify(text)}`);
        }
        return { ok: true, primitive: text };
      }
      case ValueKind.Exception:
        return this.describeException(direct, result);
      default:
        return this.encodeResult(direct, run, result);
    }
  }

  /** A number, boolean or null result, held to the output size limit as its JSON would be. */
  private primitive(run: RunState, value: number | boolean | null): GuestOutcome {
    // No number's JSON is longer than 24 characters: only a tiny limit needs the check.
    if (this.limits.outputBytes < 24) {
      const json = JSON.stringify(value);
      if (json.length > this.limits.outputBytes) return this.decode(run, `o${json}`);
    }
    return { ok: true, primitive: value };
  }

  /** Encodes an object (or symbol, or bigint) result in the guest, as the runner would. */
  private encodeResult(direct: DirectPath, run: RunState, value: number): GuestOutcome {
    const lazy = this.directLazy(direct);
    if (!lazy) return UNDESCRIBED;
    const { raw, ctx } = direct;
    raw.writePointer(direct.helperArgv, value);
    const encoded = raw.ffi.QTS_Call(ctx, lazy.encode, direct.undefinedValue, 1, direct.helperArgv);
    try {
      switch (raw.kindOf(encoded)) {
        case ValueKind.String: {
          const text = raw.stringOf(ctx, encoded);
          return text === undefined ? this.outOfMemory(run) : this.decode(run, `o${text}`);
        }
        case ValueKind.Exception:
          return this.describeException(direct, encoded);
        default:
          // A function or a symbol: like JSON.stringify, nothing.
          return { ok: true, json: undefined };
      }
    } finally {
      raw.ffi.QTS_FreeValuePointer(ctx, encoded);
    }
  }

  /**
   * Describes the exception a call returned (`exception` is its JS_EXCEPTION result) as the
   * runner's `fail` would. A run stopped by a limit is not described: its caller throws the
   * limit error.
   */
  private describeException(direct: DirectPath, exception: number): GuestOutcome {
    const { raw, ctx } = direct;
    const error = raw.ffi.QTS_ResolveException(ctx, exception);
    if (error === 0) return UNDESCRIBED;
    try {
      if (this.run?.limitHit) return UNDESCRIBED;
      const lazy = this.directLazy(direct);
      if (!lazy) return UNDESCRIBED;
      raw.writePointer(direct.helperArgv, error);
      const described = raw.ffi.QTS_Call(
        ctx,
        lazy.describe,
        direct.undefinedValue,
        1,
        direct.helperArgv,
      );
      try {
        if (raw.kindOf(described) !== ValueKind.String) {
          // describe() catches everything; only a limit stops it. Drop what it threw.
          const nested = raw.ffi.QTS_ResolveException(ctx, described);
          if (nested !== 0) raw.ffi.QTS_FreeValuePointer(ctx, nested);
          return UNDESCRIBED;
        }
        const run = this.run as RunState;
        const text = raw.stringOf(ctx, described);
        return text === undefined ? this.outOfMemory(run) : this.decode(run, `e${text}`);
      } finally {
        raw.ffi.QTS_FreeValuePointer(ctx, described);
      }
    } finally {
      raw.ffi.QTS_FreeValuePointer(ctx, error);
    }
  }

  /**
   * The lazy functions of a direct session, compiled and fetched on first need. A limit QuickJS
   * raises meanwhile (out of memory, say) is reported as the runner's lazy part reports it.
   */
  private directLazy(direct: DirectPath): DirectPath['lazy'] {
    if (direct.lazy) return direct.lazy;
    const ctx = this.context;
    const failed = (error: QuickJSHandle): undefined => {
      const described = ctx.dump(error) as { message?: unknown } | undefined;
      error.dispose();
      this.onGuestLimit(String(described?.message));
      return undefined;
    };
    const factory = this.lazyFactory();
    if (!factory) return undefined;
    const builtins = this.keep(ctx.getProp(this.runner, 0));
    // The host function lets the lazy part report limit errors it sees, as in runner sessions.
    const result = ctx.callFunction(factory, ctx.undefined, builtins, this.hostFunction());
    if (result.error) return failed(result.error);
    const functions = this.keep(result.value);
    const get = (name: string): number => pointerOf(this.keep(ctx.getProp(functions, name)));
    direct.lazy = { ingest: get('ingest'), encode: get('encode'), describe: get('describe') };
    return direct.lazy;
  }

  /**
   * Executes one run of synchronous code (see `CompiledSource.synchronous`): one call into the
   * guest, no job loop, no host calls. The wall-clock limit is enforced by the interrupt handler.
   */
  executeSync(request: string): { outcome: GuestOutcome; reusable: boolean } {
    if (this.disposed) throw new Error('SandboxSession: used after dispose');
    return this.runOnce((run) => {
      const ctx = this.context;
      const input = ctx.newString(request);
      try {
        const result = this.unwrap(ctx.callFunction(this.runner, ctx.undefined, this.fn, input));
        try {
          return this.decode(run, ctx.getString(result));
        } finally {
          result.dispose();
        }
      } finally {
        input.dispose();
      }
    });
  }

  /**
   * Executes one run. Resolves to the guest outcome; rejects with `SandboxLimitError` when a
   * limit was hit, or the abort reason when `signal` aborted. After a rejection the session must
   * be disposed.
   */
  async execute(
    request: string,
    bridge: HostBridge,
    signal: AbortSignal,
  ): Promise<{ outcome: GuestOutcome; reusable: boolean }> {
    if (this.disposed) throw new Error('SandboxSession: used after dispose');
    const run = new RunState(bridge, signal);
    run.deadline = performance.now() + this.limits.wallClockMs;
    this.run = run;
    const ctx = this.context;
    const onAbort = (): void => run.notify();
    signal.addEventListener('abort', onAbort);
    // The interrupt handler never fires while the guest waits for the host: a timer covers that.
    const timer = setTimeout(() => {
      this.hit(run, 'wallClockMs', 'the run took longer than the wall-clock limit');
    }, this.limits.wallClockMs);
    let promise: QuickJSHandle | undefined;
    try {
      signal.throwIfAborted();
      promise = this.slice(run, () => {
        const input = ctx.newString(request);
        try {
          return this.unwrap(ctx.callFunction(this.runner, ctx.undefined, this.fn, input));
        } finally {
          input.dispose();
        }
      });
      this.checkUnreported(run);
      this.throwIfStopped(run);
      for (;;) {
        // In batches: a limit hit inside a job must not let thousands of queued jobs run on.
        for (;;) {
          const jobs = this.slice(run, () => this.runtime.executePendingJobs(JOB_BATCH));
          this.checkUnreported(run);
          this.throwIfStopped(run);
          if ('error' in jobs && jobs.error) {
            jobs.error.dispose();
          } else if ((jobs as { value: number }).value < JOB_BATCH) {
            break;
          }
        }
        const state = ctx.getPromiseState(promise);
        if (state.type === 'fulfilled') {
          const text = ctx.getString(state.value);
          state.value.dispose();
          const outcome = this.decode(run, text);
          return {
            outcome,
            reusable: outcome.ok && run.inflight === 0 && !this.runtime.hasPendingJob(),
          };
        }
        if (state.type === 'rejected') {
          const described = ctx.dump(state.error);
          state.error.dispose();
          throw new OrchestratorError(
            `Orchestrator "${this.name}" failed in the sandbox: ${JSON.stringify(described)}.`,
            { orchestrator: this.name },
          );
        }
        if (run.inflight === 0 && run.settled.length === 0 && !this.runtime.hasPendingJob()) {
          throw new OrchestratorError(
            `Orchestrator "${this.name}" is waiting on a promise that nothing can settle (no task call is in flight). Await only task calls, map, or promises built from them.`,
            { orchestrator: this.name },
          );
        }
        await run.waitForWork();
        this.throwIfStopped(run);
        signal.throwIfAborted();
        // Delivering settles promises and runs no guest code: the next batch of jobs is checked.
        this.slice(run, () => this.deliver(run));
        this.throwIfStopped(run);
      }
    } finally {
      run.closed = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      promise?.dispose();
      // Settlements that arrived but were never delivered hold guest handles.
      for (const s of run.settled.splice(0)) this.release(s.deferred);
      this.run = undefined;
    }
  }

  private decode(run: RunState, text: string): GuestOutcome {
    const kind = text.charCodeAt(0);
    if (kind === 111 /* o */) {
      // A UTF-16 unit encodes to at most 3 UTF-8 bytes: count exactly only when it may matter.
      if (text.length * 3 > this.limits.outputBytes) {
        const bytes = Buffer.byteLength(text, 'utf8') - 1;
        if (bytes > this.limits.outputBytes) {
          run.limitHit ??= new SandboxLimitError(
            this.name,
            'outputBytes',
            this.limits.outputBytes,
            `the output is ${bytes} bytes of JSON`,
          );
          throw run.limitHit;
        }
      }
      return { ok: true, json: text.slice(1) };
    }
    if (kind === 117 /* u */) return { ok: true, json: undefined };
    const error = JSON.parse(text.slice(1)) as GuestErrorDescription;
    if (error.internal && /out of memory/.test(error.message)) {
      run.limitHit ??= new SandboxLimitError(
        this.name,
        'memoryBytes',
        this.limits.memoryBytes,
        'QuickJS ran out of memory',
      );
      throw run.limitHit;
    }
    // QuickJS reports native recursion (JSON.parse, RegExp) overflows as a SyntaxError.
    if (
      error.message === 'stack overflow' &&
      (error.internal || (error.name === 'SyntaxError' && error.stack.includes('(native)')))
    ) {
      run.limitHit ??= new SandboxLimitError(
        this.name,
        'stackBytes',
        this.limits.stackBytes,
        'the code recursed too deeply',
      );
      throw run.limitHit;
    }
    return { ok: false, error };
  }

  /** Releases the runtime. Safe to call twice; never throws. */
  dispose(): void {
    if (this.disposed && this.engine.broken) return;
    this.disposed = true;
    try {
      for (const deferred of this.pending) deferred.dispose();
      this.pending.clear();
      for (const h of this.handles.splice(0).reverse()) if (h.alive) h.dispose();
      const raw = this.engine.raw;
      if (raw) for (const pointer of this.allocations.splice(0)) raw.free(pointer);
      if (this.context?.alive) this.context.dispose();
      if (this.runtime?.alive) this.runtime.dispose();
    } catch {
      // A failed free means QuickJS's heap is inconsistent: retire the module.
      this.engine.broken = true;
    }
  }
}

/** Promise jobs run between two checks of the run's limits. */
const JOB_BATCH = 256;

const NO_BRIDGE: HostBridge = {
  call: () => Promise.reject(new Error('synchronous orchestrator code made a host call')),
};
const NEVER_ABORTED = new AbortController().signal;

/** The outcome when the guest could not describe what went wrong (a limit stopped it). */
const UNDESCRIBED: GuestOutcome = {
  ok: false,
  error: {
    name: 'Error',
    message: 'the sandbox stopped before it could describe the error',
    stack: '',
  },
};

function messageOf(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
