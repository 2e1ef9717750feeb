// Starts a warm pool of containers from flyte-sandbox/base:bookworm and runs sandboxes in it.
import { afterAll, expect, it } from 'vitest';
import { z } from 'zod';
import { describeWithDocker } from '../../../scripts/testing/docker';
import { createSandbox } from './sandbox';
import {
  containersOfThisProcess,
  expectNoContainersLeft,
  TEST_BASE_IMAGE,
} from './testing-support';

await describeWithDocker(import.meta.url, 'warm pool', () => {
  afterAll(expectNoContainersLeft);

  it('keeps containers ready, uses each for one run only, and refills', {
    timeout: 120_000,
  }, async () => {
    const sandbox = createSandbox({
      name: 'pool.state',
      baseImage: TEST_BASE_IMAGE,
      pool: { size: 2 },
      code: [
        'import os, socket',
        'leftover = os.path.exists("/tmp/marker")',
        'open("/tmp/marker", "w").write("x")',
        'host = socket.gethostname()',
        'result = x * 2',
      ].join('\n'),
      inputs: z.object({ x: z.number().int() }),
      outputs: z.object({ result: z.number().int(), leftover: z.boolean(), host: z.string() }),
    });
    try {
      await sandbox.warmUp();
      expect(await containersOfThisProcess()).toHaveLength(2);
      const hosts = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const out = await sandbox.run({ x: i });
        expect(out).toMatchObject({ result: i * 2, leftover: false, exitCode: 0 });
        hosts.add(out.host);
      }
      // Four runs, four different containers: none was reused.
      expect(hosts.size).toBe(4);
      const deadline = Date.now() + 15_000;
      while ((await containersOfThisProcess()).length !== 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await containersOfThisProcess()).toHaveLength(2);
    } finally {
      await sandbox.close();
    }
    expect(await containersOfThisProcess()).toEqual([]);
  });

  it('queues runs beyond the concurrency limit', { timeout: 120_000 }, async () => {
    const sandbox = createSandbox({
      name: 'pool.queue',
      baseImage: TEST_BASE_IMAGE,
      pool: { size: 1 },
      concurrency: 1,
      code: 'import time\nstart = time.time()\ntime.sleep(0.5)\nend = time.time()',
      outputs: z.object({ start: z.number(), end: z.number() }),
    });
    try {
      const runs = await Promise.all([sandbox.run({}), sandbox.run({}), sandbox.run({})]);
      const spans = runs.map((r) => [r.start, r.end] as const).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) {
        // With one slot, each run starts after the previous one ended.
        expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] ?? Number.POSITIVE_INFINITY);
      }
    } finally {
      await sandbox.close();
    }
  });
});
