// Packs every publishable package with pnpm and installs the tarballs with plain npm into
// empty projects under the system temp folder (npm fetches third-party dependencies).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
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

// Each publishable package has a `packaging.smoke.mjs` beside its package.json: a default
// export `(lib, load) => ...` making one real call, run once with `lib` from `import` and once
// from `require` (`load` is `require` in both).
const packages: { dir: string; manifest: Manifest }[] = [];
for (const name of await readdir(join(root, 'packages'))) {
  const dir = join(root, 'packages', name);
  if (!existsSync(join(dir, 'package.json'))) continue;
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
  if (footprints.length > 0) {
    console.log(`installed footprint (node_modules):\n${footprints.join('\n')}`);
  }
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
    '%s installs alone, from ESM and CJS',
    async (name) => {
      const dir = packages.find((p) => p.manifest.name === name)?.dir as string;
      const smoke = join(dir, 'packaging.smoke.mjs');
      expect(existsSync(smoke), `${name} needs a packaging.smoke.mjs (see @flyte/idl's)`).toBe(
        true,
      );

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

      const id = JSON.stringify(name);
      await copyFile(smoke, join(project, 'smoke.mjs'));
      await writeFile(
        join(project, 'esm.mjs'),
        `import { createRequire } from 'node:module';\nimport smoke from './smoke.mjs';\nawait smoke(await import(${id}), createRequire(import.meta.url));\nconsole.log('esm ok');\n`,
      );
      await writeFile(
        join(project, 'cjs.cjs'),
        `import('./smoke.mjs').then(async ({ default: smoke }) => {\n  await smoke(require(${id}), require);\n  console.log('cjs ok');\n});\n`,
      );
      expect((await exec('node', ['esm.mjs'], { cwd: project })).stdout).toBe('esm ok\n');
      expect((await exec('node', ['cjs.cjs'], { cwd: project })).stdout).toBe('cjs ok\n');

      // npm's hidden lockfile lists every installed package once.
      const lock = JSON.parse(
        await readFile(join(project, 'node_modules', '.package-lock.json'), 'utf8'),
      );
      const count = Object.keys(lock.packages).filter((key) =>
        key.startsWith('node_modules/'),
      ).length;
      const mib = (await sizeOf(join(project, 'node_modules'))) / 1024 / 1024;
      footprints.push(
        `  ${name.padEnd(32)} ${mib.toFixed(2).padStart(7)} MiB in ${count} packages`,
      );
    },
  );
});
