import { mkdirSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  counters,
  createRepo,
  git,
  gitSaysClean,
  removeScratch,
  scratchDir,
  write,
} from './__fixtures__/git-repository';
import { type LstatReader, lstatReader } from './fast-lstat';
import { readGitIndex } from './git-index';
import { measureGitStatus } from './git-status';
import {
  ewahBits,
  parseUntrackedCache,
  STATUS_DIR_FLAGS,
  untrackedCacheIdent,
  untrackedCacheOf,
} from './untracked-cache';
import type { CheckCounters } from './worktree-status';

afterAll(removeScratch);

/** Sets every directory of the worktree (not .git) `seconds` away from now. */
function dateDirectories(dir: string, seconds: number): void {
  const when = new Date(Date.now() + seconds * 1000);
  const visit = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== '.git') visit(join(path, entry.name));
    }
    utimesSync(path, when, when);
  };
  visit(dir);
}

/**
 * A committed repository whose untracked cache `git status` has just filled and written, with
 * every directory dated 20 s back so that none is racy. `before` runs before the cache is made.
 */
function cachedRepo(
  files: Record<string, string>,
  before?: (dir: string) => void,
  directoryAge = -20,
): string {
  const dir = createRepo(files);
  git(dir, 'config', 'core.untrackedCache', 'true');
  before?.(dir);
  dateDirectories(dir, directoryAge);
  git(dir, 'status', '--porcelain');
  return dir;
}

/** Our verdict with work counters, checked against git's (which runs after ours). */
async function check(
  dir: string,
): Promise<{ firstChange: string | undefined; work: CheckCounters }> {
  const work = counters();
  const status = await measureGitStatus(dir, work);
  expect(status.isTreeClean, status.firstChange).toBe(gitSaysClean(dir));
  return { firstChange: status.firstChange, work };
}

const FILES = {
  'a/b/one.txt': '1\n',
  'c/two.txt': '2\n',
  'top.txt': 't\n',
  '.gitignore': '*.log\n',
};

describe('git’s untracked cache (core.untrackedCache, feature.manyFiles)', () => {
  afterEach(() => {
    delete process.env.GIT_DISABLE_UNTRACKED_CACHE;
  });

  it('parses what git wrote: ident, flags, ignore-file ids and every directory with its stat data', async () => {
    const dir = cachedRepo(FILES);
    const cache = untrackedCacheOf(await readGitIndex(join(dir, '.git')));
    expect(cache).toMatchObject({
      ident: untrackedCacheIdent(dir),
      dirFlags: STATUS_DIR_FLAGS,
      excludePerDir: '.gitignore',
    });
    const root = cache?.root;
    expect(root?.valid).toBe(true);
    expect(root?.directories.map((d) => d.name.toString())).toEqual(['a', 'c']);
    expect(root?.directories[0]?.directories.map((d) => d.name.toString())).toEqual(['b']);
    // The root has a .gitignore, the others none.
    expect(root?.excludeOid).toMatch(/^[0-9a-f]{40}$/);
    expect(root?.directories[0]?.excludeOid).toBeUndefined();
  });

  it('answers for every directory of a clean tree, so none is read; 200 directories need long bitmaps', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 200; i++) files[`d${i}/f.txt`] = `${i}\n`;
    const dir = cachedRepo(files);
    const { firstChange, work } = await check(dir);
    expect(firstChange).toBeUndefined();
    expect(work.directoriesRead).toBe(0);
    expect(work.untrackedCacheDirectories).toBe(201);
  });

  it('reports an untracked file git listed, from the cache alone', async () => {
    const dir = cachedRepo(FILES, (d) => write(d, 'a/notes.txt', 'n\n'));
    const { firstChange, work } = await check(dir);
    expect(firstChange).toBe('untracked: a/notes.txt');
    expect(work.directoriesRead).toBe(0);
  });

  it('a file created after git wrote the cache changes its directory, which is then read', async () => {
    const dir = cachedRepo(FILES);
    write(dir, 'a/b/new.txt', 'new\n');
    const { firstChange, work } = await check(dir);
    expect(firstChange).toBe('untracked: a/b/new.txt');
    expect(work.directoriesRead).toBeGreaterThan(0);
    // Counted only when the cache answered for the whole tree.
    expect(work.untrackedCacheDirectories).toBe(0);
  });

  it('names a file found deep in an untracked directory as git lists it: the directory', async () => {
    const dir = cachedRepo(FILES, (d) => write(d, 'foo/bar/baz/x.log', 'ignored\n'));
    write(dir, 'foo/bar/baz/new.txt', 'new\n');
    // Dated back so that git's next status records baz/ (and only baz/) with new.txt in it.
    utimesSync(
      join(dir, 'foo/bar/baz'),
      new Date(Date.now() - 10_000),
      new Date(Date.now() - 10_000),
    );
    git(dir, 'status', '--porcelain');
    const { firstChange, work } = await check(dir);
    expect(work.directoriesRead).toBe(0);
    expect(firstChange).toBe('untracked: foo/');
  });

  it('a directory that cannot be stat-ed leaves the cache unused instead of failing', async () => {
    const dir = cachedRepo(FILES);
    const work = counters();
    // Directories (paths with a trailing slash) fail as an unreadable one would.
    const lstat: LstatReader = (path) => {
      if (String(path).endsWith('/')) {
        throw Object.assign(new Error(`EACCES: permission denied, lstat '${path}'`), {
          code: 'EACCES',
        });
      }
      return lstatReader()(path);
    };
    const status = await measureGitStatus(dir, work, {}, lstat);
    expect(status.isTreeClean).toBe(true);
    expect(work.untrackedCacheDirectories).toBe(0);
    expect(work.directoriesRead).toBeGreaterThan(0);
  });

  it('where git’s own cache may have gone stale, what is on disk counts, as git says with the cache off', async () => {
    const withoutCache = (dir: string): boolean => {
      process.env.GIT_DISABLE_UNTRACKED_CACHE = '1';
      try {
        return gitSaysClean(dir);
      } finally {
        delete process.env.GIT_DISABLE_UNTRACKED_CACHE;
      }
    };
    // A directory holding only ignored files that becomes a nested repository: listed.
    const nested = cachedRepo(FILES, (d) => write(d, 'u/x.log', 'ignored\n'));
    git(nested, 'init', '-q', 'u');
    expect((await measureGitStatus(nested, counters())).firstChange).toBe('untracked: u/');
    expect(withoutCache(nested)).toBe(false);
    // An untracked directory git listed, emptied since: only its own stat data changed, and
    // that is enough for the cache not to be trusted.
    const emptied = cachedRepo(FILES, (d) => write(d, 'a/foo/x.txt', 'x\n'));
    expect((await measureGitStatus(emptied, counters())).firstChange).toBe('untracked: a/foo/');
    rmSync(join(emptied, 'a/foo/x.txt'));
    const work = counters();
    expect((await measureGitStatus(emptied, work)).isTreeClean).toBe(true);
    expect(work.untrackedCacheDirectories).toBe(0);
    expect(withoutCache(emptied)).toBe(true);
  });

  it('an untracked directory that held only ignored files is checked again, and found once it holds more', async () => {
    const dir = cachedRepo(FILES, (d) => write(d, 'scratch/run.log', 'ignored\n'));
    const before = await check(dir);
    expect(before.firstChange).toBeUndefined();
    expect(before.work.directoriesRead).toBe(0);
    // root, a, a/b, c and the untracked scratch/, which git only checked for content.
    expect(before.work.untrackedCacheDirectories).toBe(5);
    dateDirectories(dir, -20);
    git(dir, 'status', '--porcelain');
    write(dir, 'scratch/keep.txt', 'not ignored\n');
    expect((await check(dir)).firstChange).toBe('untracked: scratch/');
  });

  it('a .gitignore edited in place (its directory unchanged) is noticed: a file it stops ignoring shows', async () => {
    // Ignore files that ignore themselves: untracked, so editing one is not a tracked change,
    // and written in place, so their directories keep their stat data.
    const files = { 'a/b/one.txt': '1\n', 'c/two.txt': '2\n' };
    const dir = cachedRepo(files, (d) => {
      write(d, '.gitignore', '.gitignore\n*.log\n');
      write(d, 'c/.gitignore', '.gitignore\n*.tmp\n');
      write(d, 'debug.log', 'ignored\n');
      write(d, 'c/cache.tmp', 'ignored\n');
    });
    expect((await check(dir)).work.directoriesRead).toBe(0);
    writeFileSync(join(dir, 'c/.gitignore'), '.gitignore\n');
    expect((await check(dir)).firstChange).toBe('untracked: c/cache.tmp');
    // Back as it was: git's next status trusts the cache again, and so do we.
    writeFileSync(join(dir, 'c/.gitignore'), '.gitignore\n*.tmp\n');
    git(dir, 'status', '--porcelain');
    expect((await check(dir)).work.directoriesRead).toBe(0);
    writeFileSync(join(dir, '.gitignore'), '.gitignore\n');
    expect((await check(dir)).firstChange).toBe('untracked: debug.log');
  });

  it('an edited info/exclude is noticed', async () => {
    const dir = cachedRepo(FILES, (d) => {
      writeFileSync(join(d, '.git/info/exclude'), 'secret.txt\n');
      write(d, 'secret.txt', 'excluded\n');
    });
    expect((await check(dir)).firstChange).toBeUndefined();
    writeFileSync(join(dir, '.git/info/exclude'), '\n');
    expect((await check(dir)).firstChange).toBe('untracked: secret.txt');
  });

  it('an edited core.excludesFile is noticed', async () => {
    const excludes = join(scratchDir(), 'ignore');
    writeFileSync(excludes, '*.swp\n');
    const dir = cachedRepo(FILES, (d) => {
      git(d, 'config', 'core.excludesFile', excludes);
      write(d, 'a/.one.txt.swp', 'editor swap file\n');
    });
    expect((await check(dir)).work.directoriesRead).toBe(0);
    writeFileSync(excludes, '*.bak\n');
    expect((await check(dir)).firstChange).toBe('untracked: a/.one.txt.swp');
  });

  it('a cache made for another listing (status.showUntrackedFiles=all) is not used', async () => {
    const dir = cachedRepo(FILES, (d) => git(d, 'config', 'status.showUntrackedFiles', 'all'));
    git(dir, 'config', '--unset', 'status.showUntrackedFiles');
    const { firstChange, work } = await check(dir);
    expect(firstChange).toBeUndefined();
    expect(work.untrackedCacheDirectories).toBe(0);
  });

  it('a directory that is no longer a directory leaves the cache unused', async () => {
    const dir = cachedRepo(FILES);
    const work = counters();
    // Every directory reads as a regular file, as if each had been replaced by one.
    const lstat: LstatReader = (path) => {
      const stats = lstatReader()(path);
      return stats && String(path).endsWith('/') ? { ...stats, mode: 0o100644 } : stats;
    };
    expect((await measureGitStatus(dir, work, {}, lstat)).isTreeClean).toBe(true);
    expect(work.untrackedCacheDirectories).toBe(0);
    expect(work.directoriesRead).toBeGreaterThan(0);
  });

  it('stops when the AbortSignal fires during the walk', async () => {
    const dir = cachedRepo(FILES);
    const controller = new AbortController();
    // Aborted once the walk has stat-ed its first directory (the root).
    const lstat: LstatReader = (path) => {
      if (String(path).endsWith('/')) controller.abort(new Error('stop'));
      return lstatReader()(path);
    };
    await expect(
      measureGitStatus(dir, counters(), { signal: controller.signal }, lstat),
    ).rejects.toThrow(/stop|abort/i);
  });

  it('a file git rm --cached leaves on disk is untracked', async () => {
    const dir = cachedRepo(FILES);
    git(dir, 'rm', '-q', '--cached', 'c/two.txt');
    git(dir, 'commit', '-qm', 'untrack');
    // c/ holds nothing tracked any more: git lists the directory.
    expect((await check(dir)).firstChange).toBe('untracked: c/');
  });

  it('is not used where git would not use it', async () => {
    const cases: Array<[string, (dir: string) => string, number?]> = [
      [
        'core.untrackedCache=false',
        (d) => {
          git(d, 'config', 'core.untrackedCache', 'false');
          return d;
        },
      ],
      [
        'status.showUntrackedFiles=all',
        (d) => {
          git(d, 'config', 'status.showUntrackedFiles', 'all');
          return d;
        },
      ],
      [
        'GIT_DISABLE_UNTRACKED_CACHE',
        (d) => {
          process.env.GIT_DISABLE_UNTRACKED_CACHE = '1';
          return d;
        },
      ],
      [
        'a worktree moved elsewhere (the cache names its location)',
        (d) => {
          // Without ctime, which a rename changes, only the location tells.
          git(d, 'config', 'core.trustCtime', 'false');
          const moved = join(scratchDir(), 'moved');
          renameSync(d, moved);
          return moved;
        },
      ],
      // Dated in the second the index was written or later: they could change again unseen.
      ['racy directories', (d) => d, 3600],
    ];
    for (const [name, change, age] of cases) {
      const dir = change(cachedRepo(FILES, undefined, age));
      const { firstChange, work } = await check(dir);
      expect(firstChange, name).toBeUndefined();
      expect(work.untrackedCacheDirectories, name).toBe(0);
      expect(work.directoriesRead, name).toBeGreaterThan(0);
      delete process.env.GIT_DISABLE_UNTRACKED_CACHE;
    }
  });
});

describe('parseUntrackedCache', () => {
  it('gives up on malformed bytes, never throws', async () => {
    const dir = cachedRepo(FILES, (d) => mkdirSync(join(d, 'empty')));
    const data = (await readGitIndex(join(dir, '.git'))).untrackedCacheData as Buffer;
    expect(parseUntrackedCache(data)?.root).toBeDefined();
    expect(parseUntrackedCache(data.subarray(0, data.length - 1))).toBeUndefined();
    for (let cut = 0; cut < data.length - 1; cut++) {
      // Cut anywhere and NUL-terminated again: a cache without directories at best.
      const cache = parseUntrackedCache(Buffer.concat([data.subarray(0, cut), Buffer.from([0])]));
      expect(cache?.root, `cut at ${cut}`).toBeUndefined();
    }
  });

  it('reads EWAH bitmaps with runs of ones and literal words', () => {
    const word = (high: number, low: number): Buffer => {
      const bytes = Buffer.alloc(8);
      bytes.writeUInt32BE(high, 0);
      bytes.writeUInt32BE(low, 4);
      return bytes;
    };
    const uint32 = (value: number): Buffer => {
      const bytes = Buffer.alloc(4);
      bytes.writeUInt32BE(value, 0);
      return bytes;
    };
    // A marker word: a run of 2 words of ones (bit 0 set, run length in bits 1-32), then 1
    // literal word (count in bits 33-63), which has bits 0, 2 and 33 set. Then a marker for a
    // run of 1 word of zeros and 1 literal, which has bit 63 set.
    const bitmap = Buffer.concat([
      uint32(320),
      uint32(4),
      word(1 << 1, (2 << 1) | 1),
      word(1 << 1, 0b101),
      word(1 << 1, 1 << 1),
      word(0x8000_0000, 0),
      uint32(2),
      Buffer.from([0xaa]),
    ]);
    const at = { offset: 0 };
    const bits = ewahBits(bitmap, at, bitmap.length, 1000);
    const expected = [...Array.from({ length: 128 }, (_, i) => i), 128, 130, 161, 319];
    expect(bits).toEqual(expected);
    expect(at.offset).toBe(bitmap.length - 1);
    // A run past the number of directories is not spelled out.
    expect(ewahBits(bitmap, { offset: 0 }, bitmap.length, 10)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 128, 130, 161, 319,
    ]);
  });
});
