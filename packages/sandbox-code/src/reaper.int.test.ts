// Starts a child Node process that runs a sandbox container, SIGKILLs it, and reaps the orphan.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { describeWithDocker } from '../../../scripts/testing/docker';
import { OWNER_PID_LABEL, SANDBOX_LABEL } from './labels';
import { reapOrphanedSandboxes } from './reaper';
import { createSandbox } from './sandbox';
import { expectNoContainersLeft, TEST_BASE_IMAGE, testDocker } from './testing-support';

const child = fileURLToPath(new URL('./__fixtures__/long-sandbox.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

async function containersOf(pid: number): Promise<string[]> {
  const list = await testDocker.listContainers({
    all: true,
    filters: { label: [`${SANDBOX_LABEL}=1`, `${OWNER_PID_LABEL}=${pid}`] },
  });
  return list.map((c) => c.Id);
}

await describeWithDocker(import.meta.url, 'orphan reaper', () => {
  afterAll(expectNoContainersLeft);

  it('removes the container of a SIGKILLed owner on the next start, and leaves live ones', {
    timeout: 120_000,
  }, async () => {
    expect(existsSync(dist), 'build the package first (pnpm build): the child loads dist').toBe(
      true,
    );
    const proc = spawn(process.execPath, [child], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('the child did not start its sandbox within 60 s')),
          60_000,
        );
        proc.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('RUNNING')) {
            clearTimeout(timer);
            resolve();
          }
        });
        proc.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      const pid = proc.pid as number;
      expect(await containersOf(pid)).toHaveLength(1);
      proc.kill('SIGKILL');
      await exited;
      // The owner died before its finally ran: the container is still there.
      expect(await containersOf(pid)).toHaveLength(1);

      // The next start (the first run of a new sandbox client) reaps the orphan; the live run
      // of this process must survive the reaper.
      const live = createSandbox({
        name: 'live',
        baseImage: TEST_BASE_IMAGE,
        command: ['sleep', '3'],
      });
      const liveRun = live.run({});
      const deadline = Date.now() + 15_000;
      while ((await containersOf(process.pid)).length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await containersOf(pid)).toEqual([]);
      expect(await containersOf(process.pid)).toHaveLength(1);
      expect(await reapOrphanedSandboxes(testDocker)).toEqual([]);
      await expect(liveRun).resolves.toMatchObject({ exitCode: 0 });
    } finally {
      proc.kill('SIGKILL');
      for (const id of await containersOf(proc.pid as number)) {
        await testDocker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => undefined);
      }
    }
  });
});
