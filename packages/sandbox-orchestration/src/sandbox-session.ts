import { FlyteError } from '@flyte/idl';
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import { OrchestratorError, SandboxLimitError, type SandboxLimitName } from './errors';
import { HostOp, LAZY_PRELUDE } from './guest-prelude';
import type { OrchestratorLimits } from './limits';
import type { QuickJSEngine } from './quickjs-engine';

/** How a session reaches the host: one task call, identified by its sequence number. */
export interface HostBridge {
  /** Runs (or replays) one task call; resolves to the JSON text of its result. */
  call(task: string, argsJson: string, sequence: number): Promise<string>;
}

/** What the guest's run resolved to, decoded. */
export type GuestOutcome =
  | { ok: true; json: string | undefined }
  | { ok: false; error: GuestErrorDescription };

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
  private readonly runner: QuickJSHandle;
  private readonly fn: QuickJSHandle;
  private run: RunState | undefined;
  private lazy: QuickJSHandle | undefined;
  private sliceStart = 0;
  private sliceMemoryStart = 0;
  private disposed = false;
  /** Guest promises handed out for host calls and not settled yet; freed before the runtime. */
  private readonly pending = new Set<Settlement['deferred']>();

  constructor(
    readonly engine: QuickJSEngine,
    private readonly name: string,
    script: string,
    private readonly limits: Readonly<Required<OrchestratorLimits>>,
    prelude: string,
  ) {
    this.runtime = engine.module.newRuntime();
    try {
      this.runtime.setMemoryLimit(limits.memoryBytes);
      this.runtime.setMaxStackSize(limits.stackBytes);
      this.runtime.setInterruptHandler(() => this.shouldInterrupt());
      this.context = this.runtime.newContext({
        intrinsics: {
          BaseObjects: true,
          Eval: true,
          StringNormalize: true,
          RegExp: true,
          JSON: true,
          MapSet: true,
          Promise: true,
        },
      });
      const ctx = this.context;
      // One host function for every operation: each function handed to QuickJS costs a crossing
      // per context, and a fresh context is made per run.
      const host = this.keep(
        ctx.newFunction('host', (op, a, b, c, d) => this.onHost(op, a, b, c, d)),
      );
      const setup = this.keep(this.unwrap(ctx.evalCode(prelude, PRELUDE_FILE)));
      this.runner = this.keep(this.unwrap(ctx.callFunction(setup, ctx.undefined, host)));
      this.fn = this.keep(this.unwrap(ctx.evalCode(script, GUEST_FILE)));
    } catch (error) {
      this.dispose();
      throw error;
    }
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

  private hit(run: RunState, limit: SandboxLimitName, observed: string): void {
    run.limitHit ??= new SandboxLimitError(this.name, limit, this.limits[limit], observed);
    run.notify();
  }

  /** Runs guest code synchronously, accounting CPU time and memory growth to the run. */
  private slice<T>(run: RunState, body: () => T): T {
    this.sliceStart = performance.now();
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
      run.cpuUsedMs += performance.now() - this.sliceStart;
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

  /** Compiles {@link LAZY_PRELUDE} on its first use in this context. */
  private lazyPrelude(): QuickJSHandle | undefined {
    const run = this.run;
    if (!run || run.limitHit) return undefined;
    if (!this.lazy) {
      const result = this.context.evalCode(LAZY_PRELUDE, PRELUDE_FILE);
      if (result.error) {
        const described = this.context.dump(result.error) as { message?: unknown };
        result.error.dispose();
        this.onGuestLimit(String(described?.message));
        return undefined;
      }
      this.lazy = this.keep(result.value);
    }
    // QuickJS takes ownership of what a host function returns.
    return this.lazy.dup();
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
   * Executes one run. Resolves to the guest outcome; rejects with `SandboxLimitError` when a
   * limit was hit, or the abort reason when `signal` aborted. After a rejection the session must
   * be disposed.
   */
  /**
   * Executes one run of synchronous code (see `CompiledSource.synchronous`): one call into the
   * guest, no job loop, no host calls. The wall-clock limit is enforced by the interrupt handler.
   */
  executeSync(request: string): { outcome: GuestOutcome; reusable: boolean } {
    if (this.disposed) throw new Error('SandboxSession: used after dispose');
    const run = new RunState(NO_BRIDGE, NEVER_ABORTED);
    run.deadline = performance.now() + this.limits.wallClockMs;
    this.run = run;
    try {
      const text = this.slice(run, () => {
        const ctx = this.context;
        const input = ctx.newString(request);
        try {
          const result = this.unwrap(ctx.callFunction(this.runner, ctx.undefined, this.fn, input));
          try {
            return ctx.getString(result);
          } finally {
            result.dispose();
          }
        } finally {
          input.dispose();
        }
      });
      if (run.limitHit) throw run.limitHit;
      const outcome = this.decode(run, text);
      return { outcome, reusable: outcome.ok };
    } finally {
      run.closed = true;
      this.run = undefined;
    }
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
      if (run.limitHit) throw run.limitHit;
      for (;;) {
        // In batches: a limit hit inside a job must not let thousands of queued jobs run on.
        for (;;) {
          const jobs = this.slice(run, () => this.runtime.executePendingJobs(JOB_BATCH));
          if (run.limitHit) throw run.limitHit;
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
        if (run.limitHit) throw run.limitHit;
        signal.throwIfAborted();
        this.slice(run, () => this.deliver(run));
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

function messageOf(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
