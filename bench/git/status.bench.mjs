// Benchmark of @flyte/git's GitStatus.fromRepo against the anchor (flyte-sdk's GitStatus, which
// spawns four git processes) and against isomorphic-git's statusMatrix, on a generated repository
// of 20,000 tracked files (clean; with one modified file; with that change staged; set up with
// feature.manyFiles) and on this clone. Not a test: run after `pnpm --filter @flyte/git build` with
// `node bench/git/status.bench.mjs [--rounds N]`.
// Every figure is a median over rounds run interleaved in this process, so ratios compare runs
// made under the same machine load. Two reference rows put the first call in context: git status
// alone (one of the anchor's four processes), and a floor for any Node program (the index read,
// lstat of every tracked file and a listing of every tracked directory through node:fs, in a fresh
// process, nothing parsed or compared).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const packageDir = join(root, 'packages', 'git');
const distEntry = join(packageDir, 'dist', 'index.js');
if (!fs.existsSync(distEntry)) {
  console.error(`${distEntry} is missing: run \`pnpm --filter @flyte/git build\` first.`);
  process.exit(1);
}
const { GitStatus } = await import(pathToFileURL(distEntry).href);
const git = createRequire(join(packageDir, 'package.json'))('isomorphic-git');
const run = promisify(execFile);

const argRounds = process.argv.indexOf('--rounds');
const rounds = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 15;
const FILES = 20_000;

/** The 1, 5 and 15 minute load averages, to say how busy the machine was. */
function loadAverage() {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The anchor: what flyte-sdk's GitStatus runs, four git processes in a row. */
async function anchor(dir) {
  const options = { cwd: dir, maxBuffer: 64 * 1024 * 1024 };
  await run('git', ['rev-parse', '--show-toplevel'], options);
  const { stdout: sha } = await run('git', ['rev-parse', 'HEAD'], options);
  const { stdout: porcelain } = await run('git', ['status', '--porcelain'], options);
  const remote = await run('git', ['remote', 'get-url', '--push', 'origin'], options).catch(
    () => undefined,
  );
  return { sha: sha.trim(), clean: porcelain.trim() === '', remote: remote?.stdout.trim() };
}

/**
 * GitStatus.fromRepo in a fresh Node process, timed inside it: the module import and the first
 * call (cold caches, unoptimised code) separately.
 */
async function coldFromRepo(dir) {
  const script = `const t0=performance.now();const{GitStatus}=await import(${JSON.stringify(pathToFileURL(distEntry).href)});const t1=performance.now();const s=await GitStatus.fromRepo(${JSON.stringify(dir)});process.stdout.write(JSON.stringify({importMs:t1-t0,firstMs:performance.now()-t1,clean:s.isTreeClean}));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout);
}

/**
 * A floor for any Node program, in a fresh process like coldFromRepo: the file-system calls a
 * status check cannot skip (read the index, lstat every tracked file, list every tracked
 * directory) made through Node's public fs API, with nothing parsed or compared. The tracked
 * paths are listed by git beforehand, outside the timing.
 */
async function coldFloor(dir) {
  const paths = execFileSync('git', ['ls-files', '-z'], { cwd: dir, maxBuffer: 256 * 1024 * 1024 })
    .toString('utf8')
    .split('\0')
    .filter((path) => path !== '');
  const directories = new Set(['']);
  for (const path of paths) {
    for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
      if (directories.has(path.slice(0, slash))) break;
      directories.add(path.slice(0, slash));
    }
  }
  const list = join(tmpdir(), `flyte-git-bench-floor-${process.pid}.json`);
  fs.writeFileSync(
    list,
    JSON.stringify({
      index: execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-path', 'index'], {
        cwd: dir,
      })
        .toString()
        .trim(),
      files: paths.map((path) => join(dir, path)),
      directories: [...directories].map((directory) => join(dir, directory)),
    }),
  );
  const script = `import*as fs from 'node:fs';const{index,files,directories}=JSON.parse(fs.readFileSync(${JSON.stringify(list)},'utf8'));const t0=performance.now();fs.readFileSync(index);for(const f of files)fs.lstatSync(f,{throwIfNoEntry:false});for(const d of directories){try{fs.readdirSync(d)}catch{}}process.stdout.write(String(performance.now()-t0));`;
  try {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    return Number(stdout);
  } finally {
    fs.rmSync(list, { force: true });
  }
}

// statusMatrix also rewrites the index, without git's cache-tree extension and with its own stat
// data: the scenarios that follow it measure that state, for git and for GitStatus alike.
async function statusMatrixClean(dir) {
  const matrix = await git.statusMatrix({ fs, dir });
  return matrix.every(([, head, workdir, stage]) => head === 1 && workdir === 1 && stage === 1);
}

async function time(fn) {
  const start = performance.now();
  const result = await fn();
  return { ms: performance.now() - start, result };
}

function generateRepository() {
  const dir = fs.mkdtempSync(join(tmpdir(), 'flyte-git-bench-'));
  for (let file = 0; file < FILES; file++) {
    const path = join(dir, `pkg${Math.floor(file / 100)}`, `sub${Math.floor(file / 25) % 4}`);
    if (file % 25 === 0) fs.mkdirSync(path, { recursive: true });
    fs.writeFileSync(join(path, `file${file % 25}.ts`), `export const value${file} = ${file};\n`);
  }
  fs.writeFileSync(join(dir, '.gitignore'), 'node_modules/\n*.log\n');
  fs.mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
  fs.writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'ignored\n');
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  };
  for (const args of [
    ['init', '-q', '-b', 'main'],
    ['add', '-A'],
    ['commit', '-q', '-m', 'generated'],
    ['remote', 'add', 'origin', 'git@github.com:acme/generated.git'],
    ['gc', '-q'],
  ]) {
    execFileSync('git', ['-c', 'gc.auto=0', ...args], { cwd: dir, env });
  }
  // Let git settle its index (refresh stat data) as a developer's repository would be.
  execFileSync('git', ['status', '--porcelain'], { cwd: dir });
  return dir;
}

async function scenario(name, dir, { matrixRounds }) {
  const expected = await anchor(dir);
  const ours = await GitStatus.fromRepo(dir);
  if (ours.isTreeClean !== expected.clean || ours.commitSha !== expected.sha) {
    throw new Error(
      `${name}: GitStatus disagrees with git (clean ${ours.isTreeClean} vs ${expected.clean}, sha ${ours.commitSha} vs ${expected.sha})`,
    );
  }
  const samples = {
    anchor: [],
    status: [],
    warm: [],
    cold: [],
    imports: [],
    floor: [],
    matrix: [],
  };
  for (let round = 0; round < rounds; round++) {
    samples.anchor.push((await time(() => anchor(dir))).ms);
    samples.status.push((await time(() => run('git', ['status', '--porcelain'], { cwd: dir }))).ms);
    samples.floor.push(await coldFloor(dir));
    samples.warm.push((await time(() => GitStatus.fromRepo(dir))).ms);
    const cold = await coldFromRepo(dir);
    samples.cold.push(cold.firstMs);
    samples.imports.push(cold.importMs);
  }
  for (let round = 0; round < matrixRounds; round++) {
    const { ms, result } = await time(() => statusMatrixClean(dir));
    if (round === 0 && result !== expected.clean && name !== 'this clone') {
      throw new Error(`${name}: statusMatrix says clean=${result}, git says ${expected.clean}`);
    }
    samples.matrix.push(ms);
  }
  const base = median(samples.anchor);
  const row = (label, values) =>
    values.length === 0
      ? `  ${label.padEnd(52)} ${'skipped'.padStart(9)}`
      : `  ${label.padEnd(52)} ${median(values).toFixed(1).padStart(7)} ms  ${(median(values) / base).toFixed(2).padStart(6)}x`;
  console.log(
    `\n${name} (${expected.clean ? 'clean' : `dirty: ${ours.firstChange}`}), median of ${rounds} rounds`,
  );
  console.log(row('anchor: 4 git processes (rev-parse x2, status, remote)', samples.anchor));
  console.log(row('  (git status --porcelain alone)', samples.status));
  console.log(row('GitStatus.fromRepo, repeated in one process', samples.warm));
  console.log(row('GitStatus.fromRepo, first call in a fresh process', samples.cold));
  console.log(row('  (+ import of @flyte/git in that process)', samples.imports));
  console.log(row('floor via node:fs (read, lstat, readdir), fresh', samples.floor));
  console.log(row(`isomorphic-git statusMatrix (median of ${matrixRounds})`, samples.matrix));
}

console.log(`node ${process.version}, ${loadAverage()} load average at start`);
const generated = generateRepository();
try {
  await scenario(`generated repository, ${FILES} files`, generated, { matrixRounds: 3 });
  fs.appendFileSync(join(generated, 'pkg100', 'sub0', 'file0.ts'), '// edited\n');
  await scenario(`generated repository, ${FILES} files, one modified`, generated, {
    matrixRounds: 3,
  });
  // The same change, staged: git add leaves the cache tree valid except on the change's path
  // (read-tree first restores the cache tree statusMatrix dropped; git status refreshes the stat
  // data read-tree left empty). statusMatrix is not run: it would rewrite the index.
  const inGenerated = { cwd: generated };
  execFileSync('git', ['read-tree', 'HEAD'], inGenerated);
  execFileSync('git', ['add', join('pkg100', 'sub0', 'file0.ts')], inGenerated);
  execFileSync('git', ['status', '--porcelain'], inGenerated);
  await scenario(`generated repository, ${FILES} files, one staged change`, generated, {
    matrixRounds: 0,
  });
  // The same files in a repository set up as git recommends for a large one: feature.manyFiles
  // (index version 4 and git's untracked cache). read-tree restores the cache tree that
  // statusMatrix dropped. The directories are left a second older than the index, as in a
  // developer's repository: GitStatus trusts the cache only for directories last changed before
  // the index's second. git status refreshes the stat data and writes the cache. statusMatrix is
  // not run: it would rewrite the index without either.
  execFileSync('git', ['reset', '-q'], inGenerated);
  execFileSync('git', ['checkout', '--', join('pkg100', 'sub0', 'file0.ts')], inGenerated);
  execFileSync('git', ['config', 'feature.manyFiles', 'true'], inGenerated);
  execFileSync('git', ['read-tree', 'HEAD'], inGenerated);
  execFileSync('git', ['update-index', '--index-version', '4'], inGenerated);
  await new Promise((done) => setTimeout(done, 1100));
  execFileSync('git', ['status', '--porcelain'], inGenerated);
  // Git's own trace says whether its cache now answers for every directory (no directory read).
  const trace = spawnSync('git', ['status', '--porcelain'], {
    ...inGenerated,
    env: { ...process.env, GIT_TRACE2_PERF: '1' },
    encoding: 'utf8',
  });
  if (!/opendir:0\b/.test(trace.stderr)) {
    throw new Error(
      "git's untracked cache does not cover every directory: the scenario would not measure it",
    );
  }
  await scenario(
    `generated repository, ${FILES} files, feature.manyFiles (index v4, untracked cache)`,
    generated,
    { matrixRounds: 0 },
  );
  const matrixOnSelf = process.argv.includes('--matrix-on-clone') ? 1 : 0;
  await scenario('this clone, as it is (with node_modules and work in progress)', root, {
    matrixRounds: matrixOnSelf,
  });
  // The committed state of this repository, cloned: a clean tree of real-world shape.
  execFileSync('git', ['clone', '-q', '--no-hardlinks', root, join(generated, 'self-clone')]);
  execFileSync('git', ['remote', 'set-url', 'origin', 'https://github.com/flyte-ts/flyte-ts.git'], {
    cwd: join(generated, 'self-clone'),
  });
  await scenario('a fresh clone of this repository', join(generated, 'self-clone'), {
    matrixRounds: 3,
  });
} finally {
  fs.rmSync(generated, { recursive: true, force: true });
}
console.log(`\nload average at end: ${loadAverage()}`);
