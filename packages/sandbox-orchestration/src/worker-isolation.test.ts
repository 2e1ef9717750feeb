// Starts worker threads from the built package (dist/worker.js): run `pnpm build` first.
import { existsSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  OrchestratorError,
  orchestrateLocal,
  orchestrator,
  SandboxLimitError,
} from '../dist/index.js';

// Recursion through a native call uses far more of the host's native stack per guest frame than
// QuickJS accounts for: with a generous stackBytes it overflows the host stack inside QuickJS,
// which leaves that WebAssembly module unusable.
const HOST_STACK_OVERFLOW = 'const f = (n) => [n].map((m) => f(m + 1))\nf(0)';

describe("isolation: 'worker'", () => {
  it('is built', () => {
    expect(existsSync(new URL('../dist/worker.js', import.meta.url))).toBe(true);
  });

  it('runs the sandbox in a worker and the tasks in the host thread', async () => {
    const threads: boolean[] = [];
    const flow = orchestrator({
      name: 'worker.flow',
      inputs: { xs: z.array(z.number()) },
      output: z.number(),
      isolation: 'worker',
      tasks: {
        double: async (x: number) => {
          threads.push(isMainThread);
          return x * 2;
        },
      },
      source: 'const d = await map(double, xs, { concurrency: 2 })\nd.reduce((a, b) => a + b, 0)',
    });
    expect(await flow.run({ xs: [1, 2, 3] })).toBe(12);
    expect(threads).toEqual([true, true, true]);
    expect(await orchestrateLocal('x * 2', { inputs: { x: 21 }, isolation: 'worker' })).toBe(42);
  }, 30_000);

  it('enforces limits and reports errors as in-process runs do', async () => {
    await expect(
      orchestrateLocal('for (;;) {}', { isolation: 'worker', limits: { cpuTimeMs: 50 } }),
    ).rejects.toMatchObject({ limit: 'cpuTimeMs', value: 50 });
    const failed = await orchestrateLocal('await boom()', {
      isolation: 'worker',
      tasks: {
        boom: async () => {
          throw new Error('kaput');
        },
      },
    }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OrchestratorError);
    expect((failed as OrchestratorError).callSite).toEqual({ line: 1, column: 11 });
    expect((failed as OrchestratorError).cause).toMatchObject({ message: 'kaput' });
  }, 30_000);

  it('refuses a wallClockMs no timer can wait for, and runs with the largest one', async () => {
    await expect(
      orchestrateLocal('1', { isolation: 'worker', limits: { wallClockMs: 2 ** 31 } }),
    ).rejects.toMatchObject({ code: 'invalid_limits', details: { limit: 'wallClockMs' } });
    const slow = () => new Promise((resolve) => setTimeout(() => resolve(1), 50));
    expect(
      await orchestrateLocal('await slow()', {
        isolation: 'worker',
        tasks: { slow },
        limits: { wallClockMs: 2 ** 31 - 1 },
      }),
    ).toBe(1);
  }, 30_000);

  it('stops a run in a worker when its signal aborts', async () => {
    const controller = new AbortController();
    const running = orchestrateLocal('await hang()', {
      isolation: 'worker',
      tasks: { hang: () => new Promise(() => {}) },
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await expect(running).rejects.toThrow('stop');
  });

  it.each([
    ['synchronous code', 'let i = 0\nwhile (i < 3e7) i++\ni'],
    ['code computing after an awaited task', 'await noop()\nlet i = 0\nwhile (i < 3e7) i++\ni'],
  ])(
    'stops a run in a worker when its signal aborts while %s computes',
    async (_, source) => {
      const controller = new AbortController();
      const running = orchestrateLocal(source, {
        isolation: 'worker',
        tasks: { noop: async () => null },
        limits: { cpuTimeMs: 20_000 },
        signal: controller.signal,
      });
      const reason = new Error('stop');
      let abortedAt = 0;
      setTimeout(() => {
        abortedAt = performance.now();
        controller.abort(reason);
      }, 50);
      const error = await running.catch((e: unknown) => e);
      expect(error).toBe(reason);
      expect(performance.now() - abortedAt).toBeLessThan(200);
      // The host rejects at once whatever the worker does; that the worker itself stopped shows in
      // the CPU time: a worker still looping would spend most of the next 800 ms computing.
      const before = process.cpuUsage();
      await new Promise((r) => setTimeout(r, 800));
      const used = process.cpuUsage(before);
      expect((used.user + used.system) / 1000).toBeLessThan(300);
      expect(
        await orchestrateLocal('await inc(1)', {
          isolation: 'worker',
          tasks: { inc: async (n: number) => n + 1 },
        }),
      ).toBe(2);
    },
    30_000,
  );

  it('a QuickJS crash takes down one worker; other runs and the host carry on', async () => {
    const slow = async (x: number) => new Promise<number>((r) => setTimeout(() => r(x), 200));
    const bystander = orchestrateLocal('await slow(7)', { isolation: 'worker', tasks: { slow } });
    const crash = await orchestrateLocal(HOST_STACK_OVERFLOW, {
      isolation: 'worker',
      limits: { stackBytes: 1 << 20 },
    }).catch((e: unknown) => e);
    expect(crash).toBeInstanceOf(SandboxLimitError);
    expect(crash).toMatchObject({ limit: 'stackBytes' });
    expect(await bystander).toBe(7);
    for (let i = 0; i < 4; i++) {
      expect(await orchestrateLocal('x + 1', { inputs: { x: i }, isolation: 'worker' })).toBe(
        i + 1,
      );
    }
  }, 30_000);

  it('in-process, the same crash retires the module and later runs load a new one', async () => {
    const crash = await orchestrateLocal(HOST_STACK_OVERFLOW, {
      limits: { stackBytes: 1 << 20 },
    }).catch((e: unknown) => e);
    expect(crash).toBeInstanceOf(SandboxLimitError);
    expect(await orchestrateLocal('x + 1', { inputs: { x: 1 } })).toBe(2);
  }, 30_000);

  it('does not combine with pool', () => {
    expect(() =>
      orchestrator({
        name: 'n',
        inputs: {},
        output: z.number(),
        source: '1',
        isolation: 'worker',
        pool: { size: 1 },
      }),
    ).toThrow(/cannot be combined/);
  });
});
