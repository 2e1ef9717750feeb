import type Docker from 'dockerode';
import { removeContainer } from './sandbox-container';

/** What a warm pool keeps: anything that owns a container. */
export interface PooledContainer {
  readonly container: Docker.Container;
}

/**
 * Keeps `size` containers started ahead of time (each made by `start`, for one image, limits
 * spec and program). Each serves exactly one run and is removed by its user afterwards; a
 * replacement starts in the background, so no state carries over from one run to the next.
 */
export class WarmPool<T extends PooledContainer> {
  private readonly idle: Promise<T>[] = [];
  private readonly starting = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly start: () => Promise<T>,
    readonly size: number,
  ) {}

  /** Starts containers until `size` are ready or starting. */
  fill(): void {
    while (!this.closed && this.idle.length < this.size) {
      const started = this.start();
      // A failed warm start only costs a later run a cold start.
      const settled = started.then(
        () => undefined,
        () => undefined,
      );
      const tracked = settled.finally(() => this.starting.delete(tracked));
      this.starting.add(tracked);
      this.idle.push(started);
    }
  }

  /** Waits until every container being started is up (or failed to start). */
  async ready(): Promise<void> {
    await Promise.all([...this.starting]);
  }

  /**
   * A container for one run: a warm one when available (a replacement starts in its place),
   * otherwise one started now.
   */
  async take(): Promise<T> {
    while (!this.closed) {
      const next = this.idle.shift();
      if (!next) break;
      this.fill();
      try {
        return await next;
      } catch {
        // It failed to start: try the next one, or start one below.
      }
    }
    return this.start();
  }

  /** Removes every idle container and stops refilling. */
  async close(): Promise<void> {
    this.closed = true;
    const entries = this.idle.splice(0);
    await Promise.all(
      entries.map(async (entry) => {
        try {
          await removeContainer((await entry).container);
        } catch {
          // It never started: nothing to remove.
        }
      }),
    );
  }
}
