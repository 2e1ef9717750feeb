import { describe, expect, it } from 'vitest';
import { OrchestratorValidationError } from './errors';
import { ALLOWED_GLOBALS, ORCHESTRATOR_SYNTAX_GUIDE } from './syntax-guide';
import { lineLocator, validateOrchestratorSource } from './validate';

const context = { name: 'flow', inputs: ['x', 'xs'], tasks: ['add'] };

function diagnosticsOf(source: string) {
  try {
    validateOrchestratorSource(source, context);
  } catch (error) {
    if (error instanceof OrchestratorValidationError) return error.diagnostics;
    throw error;
  }
  return [];
}

function rulesOf(source: string): string[] {
  return diagnosticsOf(source).map((d) => d.rule);
}

// One row per rule of ORCHESTRATOR_SYNTAX_GUIDE: sources that break it.
const cases: Record<string, string[]> = {
  'no-import': [
    "import fs from 'node:fs'",
    'export const a = 1',
    "await import('node:fs')",
    'import.meta',
  ],
  'no-eval': ["eval('1')", "Function('return 1')()", "new Function('return 1')", 'const e = eval'],
  'no-reflective-member': [
    '(() => {}).constructor',
    "add['constructor']",
    'add[`constructor`]',
    'xs.__proto__',
    "x['__proto__']",
    'Object.prototype',
    'const { constructor } = add',
    '({ __proto__: null })',
  ],
  'no-class': ['class A {}', 'const A = class {}'],
  'no-try': ['try { await add(1) } catch (e) { }', 'try { await add(1) } finally { }'],
  'no-member-assignment': [
    'const o = {}; o.x = 1',
    'const o = {}; o[x] = 1',
    'const o = { n: 1 }; o.n += 1',
    'const o = { n: 1 }; o.n++',
    'const o = { n: 1 }; --o.n',
    'const o = { n: 1 }; delete o.n',
    'const o = {}; [o.a] = [1]',
    'const o = {}; ({ a: o.a } = { a: 1 })',
    'const o = {}; for (o.a of xs) {}',
    'const o = {}; o.a ??= 1',
  ],
  'no-with': ['with (x) {}'],
  'no-label': ['outer: for (const a of xs) { break outer }'],
  'no-generator': ['function* g() {}', 'const g = async function* () {}'],
  'no-this': ['this', 'function f() { return new.target }', 'const o = { m() { return super.m } }'],
  'no-var': ['var a = 1'],
  'no-accessor': ['({ get a() { return 1 } })', '({ set a(v) {} })'],
  'no-arguments': ['function f() { return arguments }'],
  'no-unknown-global': [
    'globalThis',
    'Date.now()',
    'process.exit(1)',
    'require("fs")',
    'fetch("x")',
    'Reflect',
    'Proxy',
    'setTimeout(() => 1)',
    'console.log(1)',
    'WeakRef',
  ],
  'no-reserved-name': [
    'const __flyte_fatal = (e) => e',
    '__flyte_fatal(1)',
    'const o = { __flyteX: 1 }',
  ],
  syntax: ['const = 1', 'x +', 'const a = 1; const a = 2'],
};

describe('validateOrchestratorSource', () => {
  it('has a test row for every rule the guide names', () => {
    const named = [...ORCHESTRATOR_SYNTAX_GUIDE.matchAll(/^\[([a-z-]+)\]/gm)].map((m) => m[1]);
    expect(named.sort()).toEqual(Object.keys(cases).sort());
  });

  for (const [rule, sources] of Object.entries(cases)) {
    it.each(sources)(`[${rule}] rejects %s`, (source) => {
      expect(rulesOf(source)).toContain(rule);
    });
  }

  it('accepts the code the guide describes', () => {
    const source = [
      'const doubled = await Promise.all(xs.map((v) => add(v, v)))',
      'const fanned = await map(add, xs, { concurrency: 2, returnExceptions: true })',
      'let total = 0',
      'for (const d of doubled) { total += d }',
      'const { a = 1, ...rest } = { b: 2 }',
      'const [first, , third] = xs',
      'function helper(n, ...more) { return n + more.length }',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: orchestrator source, not a template
      'const o = { total, nested: { x }, [`k${x}`]: 1, m(v) { return v } }',
      'const m = new Map([[1, 2]]); const s = new Set(xs)',
      "const parsed = JSON.parse(JSON.stringify({ a: Math.max(1, 2), b: parseInt('3', 10) }))",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: orchestrator source, not a template
      'if (total > 10) { throw new Error(`too big: ${total}`) }',
      'switch (x) { case 1: { const y = 2; break } default: }',
      '({ ...o, total: helper(total, first, third), fanned, parsed, size: m.size + s.size })',
    ].join('\n');
    const compiled = validateOrchestratorSource(source, context);
    expect(compiled.synchronous).toBe(false);
    expect(compiled.returnInsertedAt).toEqual({ line: 13, column: 0 });
  });

  it('allows every built-in it lists, and a local that shadows a forbidden name', () => {
    expect(rulesOf(ALLOWED_GLOBALS.map((g) => `${g};`).join('\n'))).toEqual([]);
    expect(rulesOf('const Date = 1; const eval2 = x; Date + eval2')).toEqual([]);
  });

  it('reports every problem with line:column, a code frame and a fix hint', () => {
    const source = 'const a = 1\nclass B {}\nconst o = {}\n  o.x = a';
    let error: unknown;
    try {
      validateOrchestratorSource(source, context);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OrchestratorValidationError);
    const validation = error as OrchestratorValidationError;
    expect(validation.diagnostics.map((d) => [d.rule, d.line, d.column])).toEqual([
      ['no-class', 2, 1],
      ['no-member-assignment', 4, 3],
    ]);
    const last = validation.diagnostics[1];
    expect(last?.frame).toBe('  3 | const o = {}\n> 4 |   o.x = a\n    |   ^');
    expect(last?.hint).toMatch(/\{ \.\.\.o, key: v \}/);
    expect(validation.message).toContain('flow:2:1: Classes are not allowed. [no-class]');
    expect(validation.message).toContain('fix: Use plain objects');
    expect(validation.code).toBe('orchestrator_validation');
  });

  it('reports a syntax error at its position', () => {
    const [d] = diagnosticsOf('const a = 1\nconst b = ;');
    expect(d).toMatchObject({ rule: 'syntax', line: 2, column: 11 });
  });

  it('counts lines as QuickJS does: U+2028 and U+2029 end no line, \\r\\n ends one', () => {
    for (const source of [
      'const s = "a\u2028b"\nclass A {}',
      'const s = "a\u2029b"\r\nclass A {}',
    ]) {
      const [d] = diagnosticsOf(source);
      expect(d).toMatchObject({ rule: 'no-class', line: 2, column: 1 });
      expect(d?.frame).toContain('> 2 | class A {}\n    | ^');
    }
  });

  it('makes a final expression statement the output, keeping positions in the user source', () => {
    const compiled = validateOrchestratorSource('const y = x * 2\n  y + 1', context);
    expect(compiled.script).toContain('\n  return y + 1\n');
    // Column 12 of the script's line 3 is after the inserted `return `: column 5 of the source.
    expect(compiled.toSourcePosition(3, 12)).toEqual({ line: 2, column: 5 });
    expect(compiled.toSourcePosition(2, 7)).toEqual({ line: 1, column: 7 });
  });

  it('runs code that cannot produce a promise as a plain function', () => {
    expect(validateOrchestratorSource('x * 2', context).synchronous).toBe(true);
    expect(validateOrchestratorSource('await x', context).synchronous).toBe(false);
    expect(validateOrchestratorSource('add(1, 2)', context).synchronous).toBe(false);
    expect(validateOrchestratorSource('Promise.resolve(1)', context).synchronous).toBe(false);
    expect(validateOrchestratorSource('(async () => 1)()', context).synchronous).toBe(false);
  });
});

describe('lineLocator', () => {
  it('ends lines at \\n only, as QuickJS counts them, whatever else ends lines for acorn', () => {
    const source = 'a\r\nbc\rd\n\ne\u2028f\u2029\r\n\r\rg é\n';
    const locate = lineLocator(source);
    const lines = source.split('\n');
    let offset = 0;
    lines.forEach((text, index) => {
      for (let column = 0; column <= text.length; column++) {
        expect(locate(offset + column), `offset ${offset + column}`).toEqual({
          line: index + 1,
          column,
        });
      }
      offset += text.length + 1;
    });
    expect(lineLocator('')(0)).toEqual({ line: 1, column: 0 });
  });
});
