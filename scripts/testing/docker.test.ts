import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { probeDocker } from './docker';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Runs vitest on the fixture in a child process, with DOCKER_HOST pointing nowhere. */
function runFixture(env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        join(root, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--root',
        join(here, '__fixtures__'),
      ],
      {
        cwd: here,
        env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock', ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('describeWithDocker', () => {
  it('skips with one line saying why when no engine answers', async () => {
    const { code, output } = await runFixture({ FLYTE_REQUIRE_DOCKER: '0' });
    expect(code).toBe(0);
    const lines = output.split('\n').filter((l) => l.startsWith('[docker] skipped'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      'needs-docker.fixture.ts: no Docker engine answered at unix:///nonexistent/docker.sock',
    );
  });

  it('fails instead when FLYTE_REQUIRE_DOCKER=1', async () => {
    const { code, output } = await runFixture({ FLYTE_REQUIRE_DOCKER: '1' });
    expect(code).toBe(1);
    expect(output).toContain('needs a Docker engine (FLYTE_REQUIRE_DOCKER=1)');
    expect(output).not.toContain('[docker] skipped');
  });
});

describe('probeDocker', () => {
  it('reports an unreachable endpoint without throwing', async () => {
    const previous = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
    try {
      const probe = await probeDocker(1000);
      expect(probe).toMatchObject({ ok: false, endpoint: 'tcp://127.0.0.1:1' });
      expect(probe.reason).toMatch(/ECONNREFUSED/);
    } finally {
      if (previous === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = previous;
    }
  });
});
