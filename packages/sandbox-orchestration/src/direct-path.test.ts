import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DISALLOWED_GLOBALS } from './guest-prelude';
import type { OrchestratorLimits } from './limits';
import { orchestrateLocal, orchestrator } from './orchestrator';
import { loadEngine, setDirectPathForTests, unknownGlobals } from './quickjs-engine';
import { ALLOWED_GLOBALS } from './syntax-guide';

// Synchronous code (no await, no task) runs through the direct call path when the engine passes
// its self-test, and through the runner otherwise. Both must give the same results, to the bit.
interface Case {
  source: string;
  inputs?: Record<string, unknown>;
  limits?: OrchestratorLimits;
  seed?: number;
}

const LONG = 'é☃'.repeat(700);

const CASES: Case[] = [
  // Outputs of every kind.
  { source: 'x * 2 + y', inputs: { x: 3, y: 4 } },
  { source: '0.1 + 0.2' },
  { source: '-0' },
  { source: '0 / 0' },
  { source: '-1 / 0' },
  { source: '-(2 ** 31)' },
  { source: '2 ** 53 + 2' },
  { source: "'héllo ☃ ' + x", inputs: { x: 1 } },
  { source: "'a'.repeat(3000) + 'b'.repeat(3000)" },
  { source: 'x > 1', inputs: { x: 2 } },
  { source: 'x < 1', inputs: { x: 2 } },
  { source: 'null' },
  { source: 'undefined' },
  { source: 'const a = 1' },
  { source: '({ a: [1, { b: x }], c: undefined, d: -0 })', inputs: { x: 'y' } },
  { source: '[x, y, undefined]', inputs: { x: 1, y: 'two' } },
  { source: 'new Map([[1, 2]])' },
  { source: '() => 1' },
  { source: '10n' },
  // Inputs of every kind, and what the code sees of them.
  { source: 'Object.is(x, -0)', inputs: { x: -0 } },
  { source: '[x === null, y === null]', inputs: { x: Number.NaN, y: Number.POSITIVE_INFINITY } },
  { source: 'x.length + x.slice(-2)', inputs: { x: LONG } },
  { source: "x + '|' + y", inputs: { x: '', y: '\u0000zero' } },
  { source: "x + '|' + y.length", inputs: { x: '\ud800 lone', y: '😀 pair' } },
  { source: "'nul\\u0000inside'" },
  { source: "'lone \\ud800 surrogate'" },
  { source: "'\\ufffd replacement'" },
  { source: '[x, y, z]', inputs: { x: true, y: false, z: null } },
  { source: 'x === null', inputs: { x: undefined } },
  {
    source: '[Object.isFrozen(x), Object.isFrozen(x.a), Object.isFrozen(x.a.b), x.a.b[0]]',
    inputs: { x: { a: { b: [1] } } },
  },
  { source: 'x.length + y.k', inputs: { x: [1, 2, 3], y: { k: LONG } } },
  {
    source: '[a.k, b, c.length, d[0], e]',
    inputs: { a: { k: 1 }, b: 2, c: 'é\u0000', d: [LONG], e: 'plain' },
  },
  // Code that redefines a built-in the encoder uses changes nothing: it was captured before.
  { source: "Object.defineProperty(Object, 'keys', { value: () => [] })\n({ a: 1 })" },
  {
    source: "Object.defineProperty(JSON, 'parse', { value: () => 1 })\n[JSON.parse('2'), { b: 2 }]",
  },
  // Errors, built-ins that are replaced, and limits.
  { source: "throw new TypeError('boom ' + x)", inputs: { x: 1 } },
  { source: 'const o = null\no.x' },
  { source: 'JSON.stringify({ a: x, b: [1] })', inputs: { x: 'y' } },
  { source: 'JSON.stringify(x, null, 2)', inputs: { x: 1 } },
  { source: '[Math.random(), Math.random(), Math.max(x, 2)]', inputs: { x: 1 } },
  { source: 'let i = 0\nwhile (true) { i++ }', limits: { cpuTimeMs: 50 } },
  { source: 'const f = (n) => f(n + 1)\nf(0)' },
  { source: "'x'.repeat(2000)", limits: { outputBytes: 1000 } },
  { source: "['x'.repeat(2000)]", limits: { outputBytes: 1000 } },
  { source: "'x'.repeat(2 ** 26)", limits: { memoryBytes: 32 * 1024 * 1024 } },
  // An input QuickJS cannot even allocate.
  { source: 'typeof s', inputs: { s: 'x'.repeat(2e6) }, limits: { memoryBytes: 1e6 } },
  { source: 'typeof s', inputs: { s: ['x'.repeat(2e6)] }, limits: { memoryBytes: 1e6 } },
  // A limit hit while the error is described.
  { source: 'const f = (n) => f(n + 1)\nthrow { message: { toString: () => f(0) } }' },
  {
    source:
      'const f = (n) => f(n + 1)\nJSON.parse("1")\nthrow { message: { toString: () => f(0) } }',
  },
  // Primitive outputs held to a tiny output limit.
  { source: '12345', limits: { outputBytes: 3 } },
  { source: 'true', limits: { outputBytes: 2 } },
  { source: 'null', limits: { outputBytes: 4 } },
  // Seeds the runner reads as 32-bit integers.
  { source: 'Math.random()', seed: -1.5 },
  { source: 'Math.random()', seed: 1e300 },
  { source: 'Math.random()', seed: Number.NaN },
  { source: 'Math.random()', seed: 2 ** 40 + 3 },
];

/** What a case gives: its value, or its error reduced to what does not vary between runs. */
async function outcomes(): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const { source, inputs, limits, seed } of CASES) {
    try {
      const options = {
        ...(inputs ? { inputs } : {}),
        ...(limits ? { limits } : {}),
        ...(seed === undefined ? {} : { seed }),
      };
      results.push({ value: await orchestrateLocal(source, options) });
    } catch (error) {
      const e = error as Error & { limit?: string };
      results.push({ error: e.name, limit: e.limit, message: e.limit ? '' : e.message });
    }
  }
  return results;
}

describe('the direct call path of synchronous code', () => {
  it('is open on this build of quickjs-emscripten: its self-test passes', async () => {
    expect((await loadEngine()).raw).toBeDefined();
  });

  it('gives exactly what the runner gives, for every kind of input, output and error', async () => {
    const direct = await outcomes();
    setDirectPathForTests(false);
    try {
      expect((await loadEngine()).raw).toBeUndefined();
      const runner = await outcomes();
      for (const [i, c] of CASES.entries()) {
        expect({ source: c.source, got: direct[i] }).toEqual({ source: c.source, got: runner[i] });
      }
    } finally {
      setDirectPathForTests(true);
    }
    // The cases do reach both paths' interesting branches.
    expect(direct).toContainEqual({ value: null });
    expect(direct).toContainEqual({
      error: 'SandboxLimitError',
      limit: 'outputBytes',
      message: '',
    });
    expect(direct).toContainEqual({ error: 'SandboxLimitError', limit: 'cpuTimeMs', message: '' });
  });

  it('reuses a pooled context run after run, and never one whose run failed', async () => {
    const counter = orchestrator({
      name: 'direct.pooled',
      inputs: { x: z.number() },
      output: z.number(),
      source: "if (x < 0) throw new Error('negative')\nx + Math.floor(Math.random() * 0)",
      pool: { size: 1 },
    });
    try {
      for (let i = 0; i < 50; i++) expect(await counter.run({ x: i })).toBe(i);
      await expect(counter.run({ x: -1 })).rejects.toThrow(/negative/);
      expect(await counter.run({ x: 7 })).toBe(7);
    } finally {
      counter.dispose();
    }
  });

  it('ends a run with the memory limit when QuickJS cannot read out its result, and goes on', async () => {
    const repeat = orchestrator({
      name: 'direct.big_result',
      inputs: { n: z.number() },
      output: z.union([z.number(), z.string()]),
      source: "n > 10 ? 'é'.repeat(n) : n + 1",
      limits: { memoryBytes: 4 * 1024 * 1024 },
      pool: { size: 1 },
    });
    try {
      expect(await repeat.run({ n: 1 })).toBe(2);
      await expect(repeat.run({ n: 2_500_000 })).rejects.toMatchObject({
        name: 'SandboxLimitError',
        limit: 'memoryBytes',
      });
      expect(await repeat.run({ n: 2 })).toBe(3);
    } finally {
      repeat.dispose();
    }
  });

  it('lists every global of this build as allowed or disallowed, and refuses an unknown one', async () => {
    const { module } = await loadEngine();
    // Every global a context has, with no list to filter by.
    const all = unknownGlobals(module, new Set()).sort();
    expect(all).toEqual([...ALLOWED_GLOBALS, ...DISALLOWED_GLOBALS].sort());
    expect(unknownGlobals(module)).toEqual([]);
    // What loading would report of a build whose extra globals were DISALLOWED_GLOBALS.
    expect(unknownGlobals(module, new Set(ALLOWED_GLOBALS)).sort()).toEqual(
      [...DISALLOWED_GLOBALS].sort(),
    );
  });
});
