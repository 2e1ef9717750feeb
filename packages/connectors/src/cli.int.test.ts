// Starts `flyte-connector serve` from the built bin as a child process on 127.0.0.1, and runs `list` in process on temporary package folders.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { Phase } from '@flyte/idl';
import { AsyncConnectorService } from '@flyte/idl/connector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const slowModule = fileURLToPath(new URL('./__fixtures__/slow-connector.mjs', import.meta.url));
let work: string;

const plainConnector = (name: string, taskType: string) => `export const connectors = [{
  name: ${JSON.stringify(name)}, taskTypeName: ${JSON.stringify(taskType)}, taskTypeVersion: 0,
  async create() { return {}; }, async get() { return { phase: 4 }; }, async delete() {},
}];\n`;

async function fakePackage(root: string, name: string, taskType: string) {
  const dir = join(root, 'node_modules', ...name.split('/'));
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name, flyte: { connectors: './connectors.mjs' } }),
  );
  await writeFile(join(dir, 'connectors.mjs'), plainConnector(`${name} connector`, taskType));
}

async function cli(args: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    cwd,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'flyte-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('flyte-connector list', () => {
  it('discovers packages that declare "flyte": { "connectors" } and lists a --module', async () => {
    const root = join(work, 'discover');
    await fakePackage(root, '@acme/connector-a', 'a_job');
    await fakePackage(root, 'connector-b', 'b_job');
    await mkdir(join(root, 'node_modules', 'unrelated'), { recursive: true });
    await writeFile(
      join(root, 'node_modules', 'unrelated', 'package.json'),
      '{"name":"unrelated"}',
    );
    const { code, stdout } = await cli(['list', '--module', slowModule], root);
    expect(code).toBe(0);
    const rows = stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^CONNECTOR\s+TASK TYPE\s+VERSION\s+SOURCE$/);
    expect(
      rows
        .slice(1)
        .map((r) => r.split(/\s{2,}/)[1])
        .sort(),
    ).toEqual(['a_job', 'b_job', 'slow_job']);
    expect(stdout).toContain('@acme/connector-a');
  });

  it('exits with a clear message when two packages register the same task type', async () => {
    const root = join(work, 'duplicate');
    await fakePackage(root, 'first-pkg', 'same_job');
    await fakePackage(root, 'second-pkg', 'same_job');
    const { code, stderr } = await cli(
      ['serve', '--port', '0', '--metrics-port', '0', '--host', '127.0.0.1'],
      root,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /Task type "same_job" version 0 is registered twice: by (first|second)-pkg and by (first|second)-pkg/,
    );
  });

  it('explains bad arguments', async () => {
    const signals = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    expect(
      (await cli(['list', '--module', './missing.mjs', '--no-discover'], work)).stderr,
    ).toMatch(/--module \.\/missing\.mjs: no such file/);
    expect(
      (await cli(['serve', '--port', 'x', '--module', slowModule, '--no-discover'], work)).stderr,
    ).toMatch(/--port x: not a port number/);
    expect((await cli(['frobnicate'], work)).code).toBe(1);
    // A serve that could not start leaves no signal handler behind in the embedding process.
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(signals);
  });
});

describe('flyte-connector serve', () => {
  it('serves, prints what it loaded, and on SIGTERM finishes the call in flight and exits 0', {
    timeout: 20_000,
  }, async () => {
    const child = spawn(
      process.execPath,
      [
        bin,
        'serve',
        '--port',
        '0',
        '--metrics-port',
        '0',
        '--host',
        '127.0.0.1',
        '--module',
        slowModule,
        '--no-discover',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let stdout = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      await expect.poll(() => stdout, { timeout: 10_000 }).toMatch(/on 127\.0\.0\.1:\d+,/);
      const port = Number(/on 127\.0\.0\.1:(\d+),/.exec(stdout)?.[1]);
      const output = [stdout];
      expect(output.join('\n')).toMatch(/Slow connector\s+slow_job\s+0\s+.*slow-connector\.mjs/);
      const client = createClient(
        AsyncConnectorService,
        createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }),
      );
      const inFlight = client.getTask({
        resourceMeta: new TextEncoder().encode('{"jobId":"slow-1"}'),
        taskCategory: { name: 'slow_job', version: 0 },
      });
      await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGTERM');
      await expect(inFlight).resolves.toMatchObject({ resource: { phase: Phase.SUCCEEDED } });
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      expect(stdout).toContain('Stopped.');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
