#!/usr/bin/env node
// The two README commands. `node scripts/run.mjs test` and `node scripts/run.mjs demo` each
// bootstrap what is missing (the pinned pnpm, the frozen install, the build) and are quick
// when everything is already there. Only Node and npm are needed to start.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = /^pnpm@(\d+\.\d+\.\d+)$/.exec(rootManifest.packageManager ?? '')?.[1];
if (!pnpmVersion) fail('package.json must pin pnpm exactly, as "packageManager": "pnpm@X.Y.Z".');

const command = process.argv[2];
if (command === 'demo' && !existsSync(join(root, 'apps', 'demo', 'package.json'))) {
  // Said plainly and early: there is nothing to bootstrap for a demo that does not exist.
  fail('The demo is not built yet: apps/demo does not exist (it arrives with the demo issue).');
}
if (command !== 'test' && command !== 'demo') fail('usage: node scripts/run.mjs test|demo');

const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
  DO_NOT_TRACK: '1',
};
ensurePnpm();
ensureInstall();
step('build', ['pnpm', 'turbo', 'run', 'build', '--output-logs=errors-only']);

if (command === 'demo') {
  process.exit(run('demo', ['pnpm', '--filter', './apps/demo', 'start', ...process.argv.slice(3)]));
}

// Every check runs even when an earlier one failed, so one run shows everything to fix.
const failed = [];
for (const [name, argv] of [
  ['format and lint (biome)', ['pnpm', 'biome', 'check', '.']],
  ['typecheck scripts', ['pnpm', 'tsc', '-p', 'tsconfig.json']],
  [
    'typecheck, publint and attw',
    ['pnpm', 'turbo', 'run', 'typecheck', 'lint', '--output-logs=errors-only'],
  ],
  ['tests (vitest)', ['pnpm', 'vitest', 'run']],
]) {
  if (run(name, argv) !== 0) failed.push(name);
}
if (failed.length > 0) fail(`npm test failed in: ${failed.join(', ')}`);
console.log('npm test: all checks passed');

function ensurePnpm() {
  const prefix = join(root, '.tools', `pnpm-${pnpmVersion}`);
  const bin = join(prefix, 'node_modules', '.bin');
  if (!existsSync(join(bin, 'pnpm'))) {
    console.log(`bootstrap: installing pnpm ${pnpmVersion} into .tools/ (no global install)`);
    const args = [
      'install',
      '--prefix',
      prefix,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
    ];
    step('install pnpm', ['npm', ...args, `pnpm@${pnpmVersion}`]);
  }
  env.PATH = `${bin}${process.platform === 'win32' ? ';' : ':'}${env.PATH}`;
}

function ensureInstall() {
  // The stamp covers everything a frozen install reads, so a second run skips the install.
  const hash = createHash('sha256');
  for (const file of [
    'pnpm-lock.yaml',
    'pnpm-workspace.yaml',
    'package.json',
    ...workspaceManifests(),
  ]) {
    hash.update(file).update(readFileSync(join(root, file)));
  }
  hash.update(process.version);
  const digest = hash.digest('hex');
  const stampFile = join(root, 'node_modules', '.flyte-install-stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === digest) return;
  step('install', ['pnpm', 'install', '--frozen-lockfile']);
  writeFileSync(stampFile, digest);
}

function workspaceManifests() {
  return ['packages', 'apps'].flatMap((group) =>
    existsSync(join(root, group))
      ? readdirSync(join(root, group))
          .map((name) => `${group}/${name}/package.json`)
          .filter((file) => existsSync(join(root, file)))
      : [],
  );
}

function step(name, argv) {
  if (run(name, argv) !== 0) fail(`bootstrap step "${name}" failed (${argv.join(' ')})`);
}

function run(name, [cmd, ...args]) {
  const started = Date.now();
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' });
  if (result.error) {
    console.error(`${name}: could not start ${cmd}: ${result.error.message}`);
    return 1;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `${name}: ${result.status === 0 ? 'ok' : `failed (exit ${result.status ?? result.signal})`} in ${seconds}s`,
  );
  return result.status ?? 1;
}

function fail(message) {
  console.error(message);
  process.exit(1);
}
