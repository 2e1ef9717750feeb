// Runs a script in a real sandbox session WITHOUT the validator, to prove the runtime layer
// holds on its own (defense in depth) for code the validator would have rejected.
import { buildDirectPrelude, buildPrelude } from '../guest-prelude';
import { DEFAULT_LIMITS, type OrchestratorLimits } from '../limits';
import { loadEngine } from '../quickjs-engine';
import { SandboxSession } from '../sandbox-session';
import type { CompiledSource } from '../validate';

// `direct: true` runs the body as synchronous code through the direct call path and its prelude
// (`buildDirectPrelude`, with Math and JSON installed), instead of as async code through the runner.
export async function runUnvalidated(
  body: string,
  options: { pooled?: boolean; limits?: OrchestratorLimits; direct?: boolean } = {},
): Promise<unknown> {
  const direct = options.direct ?? false;
  const compiled: CompiledSource = {
    source: body,
    script: `(${direct ? '' : 'async '}function () { 'use strict';\n${body}\n})`,
    returnInsertedAt: undefined,
    synchronous: direct,
    builtins: new Set(),
    toSourcePosition: (line, column) => ({ line: line - 1, column }),
  };
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const engine = await loadEngine();
  if (direct) {
    if (!engine.raw) throw new Error('this engine has no direct call path');
    const prelude = buildDirectPrelude({
      math: true,
      json: true,
      freezeIntrinsics: options.pooled ?? false,
    });
    const session = new SandboxSession(engine, 'raw', compiled.script, limits, prelude, {
      mode: 'direct',
      host: true,
    });
    try {
      const { outcome } = session.executeDirect([], 1);
      if (!outcome.ok) throw new Error(`${outcome.error.name}: ${outcome.error.message}`);
      if ('primitive' in outcome) return outcome.primitive;
      return outcome.json === undefined ? undefined : JSON.parse(outcome.json);
    } finally {
      session.dispose();
    }
  }
  const prelude = buildPrelude({
    asynchronous: true,
    freezeIntrinsics: options.pooled ?? false,
    taskNames: [],
  });
  const session = new SandboxSession(engine, 'raw', compiled.script, limits, prelude);
  try {
    const bridge = { call: () => Promise.reject(new Error('no tasks')) };
    const { outcome } = await session.execute('0|[]', bridge, new AbortController().signal);
    if (!outcome.ok) throw new Error(`${outcome.error.name}: ${outcome.error.message}`);
    if ('primitive' in outcome) return outcome.primitive;
    return outcome.json === undefined ? undefined : JSON.parse(outcome.json);
  } finally {
    session.dispose();
  }
}
