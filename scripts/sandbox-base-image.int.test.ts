// Starts throwaway containers from flyte-sandbox/base:bookworm on the local Docker engine.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { describeWithDocker, dockerRequired } from './testing/docker';

const exec = promisify(execFile);
const IMAGE = 'flyte-sandbox/base:bookworm';

const docker = (...args: string[]) => exec('docker', args, { timeout: 60_000 });
const runInImage = (...command: string[]) =>
  docker('run', '--rm', '--network', 'none', IMAGE, ...command);

await describeWithDocker(import.meta.url, 'sandbox base image', () => {
  beforeAll(async () => {
    const found = await docker('image', 'inspect', IMAGE).then(
      () => true,
      () => false,
    );
    if (!found) {
      throw new Error(
        `${IMAGE} is missing: build it with scripts/sandbox-base-image.sh${dockerRequired ? '' : ' (or run .ci/run)'}`,
      );
    }
  });

  it('runs python3 with no network', async () => {
    const { stdout } = await runInImage('python3', '-c', 'print(1)');
    expect(stdout).toBe('1\n');
  });

  it('runs as the unprivileged sandbox user in its home', async () => {
    const { stdout } = await runInImage('sh', '-c', 'id -u; id -un; pwd; echo "$HOME"');
    expect(stdout.split('\n')).toEqual(['1000', 'sandbox', '/home/sandbox', '/home/sandbox', '']);
  });

  it('has node, npm, bash and a working python venv', async () => {
    const { stdout } = await runInImage(
      'bash',
      '-c',
      'node -e "console.log(process.versions.node.split(\\".\\")[0] > 0)" && npm --version >/dev/null && python3 -m venv /tmp/v && /tmp/v/bin/python -c "print(42)"',
    );
    expect(stdout).toBe('true\n42\n');
  });

  it('was built by the current scripts/sandbox-base-image.sh', async () => {
    const script = await readFile(new URL('./sandbox-base-image.sh', import.meta.url));
    const { stdout } = await docker(
      'image',
      'inspect',
      '--format',
      '{{ index .Config.Labels "org.flyte.sandbox.base-hash" }}',
      IMAGE,
    );
    expect(stdout.trim(), 'the image is stale: rerun scripts/sandbox-base-image.sh').toBe(
      createHash('sha256').update(script).digest('hex'),
    );
  });
});
