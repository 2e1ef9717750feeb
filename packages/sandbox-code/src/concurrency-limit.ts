/** A counting semaphore whose waiters can give up with an AbortSignal. */
export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: { resolve: () => void }[] = [];

  constructor(readonly limit: number) {}

  /** Waits for a free slot; returns the function that frees it. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.limit) {
      this.active++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index !== -1) this.waiting.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
    return this.releaser();
  }

  /** Runs queued or running right now. */
  get pending(): number {
    return this.waiting.length;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` does not change.
      if (next) next.resolve();
      else this.active--;
    };
  }
}
