import { FlyteError } from '@flyte/idl';
import type { SandboxLimitName } from './errors';

/**
 * What one run may use. Every field is optional; unset fields take {@link DEFAULT_LIMITS}.
 * Hitting any of them ends the run with a `SandboxLimitError`.
 */
export interface OrchestratorLimits {
  /** Memory of the run's QuickJS runtime, and growth of the WebAssembly memory during the run. */
  memoryBytes?: number;
  /** QuickJS stack size. Deep recursion beyond it fails the run. */
  stackBytes?: number;
  /** Guest CPU time: time spent running orchestrator code, not waiting for tasks. */
  cpuTimeMs?: number;
  /** Wall-clock time of the whole run, waiting for tasks included. */
  wallClockMs?: number;
  /** Task calls (each item of a `map` counts as one). */
  hostCalls?: number;
  /** Size of the output as UTF-8 JSON. */
  outputBytes?: number;
}

/** The limits a run gets when it sets none. */
export const DEFAULT_LIMITS: Readonly<Required<OrchestratorLimits>> = Object.freeze({
  memoryBytes: 64 * 1024 * 1024,
  // QuickJS frames sit on the host's native stack too: much more than this can overflow the
  // host's stack before QuickJS notices (orchestration code rarely recurses deeply).
  stackBytes: 64 * 1024,
  cpuTimeMs: 1_000,
  wallClockMs: 60_000,
  hostCalls: 10_000,
  outputBytes: 1024 * 1024,
});

/** The largest `stackBytes` the QuickJS build can honour. */
export const MAX_STACK_BYTES = 1024 * 1024;

/** Fills in defaults and rejects values that are not positive finite numbers. */
export function resolveLimits(
  name: string,
  limits: OrchestratorLimits | undefined,
): Readonly<Required<OrchestratorLimits>> {
  const resolved = { ...DEFAULT_LIMITS, ...limits };
  for (const key of Object.keys(DEFAULT_LIMITS) as SandboxLimitName[]) {
    const value = resolved[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new FlyteError(
        'invalid_limits',
        `Orchestrator "${name}": limits.${key} is ${String(value)}; give a positive finite number (default ${DEFAULT_LIMITS[key]}).`,
        { details: { orchestrator: name, limit: key, value } },
      );
    }
  }
  if (resolved.stackBytes > MAX_STACK_BYTES) {
    throw new FlyteError(
      'invalid_limits',
      `Orchestrator "${name}": limits.stackBytes is ${resolved.stackBytes}; at most ${MAX_STACK_BYTES} (1 MiB) is possible, since QuickJS runs on a fixed WebAssembly stack.`,
      { details: { orchestrator: name, limit: 'stackBytes', value: resolved.stackBytes } },
    );
  }
  return Object.freeze(resolved);
}
