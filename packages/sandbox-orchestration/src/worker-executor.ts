import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { OrchestratorError, SandboxLimitError } from './errors';
import { MAX_WALL_CLOCK_MS } from './limits';
import type { PreparedOrchestrator, RunExecutor } from './orchestrator';
import type { GuestOutcome, HostBridge } from './sandbox-session';
import type { FromWorker, ToWorker } from './worker-protocol';

interface ActiveRun {
  prepared: PreparedOrchestrator;
  bridge: HostBridge | undefined;
  resolve(outcome: GuestOutcome): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
}

// How long past its wall-clock limit a run may go before its worker is terminated: the worker's
// own timer should have ended it, unless a single native operation holds its thread.
const WORKER_GRACE_MS = 1_000;

/** tsup emits this module as ESM and as CJS side by side, each next to its worker script. */
function workerScript(): string | URL {
  if (typeof __filename === 'string') return join(dirname(__filename), 'worker.cjs');
  return new URL('./worker.js', import.meta.url);
}

// How long a worker may take to answer an aborted run (its interrupt handler reads the abort
// flag within microseconds) before it is taken to be stuck in one native operation.
const ABORT_GRACE_MS = 1_000;

class IsolatedWorker {
  readonly worker: Worker;
  readonly runs = new Map<number, ActiveRun>();
  /** Runs already rejected on abort, whose answer is awaited: a timer per run. */
  private readonly aborted = new Map<number, ReturnType<typeof setTimeout>>();
  dead = false;
  private retired = false;
  /** An aborted run did not answer in time: terminate once no other run needs the thread. */
  private stuck = false;

  constructor(private readonly onExit: (self: IsolatedWorker) => void) {
    this.worker = new Worker(workerScript());
    this.worker.unref();
    this.worker.on('message', (message: FromWorker) => this.receive(message));
    this.worker.on('error', (error) => this.die(error));
    this.worker.on('exit', (code) => this.die(new Error(`exit code ${code}`)));
  }

  post(message: ToWorker): void {
    if (!this.dead) this.worker.postMessage(message);
  }

  start(id: number, run: ActiveRun, message: ToWorker): void {
    this.runs.set(id, run);
    this.worker.ref();
    this.post(message);
  }

  finish(id: number): ActiveRun | undefined {
    const run = this.runs.get(id);
    this.runs.delete(id);
    if (this.runs.size === 0) {
      this.worker.unref();
      if (this.stuck) void this.worker.terminate();
    }
    return run;
  }

  /**
   * Ends a run on abort, without waiting for the worker, which cannot read the abort message
   * while it computes: it stops at its interrupt handler's next look at `abortFlag`. A worker that
   * has not answered within {@link ABORT_GRACE_MS} is retired, and terminated once its other
   * runs (which it cannot serve meanwhile either) have ended.
   */
  abort(id: number, abortFlag: Int32Array): ActiveRun | undefined {
    Atomics.store(abortFlag, 0, 1);
    this.post({ type: 'abort', id });
    const run = this.runs.get(id);
    if (!run) return undefined;
    const timer = setTimeout(() => {
      this.aborted.delete(id);
      this.stuck = true;
      this.retire();
      if (this.runs.size === 0) void this.worker.terminate();
    }, ABORT_GRACE_MS);
    timer.unref();
    this.aborted.set(id, timer);
    return this.finish(id);
  }

  private receive(message: FromWorker): void {
    const run = this.runs.get(message.id);
    if (!run) {
      const timer = this.aborted.get(message.id);
      if (timer !== undefined && message.type !== 'call') {
        clearTimeout(timer);
        this.aborted.delete(message.id);
        if (message.retiring) this.retire();
      }
      return;
    }
    switch (message.type) {
      case 'call': {
        const { id, sequence } = message;
        const bridge = run.bridge;
        if (!bridge) return;
        bridge.call(message.task, message.args, sequence).then(
          (json) => this.post({ type: 'settle', id, sequence, json }),
          (error: unknown) =>
            this.post({
              type: 'settle',
              id,
              sequence,
              failure:
                error instanceof Error
                  ? { name: error.name, message: error.message }
                  : { name: 'Error', message: String(error) },
            }),
        );
        return;
      }
      case 'done':
        if (message.retiring) this.retire();
        this.finish(message.id)?.resolve(message.outcome);
        return;
      case 'failed': {
        if (message.retiring) this.retire();
        const finished = this.finish(message.id);
        if (!finished) return;
        const { failure } = message;
        const { name, limits } = finished.prepared;
        if (failure.kind === 'limit') {
          finished.reject(
            new SandboxLimitError(name, failure.limit, limits[failure.limit], failure.observed),
          );
        } else if (failure.kind === 'aborted') {
          finished.reject(finished.signal?.reason ?? new Error('aborted'));
        } else {
          finished.reject(new OrchestratorError(failure.message, { orchestrator: name }));
        }
        return;
      }
    }
  }

  /** Takes the worker out of the pool now; its exit follows. */
  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.onExit(this);
  }

  private die(reason: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.retire();
    for (const [id, run] of [...this.runs]) {
      this.finish(id);
      run.reject(
        new OrchestratorError(
          `Orchestrator "${run.prepared.name}": its worker thread died (${reason.message}), most likely because QuickJS aborted; the run is lost, other runs and the host are unaffected. Run it again, or look for what makes the code crash QuickJS.`,
          { orchestrator: run.prepared.name, cause: reason },
        ),
      );
    }
    void this.worker.terminate();
  }
}

/**
 * Runs orchestrators in a pool of worker threads, each with its own QuickJS WebAssembly module:
 * an abort inside QuickJS kills one worker, never the host. Tasks still run in the host thread;
 * the worker forwards each call. Every run gets a fresh runtime and context in its worker.
 */
export class WorkerExecutor implements RunExecutor {
  private readonly workers: IsolatedWorker[] = [];
  private nextId = 1;

  constructor(private readonly size: number) {}

  private pick(): IsolatedWorker {
    if (this.workers.length < this.size) {
      const worker = new IsolatedWorker((dead) => {
        const index = this.workers.indexOf(dead);
        if (index >= 0) this.workers.splice(index, 1);
      });
      this.workers.push(worker);
      return worker;
    }
    let best = this.workers[0] as IsolatedWorker;
    for (const worker of this.workers) if (worker.runs.size < best.runs.size) best = worker;
    return best;
  }

  run(
    prepared: PreparedOrchestrator,
    request: string,
    bridge?: HostBridge,
    signal?: AbortSignal,
  ): Promise<GuestOutcome> {
    const worker = this.pick();
    const id = this.nextId++;
    const abortFlag = new Int32Array(new SharedArrayBuffer(4));
    return new Promise<GuestOutcome>((resolve, reject) => {
      const onAbort = (): void => {
        worker.abort(id, abortFlag)?.reject(signal?.reason ?? new Error('aborted'));
      };
      const timer = setTimeout(
        () => {
          const run = worker.finish(id);
          if (!run) return;
          reject(
            new SandboxLimitError(
              prepared.name,
              'wallClockMs',
              prepared.limits.wallClockMs,
              'the worker did not answer in time and was terminated',
            ),
          );
          // Its thread is stuck in guest code: replace it.
          void worker.worker.terminate();
          // At most the longest delay Node takes: it turns a longer one into 1 ms.
        },
        Math.min(prepared.limits.wallClockMs + WORKER_GRACE_MS, MAX_WALL_CLOCK_MS),
      );
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort);
      worker.start(
        id,
        {
          prepared,
          bridge,
          signal,
          resolve: (outcome) => {
            cleanup();
            resolve(outcome);
          },
          reject: (error) => {
            cleanup();
            reject(error);
          },
        },
        {
          type: 'run',
          id,
          name: prepared.name,
          script: prepared.compiled.script,
          prelude: prepared.preludes.fresh,
          limits: prepared.limits,
          synchronous: prepared.compiled.synchronous,
          request,
          abortFlag,
        },
      );
    });
  }

  /** Terminates every worker; runs in flight fail. */
  dispose(): void {
    for (const worker of this.workers.splice(0)) void worker.worker.terminate();
  }
}

let shared: WorkerExecutor | undefined;

/** The process-wide worker pool, created on first use: one worker per core, at most two. */
export function sharedWorkerExecutor(): WorkerExecutor {
  shared ??= new WorkerExecutor(Math.max(1, Math.min(2, availableParallelism())));
  return shared;
}
