// Runs a script in a real sandbox session WITHOUT the validator, to prove the runtime layer
// holds on its own (defense in depth) for code the validator would have rejected.
import { buildPrelude } from '../guest-prelude';
import { DEFAULT_LIMITS, type OrchestratorLimits } from '../limits';
import { loadEngine } from '../quickjs-engine';
import { SandboxSession } from '../sandbox-session';
import type { CompiledSource } from '../validate';

export async function runUnvalidated(
  body: string,
  options: { pooled?: boolean; limits?: OrchestratorLimits } = {},
): Promise<unknown> {
  const compiled: CompiledSource = {
    source: body,
    script: `(async function () { 'use strict';\n${body}\n})`,
    returnInsertedAt: undefined,
    synchronous: false,
    toSourcePosition: (line, column) => ({ line: line - 1, column }),
  };
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const prelude = buildPrelude({
    asynchronous: true,
    freezeIntrinsics: options.pooled ?? false,
    taskNames: [],
  });
  const session = new SandboxSession(await loadEngine(), 'raw', compiled.script, limits, prelude);
  try {
    const bridge = { call: () => Promise.reject(new Error('no tasks')) };
    const { outcome } = await session.execute('0|[]', bridge, new AbortController().signal);
    if (!outcome.ok) throw new Error(`${outcome.error.name}: ${outcome.error.message}`);
    return outcome.json === undefined ? undefined : JSON.parse(outcome.json);
  } finally {
    session.dispose();
  }
}
