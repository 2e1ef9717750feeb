import { describe, expect, it, vi } from 'vitest';
import { afterDelay, backoffDelay, clampDelay, MAX_TIMER_MS, raceAbort, sleep } from './backoff';

describe('backoff', () => {
  const bounds = { minMs: 100, maxMs: 1000 };

  it('grows exponentially from the minimum and stops at the maximum', () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, bounds, 0.999999))).toEqual(
      [100, 200, 400, 800, 1000, 1000].map((v) => expect.closeTo(v, 0)),
    );
  });

  it('jitters over the whole range between the minimum and the cap', () => {
    expect(backoffDelay(3, bounds, 0)).toBe(100);
    expect(backoffDelay(3, bounds, 0.5)).toBe(450);
    const samples = Array.from({ length: 200 }, () => backoffDelay(5, bounds));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...samples)).toBeLessThanOrEqual(1000);
    expect(new Set(samples.map((s) => Math.round(s / 100))).size).toBeGreaterThan(3);
  });

  it('clamps poll hints into the bounds', () => {
    expect(clampDelay(1, bounds)).toBe(100);
    expect(clampDelay(500, bounds)).toBe(500);
    expect(clampDelay(1e9, bounds)).toBe(1000);
    expect(clampDelay(Number.NaN, bounds)).toBe(1000);
  });

  it('afterDelay waits delays longer than a Node timer takes, never fires for Infinity, and cancels', () => {
    vi.useFakeTimers();
    try {
      const calls: string[] = [];
      afterDelay(MAX_TIMER_MS * 2.5, () => calls.push('long'));
      afterDelay(Number.POSITIVE_INFINITY, () => calls.push('never'));
      const cancel = afterDelay(10, () => calls.push('cancelled'));
      cancel();
      vi.advanceTimersByTime(MAX_TIMER_MS * 2.5 - 1);
      expect(calls).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(calls).toEqual(['long']);
      vi.advanceTimersByTime(MAX_TIMER_MS * 4);
      expect(calls).toEqual(['long']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('sleep and raceAbort stop at once on abort with the reason', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const waiting = sleep(60_000, controller.signal);
    const racing = raceAbort(new Promise(() => {}), controller.signal);
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(racing).rejects.toBe(reason);
  });
});
