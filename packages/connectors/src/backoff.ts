/** Bounds of the poll interval, in milliseconds. */
export interface BackoffBounds {
  minMs: number;
  maxMs: number;
}

/**
 * The wait before poll (or retry) number `attempt` (0-based): exponential growth from `minMs`,
 * capped at `maxMs`, with full jitter between `minMs` and the cap, so thousands of runs started
 * together do not poll in lockstep.
 *
 * @param random - A number in [0, 1); `Math.random()` by default (tests pass a fixed one).
 */
export function backoffDelay(
  attempt: number,
  bounds: BackoffBounds,
  random = Math.random(),
): number {
  const cap = Math.min(bounds.maxMs, bounds.minMs * 2 ** Math.min(attempt, 40));
  return bounds.minMs + random * (cap - bounds.minMs);
}

/** A connector's poll hint, clamped to the bounds (a hint cannot make us hammer a service). */
export function clampDelay(hintMs: number, bounds: BackoffBounds): number {
  if (!Number.isFinite(hintMs)) return bounds.maxMs;
  return Math.min(bounds.maxMs, Math.max(bounds.minMs, hintMs));
}

/** The longest delay Node's timers take as given (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `callback` once, `ms` milliseconds from now, for any delay: Node fires a longer delay than
 * {@link MAX_TIMER_MS} at once, so such a delay is waited in steps; `Infinity` never fires.
 * Returns the function that cancels it.
 */
export function afterDelay(ms: number, callback: () => void): () => void {
  if (ms === Number.POSITIVE_INFINITY) return () => {};
  let timer: ReturnType<typeof setTimeout>;
  const arm = (left: number) => {
    timer = setTimeout(
      () => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : callback()),
      Math.min(left, MAX_TIMER_MS),
    );
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/**
 * Waits `ms`, or rejects with the signal's reason as soon as it aborts. The timer is always
 * cleared and the listener removed.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles with `promise`, or rejects with the signal's reason when it aborts first (the
 * promise is left to settle on its own: callers that care attach to it).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * The waits of one sequential run (calls and sleeps, one at a time), sharing a single abort
 * listener: adding and removing a listener per wait costs more than the wait's own bookkeeping
 * when thousands of runs poll at once. Call `dispose` when the run ends.
 */
export class SequentialWaits {
  readonly #signal: AbortSignal;
  #reject: ((reason: unknown) => void) | undefined;
  readonly #onAbort = () => {
    const reject = this.#reject;
    this.#reject = undefined;
    reject?.(this.#signal.reason);
  };

  /** @param signal - Rejects the wait in progress, and every later one, when it aborts. */
  constructor(signal: AbortSignal) {
    this.#signal = signal;
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Like {@link raceAbort}, for this run's signal. */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.#signal.aborted) return Promise.reject(this.#signal.reason);
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      promise.then(resolve, reject);
    });
  }

  /** Like {@link sleep}, for this run's signal. */
  sleep(ms: number): Promise<void> {
    if (this.#signal.aborted) return Promise.reject(this.#signal.reason);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      this.#reject = (reason) => {
        clearTimeout(timer);
        reject(reason);
      };
    });
  }

  /** Removes the abort listener. */
  dispose(): void {
    this.#reject = undefined;
    this.#signal.removeEventListener('abort', this.#onAbort);
  }
}
