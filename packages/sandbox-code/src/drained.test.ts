import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { drained } from './drained';

it('shares one wait and one pair of listeners per full stream, and waits again after a drain', async () => {
  const stream = new PassThrough({ highWaterMark: 4 });
  expect(stream.write(Buffer.alloc(8))).toBe(false);
  const waits = Array.from({ length: 50 }, () => drained(stream));
  expect(new Set(waits).size).toBe(1);
  expect(stream.listenerCount('drain')).toBe(1);
  expect(stream.listenerCount('close')).toBe(1);
  stream.resume();
  await waits[0];
  expect(stream.listenerCount('close')).toBe(0);
  stream.pause();
  expect(stream.write(Buffer.alloc(8))).toBe(false);
  const next = drained(stream);
  expect(next).not.toBe(waits[0]);
  stream.destroy();
  await next;
});
