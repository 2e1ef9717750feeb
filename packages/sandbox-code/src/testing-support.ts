// Helpers shared by this package's Docker tests (not exported from the package).
import Docker from 'dockerode';
import { expect } from 'vitest';
import { OWNER_PID_LABEL, SANDBOX_LABEL } from './labels';

/** The registry-free image CI builds with scripts/sandbox-base-image.sh. */
export const TEST_BASE_IMAGE = 'flyte-sandbox/base:bookworm';

export const testDocker = new Docker();

/** Sandbox containers this test process created that still exist. */
export async function containersOfThisProcess(): Promise<string[]> {
  const list = await testDocker.listContainers({
    all: true,
    filters: { label: [`${SANDBOX_LABEL}=1`, `${OWNER_PID_LABEL}=${process.pid}`] },
  });
  return list.map((c) => c.Id);
}

/** Asserts that no sandbox container of this process is left, waiting up to 10 s for removals. */
export async function expectNoContainersLeft(): Promise<void> {
  const deadline = Date.now() + 10_000;
  let left = await containersOfThisProcess();
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    left = await containersOfThisProcess();
  }
  expect(left, 'sandbox containers left behind').toEqual([]);
}
