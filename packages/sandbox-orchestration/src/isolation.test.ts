import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runUnvalidated } from './__fixtures__/run-unvalidated';
import { OrchestratorError } from './errors';
import { DISALLOWED_GLOBALS } from './guest-prelude';
import { orchestrateLocal, orchestrator } from './orchestrator';

describe('isolation and determinism', () => {
  // Async code runs through the runner and its prelude, synchronous code through the direct call
  // path and its own prelude: each locks its context down by itself.
  describe.each([
    { path: 'runner', direct: false },
    { path: 'direct call path', direct: true },
  ])('through the $path', ({ direct }) => {
    it('exposes no code-compiling or nondeterministic global, even past the validator', async () => {
      const names = [
        ...DISALLOWED_GLOBALS,
        'Date',
        'Proxy',
        'WeakRef',
        'FinalizationRegistry',
        'ArrayBuffer',
      ];
      const types = await runUnvalidated(`return [${names.map((n) => `typeof ${n}`).join(', ')}]`, {
        direct,
      });
      expect(types).toEqual(names.map(() => 'undefined'));
      const constructors = await runUnvalidated(
        `return [
        typeof (() => {}).constructor,
        typeof (async () => {}).constructor,
        typeof (function* () {}).constructor,
        typeof (async function* () {}).constructor,
        typeof Object.getPrototypeOf(async () => {})['constr' + 'uctor'],
        typeof Object.getPrototypeOf(function* () {}).constructor,
        ${direct ? '' : 'typeof map.constructor,'}
      ]`,
        { direct },
      );
      expect(constructors).toEqual(Array(direct ? 6 : 7).fill('undefined'));
    });

    it('lets no guest pollution reach the host or a pooled context, even past the validator', async () => {
      await expect(
        runUnvalidated("Object.defineProperty(Array.prototype, 'leak', { value: 1 })", {
          pooled: true,
          direct,
        }),
      ).rejects.toThrow(/TypeError/);
      await runUnvalidated(
        "Object.defineProperty(Object.prototype, 'polluted', { value: 1 }); Array.prototype.push = null",
        { direct },
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(typeof [].push).toBe('function');
    });
  });

  it('has no Date, and seeds Math.random per run from the inputs', async () => {
    const source = '[typeof map, Math.random(), Math.random()]';
    const a = (await orchestrateLocal(source, { inputs: { x: 1 } })) as [string, number, number];
    const b = (await orchestrateLocal(source, { inputs: { x: 1 } })) as [string, number, number];
    const c = (await orchestrateLocal(source, { inputs: { x: 2 } })) as [string, number, number];
    expect(a[0]).toBe('function');
    expect(a).toEqual(b);
    expect(c[1]).not.toBe(a[1]);
    expect(a[1]).not.toBe(a[2]);
    expect(a[1]).toBeGreaterThanOrEqual(0);
    expect(a[1]).toBeLessThan(1);
    const seeded = await orchestrateLocal('Math.random()', { inputs: { x: 1 }, seed: 7 });
    expect(seeded).toBe(await orchestrateLocal('Math.random()', { inputs: { x: 2 }, seed: 7 }));
  });

  it('makes the same calls and output for the same inputs and task results', async () => {
    const calls: string[] = [];
    const pick = async (n: number) => {
      calls.push(`pick(${n})`);
      return n;
    };
    const source =
      'const n = Math.floor(Math.random() * 1000);\nawait pick(n) + (await pick(n + 1))';
    const first = await orchestrateLocal(source, { inputs: { x: 1 }, tasks: { pick } });
    const firstCalls = calls.splice(0);
    const second = await orchestrateLocal(source, { inputs: { x: 1 }, tasks: { pick } });
    expect(second).toBe(first);
    expect(calls).toEqual(firstCalls);
  });

  it('deep-freezes inputs and task results inside the guest', async () => {
    const frozen = await orchestrateLocal(
      'const r = await get();\n[Object.isFrozen(cfg), Object.isFrozen(cfg.nested), Object.isFrozen(cfg.nested.list), Object.isFrozen(r), Object.isFrozen(r.inner)]',
      {
        inputs: { cfg: { nested: { list: [1] } } },
        tasks: { get: async () => ({ inner: { a: 1 } }) },
      },
    );
    expect(frozen).toEqual([true, true, true, true, true]);
    // A mutation through a path the validator cannot see fails in strict mode.
    const error = await orchestrateLocal('Object.assign(cfg, { a: 2 })', {
      inputs: { cfg: { a: 1 } },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrchestratorError);
    expect((error as Error).message).toMatch(/TypeError/);
  });

  it('passes values by JSON: the host never shares an object with the guest', async () => {
    const config = { list: [1, 2] };
    const seen: unknown[] = [];
    await orchestrateLocal('await keep(cfg)', {
      inputs: { cfg: config },
      tasks: {
        keep: async (v: unknown) => {
          seen.push(v);
        },
      },
    });
    expect(seen[0]).toEqual(config);
    expect(seen[0]).not.toBe(config);
    expect(Object.isFrozen(config)).toBe(false);
  });

  it('pooled contexts reuse runtimes, with frozen intrinsics and no state surviving a run', async () => {
    const flow = orchestrator({
      name: 'pooled',
      inputs: { attempt: z.string() },
      output: z.unknown(),
      pool: { size: 1 },
      tasks: { noop: async () => null },
      source: `
        await noop();
        if (attempt === 'pollute') {
          Object.defineProperty(Object.getPrototypeOf([]), 'leak', { value: 1 });
        }
        if (attempt === 'pollute-math') {
          Object.assign(Math, { leak: 1 });
        }
        if (attempt === 'pollute-map') {
          Object.defineProperty(map, 'leak', { value: 1 });
        }
        ({ arrayLeak: [].leak, mathLeak: Math.leak, mapLeak: map.leak, frozen: Object.isFrozen(Object.getPrototypeOf([])), r: Math.random() })
      `,
    });
    const clean = await flow.run({ attempt: 'none' });
    expect(clean).toMatchObject({ frozen: true });
    for (const attempt of ['pollute', 'pollute-math', 'pollute-map']) {
      await expect(flow.run({ attempt })).rejects.toThrow(/TypeError/);
      // The next run sees none of it, and Math.random starts from the same seed again.
      expect(await flow.run({ attempt: 'none' })).toEqual(clean);
    }
    flow.dispose();
  });

  it('a pooled context assigns keys named like built-in properties as a fresh one does', async () => {
    const make = (pool?: { size: number }) =>
      orchestrator({
        name: 'assign',
        inputs: { counts: z.record(z.string(), z.number()), attack: z.string() },
        output: z.unknown(),
        ...(pool ? { pool } : {}),
        source: `
          if (attack === 'object') {
            Object.assign(Object.getPrototypeOf({}), { toString: 1 })
          }
          if (attack === 'error') {
            Object.assign(Object.getPrototypeOf(new TypeError('t')), { name: 'Hijacked' })
          }
          const e = Object.assign(new Error('x'), { name: 'MyError' });
          ({
            copy: Object.assign({}, counts),
            text: String({}),
            has: Object.hasOwn(Object.assign({}, counts), 'valueOf'),
            error: [e.name, e.message, String(e), new TypeError('t').name],
          })
        `,
      });
    const counts = { constructor: 1, toString: 2, valueOf: 3 };
    const fresh = make();
    const pooled = make({ size: 1 });
    const expected = {
      copy: counts,
      text: '[object Object]',
      has: true,
      error: ['MyError', 'x', 'MyError: x', 'TypeError'],
    };
    expect(await fresh.run({ counts, attack: 'none' })).toEqual(expected);
    expect(await pooled.run({ counts, attack: 'none' })).toEqual(expected);
    // The prototypes themselves still cannot be changed, and the next run sees them as they were.
    for (const attack of ['object', 'error']) {
      await expect(pooled.run({ counts, attack })).rejects.toThrow(/TypeError/);
      expect(await pooled.run({ counts, attack: 'none' })).toEqual(expected);
    }
    fresh.dispose();
    pooled.dispose();
  });

  it('pooled runs of the same orchestrator do not see each other, even when concurrent', async () => {
    const flow = orchestrator({
      name: 'pooled.concurrent',
      inputs: { n: z.number() },
      output: z.number(),
      pool: { size: 2 },
      tasks: { echo: async (v: number) => v },
      source: 'let acc = 0\nfor (let i = 0; i < 5; i++) { acc += await echo(n) }\nacc',
    });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => flow.run({ n })));
    expect(results).toEqual([5, 10, 15, 20, 25, 30]);
    flow.dispose();
  });

  it('host prototypes stay unchanged whatever the guest does', async () => {
    await orchestrateLocal(
      "Object.defineProperty(Object.getPrototypeOf({}), 'polluted', { value: 1 }); Object.defineProperty(Object.getPrototypeOf([]), 'polluted', { value: 1 }); JSON.parse('{\"__proto__\": {\"polluted\": 1}}')",
      {},
    );
    const result = await orchestrateLocal('({ a: 1 })', {});
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });
});
