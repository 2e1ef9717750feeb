// Generates a connector package into a temporary workspace (linked to this repository's tools and built packages), then builds, typechecks and tests it with child processes.
import { execFile } from 'node:child_process';
import {
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { runCli } from './cli';

const exec = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repo = join(packageDir, '..', '..');
let work = '';

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

it('`flyte-connector new demo-jobs` creates a package that builds and passes the conformance suite', {
  timeout: 240_000,
}, async () => {
  work = await mkdtemp(join(tmpdir(), 'flyte-scaffold-'));
  for (const file of ['tsconfig.base.json', 'tsup.base.ts'])
    await copyFile(join(repo, file), join(work, file));
  await symlink(join(repo, 'node_modules'), join(work, 'node_modules'), 'dir');

  let stdout = '';
  const code = await runCli(['new', 'demo-jobs'], {
    cwd: work,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stdout += t),
  });
  expect(code, stdout).toBe(0);
  const dir = join(work, 'packages', 'connector-demo-jobs');
  expect(stdout).toContain(dir);
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  expect(manifest.name).toBe('@flyte/connector-demo-jobs');
  expect(manifest.flyte).toEqual({ connectors: './dist/index.js' });
  expect(await readFile(join(dir, 'README.md'), 'utf8')).toMatch(
    /^# @flyte\/connector-demo-jobs\n[\s\S]*npm install/,
  );

  // What `pnpm install` would link: the workspace packages and zod.
  await mkdir(join(dir, 'node_modules', '@flyte'), { recursive: true });
  await symlink(packageDir, join(dir, 'node_modules', '@flyte', 'connectors'), 'dir');
  await symlink(
    await realpath(join(packageDir, 'node_modules', '@flyte', 'idl')),
    join(dir, 'node_modules', '@flyte', 'idl'),
    'dir',
  );
  await symlink(
    await realpath(join(packageDir, 'node_modules', 'zod')),
    join(dir, 'node_modules', 'zod'),
    'dir',
  );

  const bin = (name: string) => join(repo, 'node_modules', '.bin', name);
  const run = (tool: string, args: string[]) =>
    exec(bin(tool), args, {
      cwd: dir,
      timeout: 180_000,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
    });
  await run('tsup', []);
  await run('tsc', ['--noEmit']);
  const { stdout: testOutput } = await run('vitest', ['run']);
  expect(testOutput).toMatch(/Tests\s+6 passed/);
  // The suite catches a connector whose delete is not idempotent.
  const source = join(dir, 'src', 'demo-jobs-connector.ts');
  const connectorSource = await readFile(source, 'utf8');
  await writeFile(
    source,
    connectorSource
      .replace(
        'await this.api.cancel(resourceMeta.jobId, signal);',
        "if (this.cancelled.has(resourceMeta.jobId)) throw new Error('already cancelled');\n    this.cancelled.add(resourceMeta.jobId);\n    await this.api.cancel(resourceMeta.jobId, signal);",
      )
      .replace(
        'readonly metadataSchema = metadata;',
        'readonly metadataSchema = metadata;\n  readonly cancelled = new Set<string>();',
      ),
  );
  const failing = await run('vitest', ['run']).then(
    () => 'passed',
    (error: { stdout: string }) => error.stdout,
  );
  expect(failing).toMatch(/× deletes idempotently/);
  expect(failing).toMatch(/Tests\s+1 failed \| 5 passed/);

  // A second `new` with the same name refuses to overwrite.
  expect(
    await runCli(['new', 'demo-jobs'], { cwd: work, stdout: () => {}, stderr: () => {} }),
  ).toBe(1);
  expect(dirname(dir)).toBe(join(work, 'packages'));
});
