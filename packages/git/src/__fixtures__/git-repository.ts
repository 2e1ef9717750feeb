// Real git repositories for tests, made with the git CLI (tests only: the library never runs git).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CheckCounters } from '../worktree-status';

// Isolate both git and the library from the developer's own git configuration.
const home = realpathSync(mkdtempSync(join(tmpdir(), 'flyte-git-home-')));
writeFileSync(join(home, 'gitconfig'), '');
process.env.GIT_CONFIG_GLOBAL = join(home, 'gitconfig');
process.env.GIT_CONFIG_NOSYSTEM = '1';
process.env.XDG_CONFIG_HOME = join(home, 'xdg');
process.env.GIT_AUTHOR_NAME = 'Flyte Test';
process.env.GIT_AUTHOR_EMAIL = 'test@example.invalid';
process.env.GIT_COMMITTER_NAME = 'Flyte Test';
process.env.GIT_COMMITTER_EMAIL = 'test@example.invalid';

const created: string[] = [home];

/** A scratch directory (symlinks resolved) removed by {@link removeScratch}. */
export function scratchDir(prefix = 'flyte-git-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  created.push(dir);
  return dir;
}

/** Removes every scratch directory made so far; call from `afterAll`. */
export function removeScratch(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Runs git in `cwd` and returns its trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'protocol.file.allow=always', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** Writes `content` to `path` under `dir`, creating parent directories. */
export function write(dir: string, path: string, content: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), content);
}

/** A new repository on branch main with the given files committed (none: no commit). */
export function createRepo(files: Record<string, string> = {}, remote?: string): string {
  const dir = scratchDir();
  git(dir, 'init', '-q', '-b', 'main');
  for (const [path, content] of Object.entries(files)) write(dir, path, content);
  if (Object.keys(files).length > 0) {
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'initial');
  }
  if (remote) git(dir, 'remote', 'add', 'origin', remote);
  return dir;
}

/** Whether `git status --porcelain` prints nothing (the oracle for isTreeClean). */
export function gitSaysClean(dir: string): boolean {
  return git(dir, 'status', '--porcelain') === '';
}

/** Work counters at zero, for `measureGitStatus` and the checks that take them. */
export function counters(): CheckCounters {
  return {
    lstat: 0,
    hashed: 0,
    directoriesRead: 0,
    untrackedCacheDirectories: 0,
    treesRead: 0,
    treesHashed: 0,
  };
}
