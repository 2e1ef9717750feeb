import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { expectHostStillWorks, rejection } from './__fixtures__/rejection';
import { SandboxLimitError } from './errors';
import { DEFAULT_LIMITS } from './limits';
import { orchestrateLocal, orchestrator } from './orchestrator';

async function limitHit(promise: Promise<unknown>): Promise<SandboxLimitError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(SandboxLimitError);
  return error as SandboxLimitError;
}

// After each limit, the host and new runs carry on.
afterEach(expectHostStillWorks);

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
      // A generous CPU limit: on a loaded machine the CPU limit could otherwise come first.
      orchestrateLocal('const a = []\nfor (let i = 0; i < 1e7; i++) { a.push({ i }) }\na.length', {
        limits: { memoryBytes: 4 << 20, cpuTimeMs: 20_000 },
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

  it('wallClockMs: refuses a value no timer can wait for, and takes the largest one', async () => {
    // Node turns a timer past 2^31 - 1 ms into 1 ms: every run would end at once.
    const error = await rejection(orchestrateLocal('1', { limits: { wallClockMs: 2 ** 31 } }));
    expect(error).toMatchObject({
      code: 'invalid_limits',
      details: { limit: 'wallClockMs', value: 2 ** 31 },
    });
    expect((error as Error).message).toMatch(
      /limits\.wallClockMs is 2147483648; at most 2147483647/,
    );
    const slow = () => new Promise((resolve) => setTimeout(() => resolve(1), 20));
    expect(
      await orchestrateLocal('await slow()', {
        tasks: { slow },
        limits: { wallClockMs: 2 ** 31 - 1 },
      }),
    ).toBe(1);
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

describe('a limit ends the run at once, whatever the code does with promises', () => {
  // Counts task calls: after a limit, none may start, and the run must not wait for slow ones.
  function tasks() {
    const started: string[] = [];
    return {
      started,
      tasks: {
        noop: async () => {
          started.push('noop');
          return null;
        },
        slow: () => {
          started.push('slow');
          return new Promise((resolve) => setTimeout(() => resolve(1), 2_000));
        },
      },
    };
  }
  const recursion = 'const f = (n) => f(n + 1) + 1';

  it('un-awaited task calls past the host-call budget', async () => {
    const { started, tasks: t } = tasks();
    const error = await limitHit(
      orchestrateLocal('for (let i = 0; i < 10; i++) { noop() }\nawait slow()\n1', {
        tasks: t,
        limits: { hostCalls: 5 },
      }),
    );
    expect(error).toMatchObject({ limit: 'hostCalls', value: 5 });
    expect(started).toEqual(['noop', 'noop', 'noop', 'noop', 'noop']);
  });

  it('a stack overflow in a promise nobody awaits', async () => {
    const { started, tasks: t } = tasks();
    const error = await limitHit(
      orchestrateLocal(`${recursion}\n;(async () => f(0))()\nawait noop()\n1`, { tasks: t }),
    );
    expect(error).toMatchObject({ limit: 'stackBytes', value: DEFAULT_LIMITS.stackBytes });
    expect(started).toEqual([]);
  });

  it.each([
    ['passes its promise to a function', 'const p = f(n + 1); hold(p)'],
    ['calls a native after it', 'f(n + 1); [1].map((v) => v)'],
  ])(
    'a stack overflow in un-awaited async recursion that %s, with no stack left to report it',
    async (_, step) => {
      const { started, tasks: t } = tasks();
      const error = await limitHit(
        orchestrateLocal(
          `let depth = 0\nconst hold = (p) => p\nconst f = async (n) => { depth = n; ${step} }\nf(0)\nawait noop()\nawait noop()\nreturn [depth, 'ok']`,
          { tasks: t },
        ),
      );
      expect(error).toMatchObject({ limit: 'stackBytes', value: DEFAULT_LIMITS.stackBytes });
      expect(started).toEqual([]);
    },
  );

  it('the same, pooled (the count of unreported errors stays writable in frozen contexts)', async () => {
    const { started, tasks: t } = tasks();
    const flow = orchestrator({
      name: 'pooled.recursion',
      inputs: {},
      output: z.unknown(),
      tasks: t,
      pool: { size: 1 },
      source: 'const f = async (n) => { f(n + 1); [1].map((v) => v) }\nf(0)\nawait noop()\n1',
    });
    expect(await limitHit(flow.run({}))).toMatchObject({ limit: 'stackBytes' });
    expect(started).toEqual([]);
    flow.dispose();
  });

  it('running out of memory in a promise nobody awaits', async () => {
    const { started, tasks: t } = tasks();
    const error = await limitHit(
      orchestrateLocal("(async () => 'x'.repeat(2 ** 27))()\nawait noop()\n1", {
        tasks: t,
        limits: { memoryBytes: 8 << 20 },
      }),
    );
    expect(error).toMatchObject({ limit: 'memoryBytes', value: 8 << 20 });
    expect(started).toEqual([]);
  });

  it.each([
    ['new Promise', `new Promise(() => f(0))`],
    ['Promise.try', `Promise.try(() => f(0))`],
    ['a thenable', `Promise.resolve({ then: () => f(0) })`],
    ['a then handler', `Promise.resolve(1).then(() => f(0))`],
    ['a native called by a then handler', "Promise.resolve('['.repeat(100000)).then(JSON.parse)"],
    ['an async default parameter', ";(async (x = JSON.parse('['.repeat(100000))) => x)()"],
  ])('a stack overflow inside %s, never awaited', async (_, expression) => {
    const { started, tasks: t } = tasks();
    const error = await limitHit(
      orchestrateLocal(`${recursion}\n${expression}\nawait noop()\nawait noop()\n1`, {
        tasks: t,
      }),
    );
    expect(error).toMatchObject({ limit: 'stackBytes' });
    expect(started.length).toBeLessThanOrEqual(1);
  });

  it('a .catch that swallows a limit error while the code keeps working', async () => {
    const { started, tasks: t } = tasks();
    const error = await limitHit(
      orchestrateLocal(
        `${recursion}\nawait (async () => f(0))().catch(() => 'swallowed')\nawait slow()\nawait slow()\n1`,
        { tasks: t },
      ),
    );
    expect(error).toMatchObject({ limit: 'stackBytes' });
    expect(started).toEqual([]);
  });

  it('a .then rejection handler that swallows running out of memory', async () => {
    const { started, tasks: t } = tasks();
    const error = await limitHit(
      orchestrateLocal(
        "await (async () => 'x'.repeat(2 ** 27))().then(() => 1, () => 0)\nawait slow()\n1",
        { tasks: t, limits: { memoryBytes: 8 << 20 } },
      ),
    );
    expect(error).toMatchObject({ limit: 'memoryBytes' });
    expect(started).toEqual([]);
  });

  it('a limit error caught by Promise.allSettled', async () => {
    const { started, tasks: t } = tasks();
    const error = await limitHit(
      orchestrateLocal(
        `${recursion}\nawait Promise.allSettled([(async () => f(0))()])\nawait slow()\n1`,
        { tasks: t },
      ),
    );
    expect(error).toMatchObject({ limit: 'stackBytes' });
    expect(started).toEqual([]);
  });

  it('a limit hit while encoding task arguments is not reported as a task failure', async () => {
    const { tasks: t } = tasks();
    const error = await limitHit(
      orchestrateLocal(`${recursion}\nawait noop({ toJSON: () => f(0) })`, { tasks: t }),
    );
    expect(error).toMatchObject({ limit: 'stackBytes' });
  });

  it('a pooled context whose run swallowed a limit error is not reused', async () => {
    let calls = 0;
    const flow = orchestrator({
      name: 'pooled.swallowed',
      inputs: { attack: z.boolean() },
      output: z.unknown(),
      pool: { size: 1 },
      tasks: {
        noop: async () => {
          calls++;
          return 1;
        },
      },
      source: `const f = (n) => f(n + 1) + 1
        if (attack) { await (async () => f(0))().catch(() => 0) }
        await noop()`,
    });
    await expect(flow.run({ attack: true })).rejects.toBeInstanceOf(SandboxLimitError);
    // The run ended at the limit: the task after the swallowing .catch never ran.
    expect(calls).toBe(0);
    expect(await flow.run({ attack: false })).toBe(1);
    flow.dispose();
  });
});
