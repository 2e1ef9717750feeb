// Packs every publishable package with pnpm and installs the tarballs with plain npm into
// empty projects under the system temp folder (npm fetches third-party dependencies).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = dirname(dirname(fileURLToPath(import.meta.url)));

interface Manifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * One real call per package, run once through `import` and once through `require`. `lib` is
 * the package's main entry. A new package must add its line here.
 */
const SMOKE: Record<string, string> = {
  '@flyte/idl': `
    const core = load('@flyte/idl/core');
    const { z } = load('zod');
    const { toBinary, fromBinary } = load('@bufbuild/protobuf');
    const schema = z.object({ n: z.bigint(), at: z.date() });
    const bytes = toBinary(core.LiteralSchema, lib.toLiteral({ n: 1n, at: new Date(0) }, schema));
    const back = lib.fromLiteral(fromBinary(core.LiteralSchema, bytes), schema);
    if (back.n !== 1n || back.at.getTime() !== 0) throw new Error('literal round trip failed');
    if (lib.phaseFromState('DONE') !== core.TaskExecution_Phase.SUCCEEDED) throw new Error('phase');
    if (!load('@flyte/idl/connector').AsyncConnectorService) throw new Error('no connector service');
  `,
};

const packages: { dir: string; manifest: Manifest }[] = [];
for (const name of await readdir(join(root, 'packages'))) {
  const dir = join(root, 'packages', name);
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest;
  if (!manifest.private) packages.push({ dir, manifest });
}

const work = await mkdtemp(join(tmpdir(), 'flyte-packaging-'));
const tarballs = new Map<string, string>();
const footprints: string[] = [];

beforeAll(async () => {
  for (const { dir, manifest } of packages) {
    const { stdout } = await exec('pnpm', ['pack', '--pack-destination', work], { cwd: dir });
    const tarball = stdout.trim().split('\n').at(-1) ?? '';
    expect(tarball, `pnpm pack printed no tarball for ${manifest.name}`).toMatch(/\.tgz$/);
    tarballs.set(manifest.name, tarball.startsWith('/') ? tarball : join(work, tarball));
  }
});

afterAll(async () => {
  if (footprints.length > 0)
    console.log(`installed footprint (node_modules):\n${footprints.join('\n')}`);
  await rm(work, { recursive: true, force: true });
});

/** The package and every @flyte package it depends on, transitively. */
function flyteClosure(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  const manifest = packages.find((p) => p.manifest.name === name)?.manifest;
  for (const dep of Object.keys({ ...manifest?.dependencies, ...manifest?.peerDependencies })) {
    if (dep.startsWith('@flyte/')) flyteClosure(dep, seen);
  }
  return seen;
}

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await sizeOf(join(path, entry));
  return total;
}

describe('install only the package you need', () => {
  it.each(packages.map((p) => p.manifest.name))(
    '%s installs alone and works from ESM and CJS',
    async (name) => {
      const smoke = SMOKE[name];
      expect(smoke, `add a smoke call for ${name} to scripts/packaging.int.test.ts`).toBeDefined();
      const project = await mkdtemp(join(work, 'project-'));
      await writeFile(
        join(project, 'package.json'),
        JSON.stringify({ name: 'consumer', private: true }),
      );
      const files = [...flyteClosure(name)].map((dep) => tarballs.get(dep) as string);
      await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], {
        cwd: project,
        timeout: 180_000,
      });

      await writeFile(
        join(project, 'smoke.mjs'),
        `import { createRequire } from 'node:module';\nconst load = createRequire(import.meta.url);\nconst lib = await import(${JSON.stringify(name)});\n${smoke}\nconsole.log('esm ok');\n`,
      );
      await writeFile(
        join(project, 'smoke.cjs'),
        `const load = require;\nconst lib = require(${JSON.stringify(name)});\n${smoke}\nconsole.log('cjs ok');\n`,
      );
      expect((await exec('node', ['smoke.mjs'], { cwd: project })).stdout).toBe('esm ok\n');
      expect((await exec('node', ['smoke.cjs'], { cwd: project })).stdout).toBe('cjs ok\n');

      const installed = (await readdir(join(project, 'node_modules'), { recursive: true })).filter(
        (p) => p.endsWith('package.json') && p.split('node_modules').length <= 3,
      ).length;
      const bytes = await sizeOf(join(project, 'node_modules'));
      footprints.push(
        `  ${name.padEnd(32)} ${(bytes / 1024 / 1024).toFixed(2).padStart(7)} MiB  (${installed} package.json files)`,
      );
    },
  );
});
