import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SandboxLimitError } from './errors';
import { DEFAULT_LIMITS } from './limits';
import { orchestrateLocal, orchestrator } from './orchestrator';

async function limitHit(promise: Promise<unknown>): Promise<SandboxLimitError> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected a SandboxLimitError, the run returned ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SandboxLimitError);
  return error as SandboxLimitError;
}

afterEach(async () => {
  // After every limit, the host and new runs carry on.
  expect(
    await orchestrateLocal('await inc(x)', {
      inputs: { x: 1 },
      tasks: { inc: async (n: number) => n + 1 },
    }),
  ).toBe(2);
});

describe('limits', () => {
  it('has defaults for every limit', () => {
    expect(Object.keys(DEFAULT_LIMITS).sort()).toEqual(
      ['cpuTimeMs', 'hostCalls', 'memoryBytes', 'outputBytes', 'stackBytes', 'wallClockMs'].sort(),
    );
    const flow = orchestrator({ name: 'd', inputs: {}, output: z.number(), source: '1' });
    expect(flow.limits).toEqual(DEFAULT_LIMITS);
  });

  it('memoryBytes: QuickJS allocations past the limit end the run', async () => {
    const error = await limitHit(
      orchestrateLocal('const a = []\nfor (let i = 0; i < 1e7; i++) { a.push({ i }) }\na.length', {
        limits: { memoryBytes: 4 << 20 },
      }),
    );
    expect(error).toMatchObject({ limit: 'memoryBytes', value: 4 << 20 });
    expect(error.message).toMatch(/memoryBytes limit \(4194304\)/);
  }, 30_000);

  it('stackBytes: deep recursion ends the run', async () => {
    const error = await limitHit(orchestrateLocal('const f = (n) => f(n + 1) + 1\nf(0)', {}));
    expect(error).toMatchObject({ limit: 'stackBytes', value: DEFAULT_LIMITS.stackBytes });
  });

  it('cpuTimeMs: guest CPU time is bounded by the interrupt handler', async () => {
    const started = performance.now();
    const error = await limitHit(orchestrateLocal('for (;;) {}', { limits: { cpuTimeMs: 50 } }));
    expect(error).toMatchObject({ limit: 'cpuTimeMs', value: 50 });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('cpuTimeMs counts only guest time, not time waiting for tasks', async () => {
    const slow = async () => new Promise((r) => setTimeout(() => r(1), 150));
    expect(
      await orchestrateLocal('await slow() + (await slow())', {
        tasks: { slow },
        limits: { cpuTimeMs: 100 },
      }),
    ).toBe(2);
  });

  it('wallClockMs: a run waiting on the host past its deadline ends', async () => {
    const never = () => new Promise<never>(() => {});
    const error = await limitHit(
      orchestrateLocal('await never()', { tasks: { never }, limits: { wallClockMs: 100 } }),
    );
    expect(error).toMatchObject({ limit: 'wallClockMs', value: 100 });
  });

  it('wallClockMs also bounds code that never awaits', async () => {
    const error = await limitHit(
      orchestrateLocal('for (;;) {}', { limits: { wallClockMs: 50, cpuTimeMs: 60_000 } }),
    );
    expect(error).toMatchObject({ limit: 'wallClockMs', value: 50 });
  });

  it('hostCalls: the number of task calls is bounded, map items included', async () => {
    const noop = async () => null;
    const direct = await limitHit(
      orchestrateLocal('for (let i = 0; i < 10; i++) { await noop() }', {
        tasks: { noop },
        limits: { hostCalls: 5 },
      }),
    );
    expect(direct).toMatchObject({ limit: 'hostCalls', value: 5 });
    const mapped = await limitHit(
      orchestrateLocal('await map(noop, [1, 2, 3, 4, 5, 6])', {
        tasks: { noop },
        limits: { hostCalls: 5 },
      }),
    );
    expect(mapped).toMatchObject({ limit: 'hostCalls', value: 5 });
  });

  it('outputBytes: the output size is capped', async () => {
    const error = await limitHit(
      orchestrateLocal("'x'.repeat(2000)", { limits: { outputBytes: 1000 } }),
    );
    expect(error).toMatchObject({ limit: 'outputBytes', value: 1000 });
    expect(
      await orchestrateLocal("'é'.repeat(300)", { limits: { outputBytes: 1000 } }),
    ).toHaveLength(300);
  });

  it('a limit hit by one run leaves concurrent runs alone', async () => {
    const [bad, good] = await Promise.allSettled([
      orchestrateLocal('for (;;) {}', { limits: { cpuTimeMs: 50 } }),
      orchestrateLocal('let n = 0\nfor (const x of xs) { n += await inc(x) }\nn', {
        inputs: { xs: [1, 2, 3] },
        tasks: { inc: async (x: number) => x + 1 },
      }),
    ]);
    expect(bad.status).toBe('rejected');
    expect(good).toEqual({ status: 'fulfilled', value: 9 });
  });

  it('a pooled context that hit a limit is never reused', async () => {
    const flow = orchestrator({
      name: 'pooled.limits',
      inputs: { spin: z.boolean() },
      output: z.number(),
      pool: { size: 1 },
      limits: { cpuTimeMs: 50 },
      source: 'if (spin) { for (;;) {} }\n1',
    });
    await expect(flow.run({ spin: true })).rejects.toBeInstanceOf(SandboxLimitError);
    expect(await flow.run({ spin: false })).toBe(1);
    flow.dispose();
  });
});
