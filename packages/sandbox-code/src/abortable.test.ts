import { describe, expect, it } from 'vitest';
import { untilAborted } from './abortable';

describe('untilAborted', () => {
  const never = new Promise<never>(() => {});

  it('passes the result through when no signal fires', async () => {
    expect(await untilAborted(Promise.resolve(7), new AbortController().signal)).toBe(7);
    expect(await untilAborted(Promise.resolve(8), undefined)).toBe(8);
  });

  it('rejects at once when the signal has already aborted', async () => {
    await expect(untilAborted(never, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });

  it('rejects when the signal aborts during the wait', async () => {
    const controller = new AbortController();
    const waiting = untilAborted(never, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});
