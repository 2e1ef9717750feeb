import { expect } from 'vitest';
import { orchestrateLocal } from '../orchestrator';

/** The error a run rejected with; fails the test when the run resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected the run to fail, it returned ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/**
 * Checks that the host still runs orchestrators (tasks included) after whatever a test did to
 * the sandbox: for `afterEach` in tests of hostile code and limits.
 */
export async function expectHostStillWorks(): Promise<void> {
  expect(
    await orchestrateLocal('await inc(x)', {
      inputs: { x: 1 },
      tasks: { inc: async (n: number) => n + 1 },
    }),
  ).toBe(2);
}
