import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { expectHostStillWorks, rejection } from './__fixtures__/rejection';
import { OrchestratorError, OrchestratorValidationError, SandboxLimitError } from './errors';
import { orchestrateLocal, orchestrator } from './orchestrator';

// After each attack, the host and new runs carry on.
afterEach(expectHostStillWorks);

describe('hostile code', () => {
  it.each([
    '(() => {}).constructor("return process")()',
    '(async () => {}).constructor("return process")()',
    '(function* () {}).constructor("return process")().next()',
    '(async function* () {}).constructor("return 1")',
    '[].constructor.constructor("return process")()',
    "map['constructor']('return process')()",
    'map[`constructor`]',
    'const { constructor: C } = map; C("return 1")',
    'Object.getPrototypeOf(map).constructor',
    'eval("1")',
    'const e = eval; e("1")',
    'Function("return 1")()',
    'new Function("return 1")()',
    '(0, eval)("1")',
    'globalThis.eval("1")',
    "globalThis['Function']",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: orchestrator source, not a template
    'String.raw`${eval}`',
    'this.constructor',
  ])('the validator rejects %s', (source) => {
    expect(() => orchestrator({ name: 'h', inputs: {}, output: z.unknown(), source })).toThrow(
      OrchestratorValidationError,
    );
  });

  it.each([
    "map['constr' + 'uctor']",
    "Object.getPrototypeOf(async () => {})[['constructor'].join('')]",
    "[]['constr'.concat('uctor')]['constr'.concat('uctor')]",
    '(() => {})[String.fromCharCode(99, 111, 110, 115, 116, 114, 117, 99, 116, 111, 114)]',
  ])(
    'computed spellings the validator cannot see find no Function constructor: %s',
    async (expression) => {
      const kind = await orchestrateLocal(
        `const c = ${expression};\ntypeof c === 'function' && c.name`,
      );
      // Only plain constructors (Object, Array) remain reachable; none compiles code.
      expect(kind === false || kind === 'Object' || kind === 'Array').toBe(true);
      const error = await rejection(orchestrateLocal(`const c = ${expression};\nc('return 1')()`));
      expect(error).toBeInstanceOf(OrchestratorError);
    },
  );

  it('errors thrown by host tasks arrive in the guest without host references', async () => {
    const secret = new Error('boom at /secret/host/path.js');
    Object.assign(secret, { hostOnly: { token: 'abc' } });
    const seen = await orchestrateLocal(
      `const e = await fail().catch((x) => x);
       ({ keys: Object.getOwnPropertyNames(e).sort(), message: e.message, stack: e.stack, cause: typeof e.cause, hostOnly: typeof e.hostOnly })`,
      {
        tasks: {
          fail: async () => {
            throw secret;
          },
        },
      },
    );
    const result = seen as {
      keys: string[];
      message: string;
      stack: string;
      cause: string;
      hostOnly: string;
    };
    expect(result.cause).toBe('undefined');
    expect(result.hostOnly).toBe('undefined');
    expect(result.stack).not.toMatch(/node:|\.ts:|node_modules/);
    expect(result.message).toBe('Task "fail" failed: Error: boom at /secret/host/path.js');
  });

  it('getters and toJSON on returned objects run in the guest, under its limits', async () => {
    const getter = await rejection(
      orchestrateLocal(
        "Object.defineProperty({}, 'x', { enumerable: true, get: () => { for (;;) {} } })",
        {
          limits: { cpuTimeMs: 50 },
        },
      ),
    );
    expect(getter).toMatchObject({ limit: 'cpuTimeMs' });
    const toJSON = await rejection(
      orchestrateLocal('({ toJSON: () => { for (;;) {} } })', { limits: { cpuTimeMs: 50 } }),
    );
    expect(toJSON).toMatchObject({ limit: 'cpuTimeMs' });
    const arg = await rejection(
      orchestrateLocal('await keep({ toJSON: () => { for (;;) {} } })', {
        tasks: { keep: async () => 1 },
        limits: { cpuTimeMs: 50 },
      }),
    );
    expect(arg).toMatchObject({ limit: 'cpuTimeMs' });
    // A value the host receives is plain data: no getter, no toJSON, no prototype tricks.
    const plain = await orchestrateLocal(
      "Object.defineProperty({ toJSON: undefined }, 'x', { enumerable: true, get: () => 1 })",
    );
    expect(Object.getOwnPropertyDescriptor(plain, 'x')).toEqual({
      value: 1,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  });

  it('Symbol.toPrimitive, reachable through well-known symbols, only ever runs in the guest', async () => {
    // No Symbol global, but Symbol.prototype's own symbols can be reached from any symbol.
    const toPrimitive =
      'const anySymbol = Object.getOwnPropertySymbols(Object.getPrototypeOf([]))[0]\n' +
      'const [prim] = Object.getOwnPropertySymbols(Object.getPrototypeOf(anySymbol)).filter((s) => String(s).includes("toPrimitive"))\n';
    const looping = await rejection(
      orchestrateLocal(
        `${toPrimitive}throw Object.fromEntries([['name', Object.fromEntries([[prim, () => { for (;;) {} }]])]])`,
        {
          limits: { cpuTimeMs: 50 },
        },
      ),
    );
    expect(looping).toMatchObject({ limit: 'cpuTimeMs' });
    const returned = await orchestrateLocal(
      `${toPrimitive}Object.fromEntries([[prim, () => 1], ['a', 1]])`,
    );
    expect(returned).toEqual({ a: 1 });
    expect(Object.getOwnPropertySymbols(returned)).toEqual([]);
  });

  it('values nested deeper than the boundary allows fail cleanly, not on the host stack', async () => {
    // The native JSON.stringify would recurse 100,000 deep on the host's stack.
    const deep = await rejection(
      orchestrateLocal(
        'let a = []\nfor (let i = 0; i < 100000; i++) { a = [a] }\nJSON.stringify(a).length',
      ),
    );
    expect(deep).toBeInstanceOf(OrchestratorError);
    expect((deep as Error).message).toMatch(/nested deeper than 100 levels \(or circular\)/);
    const error = await rejection(
      orchestrateLocal('let a = []\nfor (let i = 0; i < 150; i++) { a = [a] }\na'),
    );
    expect(error).toBeInstanceOf(OrchestratorError);
    expect((error as Error).message).toMatch(/nested deeper than 100 levels/);
    const circular = await rejection(orchestrateLocal('const a = [1]\na.push(a)\na'));
    expect(circular).toBeInstanceOf(OrchestratorError);
  });

  it.each([
    ['a plain loop', 'for (;;) {}'],
    ['a loop in a promise job', 'await Promise.resolve().then(() => { for (;;) {} })'],
    ['a loop in a sort comparator', '[3, 2, 1].sort(() => { for (;;) {} })'],
    ['catastrophic regex backtracking', "/(a+)+$/.test('a'.repeat(40) + 'b')"],
    ['a loop between task calls', 'await noop()\nwhile (true) {}'],
  ])(
    '%s ends with the CPU limit',
    async (_, source) => {
      const error = await rejection(
        orchestrateLocal(source, { tasks: { noop: async () => 1 }, limits: { cpuTimeMs: 100 } }),
      );
      expect(error).toBeInstanceOf(SandboxLimitError);
      expect(error).toMatchObject({ limit: 'cpuTimeMs', value: 100 });
    },
    30_000,
  );

  it.each([
    ['plain recursion', 'const f = (n) => f(n + 1)\nf(0)'],
    ['recursion through a native', 'const f = (n) => [n].map((m) => f(m + 1))\nf(0)'],
    ['async recursion', 'const f = async (n) => await f(n + 1)\nawait f(0)'],
    ['a deeply nested JSON.parse', "JSON.parse('['.repeat(100000))"],
  ])(
    '%s ends with the stack limit',
    async (_, source) => {
      const error = await rejection(orchestrateLocal(source));
      expect(error).toBeInstanceOf(SandboxLimitError);
      expect(error).toMatchObject({ limit: 'stackBytes' });
    },
    30_000,
  );

  it.each([
    [
      '.catch',
      "await (async () => { const f = (n) => f(n + 1); f(0) })().catch(() => 'swallowed')",
    ],
    [
      '.then',
      "await (async () => { const f = (n) => f(n + 1); f(0) })().then(() => 1, () => 'swallowed')",
    ],
    [
      'map returnExceptions',
      'await map(async () => { const f = (n) => f(n + 1); f(0) }, [1], { returnExceptions: true })',
    ],
  ])('a limit error cannot be swallowed by %s', async (_, source) => {
    const error = await rejection(orchestrateLocal(source));
    expect(error).toMatchObject({ limit: 'stackBytes' });
  });

  it.each([
    [
      'a string bomb',
      "let s = 'x'\nfor (let i = 0; i < 40; i++) { s = (s + s).split('').join('') }\ns.length",
    ],
    ['an array bomb', 'const a = []\nfor (;;) { a.push([1, 2, 3, 4]) }'],
    ['one huge allocation', "'x'.repeat(2 ** 29).length"],
    ['a Map bomb', 'const m = new Map()\nfor (let i = 0; ; i++) { m.set(i, { i }) }'],
  ])(
    '%s ends with the memory limit',
    async (_, source) => {
      const error = await rejection(
        orchestrateLocal(source, { limits: { memoryBytes: 16 << 20, cpuTimeMs: 20_000 } }),
      );
      expect(error).toBeInstanceOf(SandboxLimitError);
      expect(error).toMatchObject({ limit: 'memoryBytes' });
    },
    30_000,
  );

  it('100,000 host calls: bounded by the budget, and fine within it', async () => {
    const noop = async () => null;
    const over = await rejection(
      orchestrateLocal('await Promise.all(Array.from({ length: 100000 }, () => noop()))', {
        tasks: { noop },
        limits: { cpuTimeMs: 20_000 },
      }),
    );
    expect(over).toMatchObject({ limit: 'hostCalls', value: 10_000 });
    let calls = 0;
    const count = async () => {
      calls++;
      return 1;
    };
    const items = await orchestrateLocal(
      'const r = await map(count, Array.from({ length: 100000 }, (_, i) => i), { concurrency: 1000 })\nr.length',
      { tasks: { count }, limits: { hostCalls: 100_000, cpuTimeMs: 20_000 } },
    );
    expect(items).toBe(100_000);
    expect(calls).toBe(100_000);
  }, 60_000);

  it('a host task that never settles ends with the wall-clock limit', async () => {
    const error = await rejection(
      orchestrateLocal('await hang()', {
        tasks: { hang: () => new Promise(() => {}) },
        limits: { wallClockMs: 100 },
      }),
    );
    expect(error).toMatchObject({ limit: 'wallClockMs', value: 100 });
  });

  it('awaiting a promise nothing can settle fails at once', async () => {
    const error = await rejection(orchestrateLocal('await new Promise(() => {})'));
    expect(error).toBeInstanceOf(OrchestratorError);
    expect((error as Error).message).toMatch(/waiting on a promise that nothing can settle/);
  });

  it('dispose while jobs and host calls are pending: late settlements are ignored safely', async () => {
    const late: (() => void)[] = [];
    const slow = () =>
      new Promise<number>((resolve) => {
        late.push(() => resolve(1));
      });
    const error = await rejection(
      orchestrateLocal(
        'const pending = [slow(), slow(), slow()]\nawait Promise.resolve().then(() => { for (;;) {} })\nawait Promise.all(pending)',
        { tasks: { slow }, limits: { cpuTimeMs: 50 } },
      ),
    );
    expect(error).toMatchObject({ limit: 'cpuTimeMs' });
    expect(late).toHaveLength(3);
    // The runtime is gone; settling its host calls now must not touch it.
    for (const settle of late) settle();
    await new Promise((r) => setTimeout(r, 10));
  });

  it('a pooled orchestrator survives attacks on its contexts', async () => {
    const flow = orchestrator({
      name: 'pooled.hostile',
      inputs: { attack: z.string() },
      output: z.unknown(),
      pool: { size: 2 },
      limits: { cpuTimeMs: 50, memoryBytes: 16 << 20 },
      tasks: { hang: () => new Promise(() => {}) },
      source: `
        if (attack === 'loop') { for (;;) {} }
        if (attack === 'bomb') { const a = []; for (;;) { a.push({ a }) } }
        if (attack === 'recursion') { const f = (n) => f(n + 1); f(0) }
        'fine'
      `,
    });
    for (const attack of ['loop', 'bomb', 'recursion']) {
      await expect(flow.run({ attack })).rejects.toBeInstanceOf(SandboxLimitError);
      expect(await flow.run({ attack: 'none' })).toBe('fine');
    }
    flow.dispose();
  });
});
