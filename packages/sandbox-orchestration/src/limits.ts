import { FlyteError } from '@flyte/idl';
import type { SandboxLimitName } from './errors';

/**
 * What one run may use. Every field is optional; unset fields take {@link DEFAULT_LIMITS}.
 * Hitting any of them ends the run with a `SandboxLimitError`.
 */
export interface OrchestratorLimits {
  /**
   * Memory of the run's QuickJS runtime, and growth of the WebAssembly memory during the run
   * (memory an earlier run grew is reused uncounted: see the README).
   */
  memoryBytes?: number;
  /** QuickJS stack size. Deep recursion beyond it fails the run. */
  stackBytes?: number;
  /** Guest CPU time: time spent running orchestrator code, not waiting for tasks. */
  cpuTimeMs?: number;
  /** Wall-clock time of the whole run, waiting for tasks included. At most 2^31 - 1. */
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

/**
 * The largest `wallClockMs`: the longest delay a Node.js timer takes (2^31 - 1 ms, about 24.8
 * days). Node turns a longer one into 1 ms, which would end every run at once.
 */
export const MAX_WALL_CLOCK_MS = 2 ** 31 - 1;

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
  if (resolved.wallClockMs > MAX_WALL_CLOCK_MS) {
    throw new FlyteError(
      'invalid_limits',
      `Orchestrator "${name}": limits.wallClockMs is ${resolved.wallClockMs}; at most ${MAX_WALL_CLOCK_MS} (about 24.8 days, the longest timer Node.js can set) is possible.`,
      { details: { orchestrator: name, limit: 'wallClockMs', value: resolved.wallClockMs } },
    );
  }
  return Object.freeze(resolved);
}
