import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineTask, FlyteError } from '@flyte/idl';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OrchestratorError, OrchestratorValidationError } from './errors';
import { createJournal } from './journal';
import { ORCHESTRATOR_TASK_TYPE, orchestrateLocal, orchestrator } from './orchestrator';

const here = fileURLToPath(import.meta.url);

const add = defineTask({
  name: 'math.add',
  taskType: 'typescript-function',
  inputs: z.object({ a: z.number(), b: z.number() }),
  outputs: z.object({ o0: z.number() }),
  run: async ({ a, b }) => ({ o0: a + b }),
});

const stats = defineTask({
  name: 'math.stats',
  taskType: 'typescript-function',
  inputs: z.object({ xs: z.array(z.number()) }),
  outputs: z.object({ min: z.number(), max: z.number() }),
  run: async ({ xs }) => ({ min: Math.min(...xs), max: Math.max(...xs) }),
});

const sumOfDoubles = orchestrator({
  name: 'math.sum_of_doubles',
  inputs: { xs: z.array(z.number()) },
  output: z.number(),
  tasks: { double: async (x: number) => x * 2 },
  source: `
    const doubled = await Promise.all(xs.map((x) => double(x)));
    doubled.reduce((a, b) => a + b, 0)
  `,
});

describe('orchestrator', () => {
  it('runs code that calls tasks and returns the output value itself', async () => {
    expect(await sumOfDoubles.run({ xs: [1, 2, 3] })).toBe(12);
  });

  it('is described as a Flyte task with one output named o0', () => {
    expect(sumOfDoubles.taskType).toBe('sandboxed-javascript');
    expect(Object.keys(sumOfDoubles.interface.outputs.shape)).toEqual(['o0']);
    expect(Object.keys(sumOfDoubles.interface.inputs.shape)).toEqual(['xs']);
    const line =
      readFileSync(here, 'utf8').split('\n').indexOf('const sumOfDoubles = orchestrator({') + 1;
    expect(sumOfDoubles.definedAt).toEqual({ file: here, line, column: expect.any(Number) });
  });

  it('gives a TaskDefinition view whose run resolves to { o0 }', async () => {
    const task = sumOfDoubles.toTaskDefinition();
    expect(await task.run({ xs: [5] })).toEqual({ o0: 10 });
  });

  it('serializes to a sandboxed-javascript task template with source, limits and interface', () => {
    const template = sumOfDoubles.toTaskTemplate({ project: 'p', domain: 'd', version: 'v1' });
    expect(template.type).toBe(ORCHESTRATOR_TASK_TYPE);
    const custom = template.custom as Record<string, unknown>;
    expect(custom.source).toBe(sumOfDoubles.source);
    expect(custom.limits).toEqual({ ...sumOfDoubles.limits });
    expect(custom.inputOrder).toEqual(['xs']);
    expect(custom.tasks).toEqual({ double: 'function' });
    expect(template.interface?.outputs?.variables.map((v) => v.key)).toEqual(['o0']);
    expect(template.interface?.inputs?.variables.map((v) => v.key)).toEqual(['xs']);
  });

  it('calls TaskDefinitions positionally or with named inputs, unwrapping a single o0', async () => {
    const flow = orchestrator({
      name: 'flow',
      inputs: { x: z.number() },
      output: z.unknown(),
      tasks: { add, stats },
      source: `
        const a = await add(x, 1);
        const b = await add({ a: x, b: 2 });
        const s = await stats([a, b, 7]);
        return { a, b, s };
      `,
    });
    expect(await flow.run({ x: 1 })).toEqual({ a: 2, b: 3, s: { min: 2, max: 7 } });
  });

  it('gives a one-input TaskDefinition a lone object as its input, never as named inputs', async () => {
    const echo = defineTask({
      name: 'echo',
      taskType: 'typescript-function',
      inputs: z.object({ x: z.unknown() }),
      outputs: z.object({ o0: z.unknown() }),
      run: async ({ x }) => ({ o0: x }),
    });
    expect(
      await orchestrateLocal('[await echo({ x: 1 }), await echo(2)]', { tasks: { echo } }),
    ).toEqual([{ x: 1 }, 2]);
  });

  it('checks inputs and output with their zod schemas', async () => {
    await expect(sumOfDoubles.run({ xs: ['a'] } as never)).rejects.toThrow(
      /got invalid inputs: inputs\.xs\.0/,
    );
    const liar = orchestrator({ name: 'liar', inputs: {}, output: z.number(), source: '"nope"' });
    await expect(liar.run({})).rejects.toMatchObject({
      code: 'invalid_task_io',
      details: { stage: 'output' },
    });
  });

  it('rejects bad source when created, before anything runs', () => {
    let called = false;
    expect(() =>
      orchestrator({
        name: 'bad',
        inputs: {},
        output: z.number(),
        tasks: {
          t: async () => {
            called = true;
          },
        },
        source: 'await t();\nclass A {}',
      }),
    ).toThrow(OrchestratorValidationError);
    expect(called).toBe(false);
  });

  it('validates exactly what QuickJS compiles: an HTML-like comment hides no code', async () => {
    // As a module, acorn reads `1 <!--y /*` as `1 < !(--y)` and a block comment; QuickJS
    // compiles a script, where `<!--` starts a line comment and the next line runs.
    const source = [
      'let y = 0',
      'const z = 1 <!--y /*',
      "class A { m() { return this } }; const o = {}; o.x = 1; var v = 2; let r = 'none'; try { null.q } catch (e) { r = 'caught' } return [typeof A, o.x, v, r]",
      '//*/',
    ].join('\n');
    const error = await orchestrateLocal(source).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrchestratorValidationError);
    const rules = (error as OrchestratorValidationError).diagnostics.map((d) => d.rule);
    expect(rules).toContain('syntax');
    expect(() =>
      orchestrator({ name: 'n', inputs: {}, output: z.number(), source: '--> hidden\n1' }),
    ).toThrow(OrchestratorValidationError);
  });

  it('rejects redeclaring an input when created, at its position', () => {
    const error = (() => {
      try {
        orchestrator({
          name: 'shadow',
          inputs: { x: z.number() },
          output: z.number(),
          source: 'const x = 1\nx',
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(OrchestratorValidationError);
    expect((error as OrchestratorValidationError).diagnostics[0]).toMatchObject({
      rule: 'syntax',
      message: "Identifier 'x' has already been declared",
      line: 1,
      column: 7,
    });
  });

  it('rejects a } that closes the function the code is the body of', () => {
    for (const source of ['}); (function () {', '})\n(function () {', '1 }, { a: 1']) {
      expect(() => orchestrator({ name: 'n', inputs: {}, output: z.unknown(), source })).toThrow(
        /Unexpected `}`|Unexpected token/,
      );
    }
  });

  it('rejects input and task names that cannot be variables, or clash', () => {
    expect(() =>
      orchestrator({ name: 'n', inputs: { 'a-b': z.number() }, output: z.number(), source: '1' }),
    ).toThrow(/"a-b" is not usable as a JavaScript variable name/);
    expect(() =>
      orchestrator({
        name: 'n',
        inputs: { add: z.number() },
        output: z.number(),
        tasks: { add },
        source: '1',
      }),
    ).toThrow(/both an input and a task/);
    expect(() =>
      orchestrator({
        name: 'n',
        inputs: {},
        output: z.number(),
        source: '1',
        limits: { cpuTimeMs: -1 },
      }),
    ).toThrow(/limits\.cpuTimeMs is -1/);
    expect(() =>
      orchestrator({
        name: 'n',
        inputs: {},
        output: z.number(),
        source: '1',
        limits: { stackBytes: 2 << 20 },
      }),
    ).toThrow(/at most 1048576 \(1 MiB\)/);
    expect(() =>
      orchestrator({ name: 'n', inputs: {}, output: z.number(), source: '1', pool: { size: 0 } }),
    ).toThrow(/pool\.size is 0/);
    expect(() =>
      orchestrator({
        name: 'n',
        inputs: {},
        output: z.number(),
        source: '1',
        isolation: 'vm' as never,
      }),
    ).toThrow(/isolation is "vm"/);
  });

  it('takes the value of an explicit return, or undefined when there is none', async () => {
    expect(
      await orchestrateLocal('if (x > 1) { return "big" }\n"small"', { inputs: { x: 2 } }),
    ).toBe('big');
    expect(
      await orchestrateLocal('if (x > 1) { return "big" }\n"small"', { inputs: { x: 0 } }),
    ).toBe('small');
    expect(await orchestrateLocal('const a = 1', {})).toBeUndefined();
  });

  it('fails with OrchestratorError naming the call site, caused by the task error', async () => {
    const boom = new Error('disk full');
    const flow = orchestrator({
      name: 'flow.fail',
      inputs: {},
      output: z.number(),
      tasks: {
        ok: async () => 1,
        fail: async () => {
          throw boom;
        },
      },
      source: 'const a = await ok()\nconst b =   await fail(a)\nreturn a + b',
    });
    const error = await flow.run({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrchestratorError);
    const failure = error as OrchestratorError;
    expect(failure.cause).toBe(boom);
    expect(failure.task).toBe('fail');
    // QuickJS places a call at its opening parenthesis.
    expect(failure.callSite).toEqual({ line: 2, column: 23 });
    expect(failure.message).toContain('task "fail" called at flow.fail:2:23 failed: disk full');
    expect(failure.guestStack).toContain('(flow.fail:2:23)');
  });

  it('runs asynchronous code whatever the shape of its function bodies', async () => {
    // Asynchronous code is instrumented around every function body (see validate.ts).
    const source = [
      'const f = async (x) => ({ a: x })',
      'const g = (x) =>',
      '  x + 1',
      'const h = (a, b) => (a, b)',
      'const k = (x) => /* => */ (x)',
      'const m = { twice(x) { return x * 2 } }',
      'const n = (x) => (y) => x + y',
      'function p() { return 7 }',
      "const q = async (a = async () => 1, { b, ['c']: c = 3 } = { b: 2 }, [d = (() => 4)()] = []) => (await a()) + b + c + d",
      'const r = { ...(await f(await inc(1))), b: g(1), c: h(1, 2), d: k(4), e: m.twice(3), n: n(1)(2), p: p(), q: await q() }',
      'r',
    ].join('\n');
    expect(await orchestrateLocal(source, { tasks: { inc: async (x: number) => x + 1 } })).toEqual({
      a: 2,
      b: 2,
      c: 2,
      d: 4,
      e: 6,
      n: 3,
      p: 7,
      q: 10,
    });
  });

  it('reports guest runtime errors with the guest stack in the user source', async () => {
    const error = await orchestrateLocal(
      'const f = (o) => o.missing.deeper\nconst a = 1\n  f({})',
      {},
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrchestratorError);
    expect((error as OrchestratorError).message).toMatch(
      /threw at orchestrateLocal:1:27: TypeError/,
    );
    expect((error as OrchestratorError).guestStack).toContain('(orchestrateLocal:1:27)');
    expect((error as OrchestratorError).guestStack).toContain('(orchestrateLocal:3:3)');
    // Asynchronous code is instrumented (see validate.ts): positions still point at the source.
    const instrumented = await orchestrateLocal(
      'const f = async (o) => o.missing.deeper\nawait noop()\n  await f({})',
      { tasks: { noop: async () => 1 } },
    ).catch((e: unknown) => e);
    expect(instrumented).toBeInstanceOf(OrchestratorError);
    expect((instrumented as OrchestratorError).message).toMatch(
      /threw at orchestrateLocal:1:33: TypeError/,
    );
    expect((instrumented as OrchestratorError).guestStack).toContain('(orchestrateLocal:3:10)');
    const block = await orchestrateLocal(
      'const g = async () => { await noop(); return [].x.y }\nawait g()',
      { tasks: { noop: async () => 1 } },
    ).catch((e: unknown) => e);
    expect((block as OrchestratorError).message).toMatch(
      /threw at orchestrateLocal:1:50: TypeError/,
    );
    const thrown = await orchestrateLocal('throw new Error("on purpose")', {}).catch(
      (e: unknown) => e,
    );
    expect((thrown as Error).message).toContain('Error: on purpose');
  });

  it('counts lines as QuickJS does: U+2028 in a string shifts no position', async () => {
    const error = await orchestrateLocal('const s = "a\u2028b"\nnull.x').catch((e: unknown) => e);
    expect((error as OrchestratorError).callSite).toEqual({ line: 2, column: 5 });
    const later = await orchestrateLocal(
      'const s = "a\u2028b"\nawait noop()\nconst f = async () => null.x\nawait f()',
      { tasks: { noop: async () => 1 } },
    ).catch((e: unknown) => e);
    expect((later as OrchestratorError).callSite).toEqual({ line: 3, column: 27 });
    // QuickJS counts code points in a line, the source's positions UTF-16 units.
    const astral = await orchestrateLocal('const s = "😀"; null.x').catch((e: unknown) => e);
    expect((astral as OrchestratorError).callSite).toEqual({ line: 1, column: 21 });
  });

  it('runs Promise.all calls concurrently on the host', async () => {
    let active = 0;
    let peak = 0;
    const slow = async (x: number) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 10));
      active--;
      return x;
    };
    const result = await orchestrateLocal('await Promise.all(xs.map((x) => slow(x)))', {
      inputs: { xs: [1, 2, 3, 4, 5] },
      tasks: { slow },
    });
    expect(result).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBe(5);
  });

  it('fans out with map, bounded by concurrency, in input order', async () => {
    let active = 0;
    let peak = 0;
    const square = async (x: number) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, (x % 3) * 2));
      active--;
      return x * x;
    };
    const xs = Array.from({ length: 20 }, (_, i) => i);
    const result = await orchestrateLocal('await map(square, xs, { concurrency: 3 })', {
      inputs: { xs },
      tasks: { square },
    });
    expect(result).toEqual(xs.map((x) => x * x));
    expect(peak).toBe(3);
  });

  it('map returns failures as values with returnExceptions, and fails the run without', async () => {
    const half = async (x: number) => {
      if (x % 2) throw new Error(`odd ${x}`);
      return x / 2;
    };
    const source = `
      const r = await map(half, xs, { concurrency: 2, returnExceptions: true });
      r.map((v) => typeof v === 'number' ? v : v.message)
    `;
    expect(await orchestrateLocal(source, { inputs: { xs: [2, 3, 4] }, tasks: { half } })).toEqual([
      1,
      'Task "half" failed: Error: odd 3',
      2,
    ]);
    const error = await orchestrateLocal('await map(half, xs)', {
      inputs: { xs: [2, 3] },
      tasks: { half },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrchestratorError);
    expect((error as OrchestratorError).cause).toMatchObject({ message: 'odd 3' });
    expect((error as OrchestratorError).callSite).toEqual({ line: 1, column: 10 });
  });

  it('map also fans out over guest functions', async () => {
    expect(
      await orchestrateLocal(
        'await map(async (x) => (await inc(x)) * 10, [1, 2, 3], { concurrency: 2 })',
        {
          tasks: { inc: async (x: number) => x + 1 },
        },
      ),
    ).toEqual([20, 30, 40]);
  });

  it('lets an orchestrator call another orchestrator as a task', async () => {
    const outer = orchestrator({
      name: 'outer',
      inputs: { n: z.number() },
      output: z.number(),
      tasks: { inner: sumOfDoubles },
      source: 'await inner([n, n]) + 1',
    });
    expect(await outer.run({ n: 2 })).toBe(9);
  });

  it('does not start when the signal is already aborted, and stops a run when it aborts', async () => {
    await expect(sumOfDoubles.run({ xs: [1] }, { signal: AbortSignal.abort() })).rejects.toThrow(
      /abort/i,
    );
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const wait = defineTask({
      name: 'wait',
      taskType: 't',
      inputs: z.object({}),
      outputs: z.object({ o0: z.number() }),
      run: (_, { signal }) => {
        seen = signal;
        return new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        );
      },
    });
    const running = orchestrateLocal('await wait()', {
      tasks: { wait },
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await expect(running).rejects.toThrow('stop');
    expect(seen?.aborted).toBe(true);
  });

  it('fails with a clear error when a task returns a value that is not JSON', async () => {
    const error = await orchestrateLocal('await big()', { tasks: { big: async () => 1n } }).catch(
      (e: unknown) => e,
    );
    expect((error as OrchestratorError).cause).toBeInstanceOf(FlyteError);
    expect((error as Error).message).toMatch(/not JSON/);
  });

  it('fails the call, and records the failure, when a task returns a function or a symbol', async () => {
    for (const [value, type] of [
      [() => 1, 'function'],
      [Symbol('s'), 'symbol'],
    ] as const) {
      const journal = createJournal();
      const error = await orchestrateLocal('await t()', {
        tasks: { t: async () => value },
        journal,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OrchestratorError);
      expect((error as OrchestratorError).cause).toMatchObject({ code: 'task_result_not_json' });
      expect((error as Error).message).toContain(
        `task "t" called at orchestrateLocal:1:8 failed: Task "t" returned a value that is not JSON (a ${type})`,
      );
      expect(journal.calls).toHaveLength(1);
      expect(journal.calls[0]).toMatchObject({ sequence: 0, task: 't' });
      expect(journal.calls[0]?.error?.message).toContain(`(a ${type})`);
    }
  });
});
