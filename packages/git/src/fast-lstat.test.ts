import * as fs from 'node:fs';
import { chmodSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  counters,
  createRepo,
  git,
  gitSaysClean,
  removeScratch,
  scratchDir,
  write,
} from './__fixtures__/git-repository';
import {
  createLstatReader,
  createPrefixedLstatReader,
  type FsBinding,
  type LstatNumbers,
  type LstatReader,
} from './fast-lstat';
import { measureGitStatus } from './git-status';

afterAll(removeScratch);

const NODE_BINDING = (process as unknown as { binding(name: string): FsBinding }).binding('fs');

function copy(numbers: LstatNumbers | undefined): LstatNumbers | undefined {
  return numbers && { ...numbers };
}

/** What fs.lstatSync says, in the reader's terms. */
function expected(path: string): LstatNumbers | undefined {
  const stats = fs.lstatSync(path, { throwIfNoEntry: false });
  return (
    stats && {
      mode: stats.mode,
      ino: stats.ino,
      uid: stats.uid,
      gid: stats.gid,
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      ctimeMs: stats.ctimeMs,
    }
  );
}

/** A directory with a file, an executable, a symlink, a dangling symlink and a subdirectory. */
function sampleTree(): string {
  const dir = scratchDir();
  writeFileSync(join(dir, 'file.txt'), 'hello\n');
  writeFileSync(join(dir, 'tool.sh'), '#!/bin/sh\n');
  chmodSync(join(dir, 'tool.sh'), 0o755);
  utimesSync(join(dir, 'file.txt'), 1_700_000_000.123456, 1_700_000_000.987654);
  symlinkSync('file.txt', join(dir, 'link'));
  symlinkSync('nowhere', join(dir, 'dangling'));
  mkdirSync(join(dir, 'sub'));
  return dir;
}

const SAMPLE_NAMES = ['file.txt', 'tool.sh', 'link', 'dangling', 'sub', 'missing', 'sub/missing'];

describe('createLstatReader', () => {
  it('gives fs.lstatSync’s numbers through the binding, for files, symlinks (not followed) and directories', () => {
    const dir = sampleTree();
    const fast = createLstatReader({ binding: NODE_BINDING });
    for (const name of SAMPLE_NAMES) {
      expect(copy(fast(join(dir, name))), name).toEqual(expected(join(dir, name)));
    }
    expect((fast(join(dir, 'link'))?.mode ?? 0) & 0o170000).toBe(0o120000);
  });

  it('gives the same numbers with the fast path forced off', () => {
    const dir = sampleTree();
    const fast = createLstatReader({ binding: NODE_BINDING });
    const portable = createLstatReader({ binding: null });
    for (const name of SAMPLE_NAMES) {
      expect(copy(portable(join(dir, name))), name).toEqual(copy(fast(join(dir, name))));
    }
  });

  it('gives undefined for a missing file or parent, and throws fs.lstatSync’s own error otherwise', () => {
    const dir = sampleTree();
    for (const reader of [
      createLstatReader({ binding: NODE_BINDING }),
      createLstatReader({ binding: null }),
    ]) {
      expect(reader(join(dir, 'missing'))).toBeUndefined();
      // A path through a regular file: ENOTDIR, which lstatSync throws even with throwIfNoEntry;
      // for a status it is a missing file, as for git.
      expect(reader(join(dir, 'file.txt', 'x'))).toBeUndefined();
      expect(() => reader(join(dir, 'n'.repeat(300)))).toThrow(
        expect.objectContaining({ code: 'ENAMETOOLONG', syscall: 'lstat' }),
      );
      expect(() => reader(join(dir, 'nul\0byte'))).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
      );
    }
  });

  it('drops a binding whose numbers differ from fs.lstatSync’s, for good', () => {
    const dir = sampleTree();
    let calls = 0;
    const lying: FsBinding = {
      lstat(path, bigint, request, throwIfNoEntry) {
        calls += 1;
        const result = NODE_BINDING.lstat(path, bigint, request, throwIfNoEntry);
        if (result instanceof Float64Array) result[8] = (result[8] as number) + 1; // size
        return result;
      },
    };
    const reader = createLstatReader({ binding: lying, probe: join(dir, 'file.txt') });
    const callsAfterCheck = calls;
    expect(copy(reader(join(dir, 'file.txt')))).toEqual(expected(join(dir, 'file.txt')));
    expect(calls).toBe(callsAfterCheck);
  });

  it('drops a binding that throws for a missing path, or returns something else, or throws at all', () => {
    const dir = sampleTree();
    const probe = join(dir, 'file.txt');
    const throwsForMissing: FsBinding = {
      lstat(path, bigint, request) {
        // The convention of Node versions before throwIfNoEntry: always throw.
        return NODE_BINDING.lstat(path, bigint, request, true as unknown as false);
      },
    };
    const returnsAnObject: FsBinding = { lstat: (path) => fs.lstatSync(path) };
    const throwsAlways: FsBinding = {
      lstat() {
        throw new Error('not this way');
      },
    };
    for (const binding of [throwsForMissing, returnsAnObject, throwsAlways]) {
      let used = false;
      const spy: FsBinding = {
        lstat(...args) {
          used = true;
          return binding.lstat(...args);
        },
      };
      const reader = createLstatReader({ binding: spy, probe });
      used = false;
      expect(reader(join(dir, 'missing'))).toBeUndefined();
      expect(copy(reader(probe))).toEqual(expected(probe));
      expect(used).toBe(false);
    }
  });

  it('does not touch process.binding when that would emit DEP0111 (pending deprecation)', () => {
    const dir = sampleTree();
    const binding = vi.spyOn(process as unknown as { binding: () => unknown }, 'binding');
    vi.stubEnv('NODE_PENDING_DEPRECATION', '1');
    try {
      const reader = createLstatReader();
      expect(copy(reader(join(dir, 'file.txt')))).toEqual(expected(join(dir, 'file.txt')));
      expect(binding).not.toHaveBeenCalled();
    } finally {
      vi.unstubAllEnvs();
      binding.mockRestore();
    }
  });

  it('falls back to fs.lstatSync for one path when the binding throws for it', () => {
    const dir = sampleTree();
    const failing = join(dir, 'tool.sh');
    const flaky: FsBinding = {
      lstat(path, bigint, request, throwIfNoEntry) {
        if (path === failing) throw new Error('transient');
        return NODE_BINDING.lstat(path, bigint, request, throwIfNoEntry);
      },
    };
    const reader = createLstatReader({ binding: flaky, probe: join(dir, 'file.txt') });
    expect(copy(reader(failing))).toEqual(expected(failing));
    expect(copy(reader(join(dir, 'file.txt')))).toEqual(expected(join(dir, 'file.txt')));
  });
});

describe('createPrefixedLstatReader', () => {
  /** `prefix` + `name` as the index holds it: bytes in a larger buffer, between other bytes. */
  function inBuffer(name: string): [Buffer, number, number] {
    const bytes = Buffer.from(`xx${name}\0yy`);
    return [bytes, 2, 2 + Buffer.byteLength(name)];
  }

  it('gives fs.lstatSync’s numbers for prefix + bytes, through the binding and without it', () => {
    const dir = sampleTree();
    mkdirSync(join(dir, 'ünï cødé'));
    writeFileSync(join(dir, 'ünï cødé', 'fïlé.txt'), 'x');
    const names = [...SAMPLE_NAMES, 'ünï cødé/fïlé.txt', 'ünï cødé'];
    for (const binding of [NODE_BINDING, null]) {
      const read = createPrefixedLstatReader(`${dir}/`, { binding });
      for (const name of names) {
        expect(copy(read(...inBuffer(name))), name).toEqual(expected(join(dir, name)));
      }
    }
  });

  it('reads paths longer than its first buffer, and shorter ones after them', () => {
    const dir = sampleTree();
    const deep = Array.from({ length: 40 }, (_, i) => `level-${i}`).join('/');
    mkdirSync(join(dir, deep), { recursive: true });
    writeFileSync(join(dir, deep, 'leaf.txt'), 'leaf');
    const read = createPrefixedLstatReader(`${dir}/`, { binding: NODE_BINDING });
    for (const name of [`${deep}/leaf.txt`, 'file.txt', `${deep}/missing`, 'link']) {
      expect(copy(read(...inBuffer(name))), name).toEqual(expected(join(dir, name)));
    }
  });

  it('throws fs.lstatSync’s own errors, and reads a path through a file as missing', () => {
    const dir = sampleTree();
    const read = createPrefixedLstatReader(`${dir}/`, { binding: NODE_BINDING });
    const nul = Buffer.from('file.txt\0.hidden');
    expect(() => read(nul, 0, nul.length)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => read(...inBuffer('n'.repeat(300)))).toThrow(
      expect.objectContaining({ code: 'ENAMETOOLONG' }),
    );
    expect(read(...inBuffer('file.txt/x'))).toBeUndefined();
  });

  it('decides the process’s binding once, also when the binding fails its self-check', async () => {
    let calls = 0;
    const refusesBytes: FsBinding = {
      lstat(path, bigint, request, throwIfNoEntry) {
        calls += 1;
        if (typeof path !== 'string') throw new Error('bytes refused');
        return NODE_BINDING.lstat(path, bigint, request, throwIfNoEntry);
      },
    };
    vi.resetModules();
    const binding = vi
      .spyOn(process as unknown as { binding: (name: string) => unknown }, 'binding')
      .mockReturnValue(refusesBytes);
    try {
      const fresh = await import('./fast-lstat');
      const dir = sampleTree();
      fresh.prefixedLstatReader(`${dir}/`);
      const afterCheck = calls;
      expect(afterCheck).toBeGreaterThan(0);
      const read = fresh.prefixedLstatReader(`${dir}/`);
      fresh.lstatReader();
      expect(calls).toBe(afterCheck);
      // It failed, so the readers use fs.lstatSync.
      expect(copy(read(...inBuffer('file.txt')))).toEqual(expected(join(dir, 'file.txt')));
      expect(calls).toBe(afterCheck);
    } finally {
      binding.mockRestore();
      vi.resetModules();
    }
  });

  it('drops a binding that reads a Buffer path past its NUL', () => {
    const dir = sampleTree();
    let calls = 0;
    const wholeBuffer: FsBinding = {
      lstat(path, bigint, request, throwIfNoEntry) {
        calls += 1;
        // As if C++ took the buffer's length, not its C string: the bytes after the NUL count.
        const text = typeof path === 'string' ? path : path.toString('latin1');
        if (text.includes('\0')) return undefined;
        return NODE_BINDING.lstat(path, bigint, request, throwIfNoEntry);
      },
    };
    const read = createPrefixedLstatReader(`${dir}/`, {
      binding: wholeBuffer,
      probe: join(dir, 'file.txt'),
    });
    const callsAfterCheck = calls;
    expect(copy(read(...inBuffer('file.txt')))).toEqual(expected(join(dir, 'file.txt')));
    expect(calls).toBe(callsAfterCheck);
  });
});

describe('GitStatus with and without the fast lstat path', () => {
  /**
   * Every reader gives git's verdict, the same first change and the same work (`undefined`: the
   * status's own choice, paths read as bytes straight from the index).
   */
  async function expectSameVerdicts(
    dir: string,
    readers: readonly (LstatReader | undefined)[],
  ): Promise<void> {
    const clean = gitSaysClean(dir);
    const results = [];
    for (const lstat of readers) {
      const work = counters();
      const status = await measureGitStatus(dir, work, {}, lstat);
      results.push({ clean: status.isTreeClean, firstChange: status.firstChange, work });
    }
    expect(results[0]?.clean).toBe(clean);
    for (const result of results) expect(result).toEqual(results[0]);
  }

  it('by default, lstat every tracked file through the binding, with the path as bytes', async () => {
    const dir = createRepo({ 'a.txt': 'a\n', 'src/b.ts': 'b\n', 'src/deep/c.ts': 'c\n' });
    git(dir, 'status', '--porcelain');
    // The reader reuses one buffer, so each path is read when the binding is called: its bytes
    // up to the NUL written after them.
    const seen: string[] = [];
    const original = NODE_BINDING.lstat.bind(NODE_BINDING);
    const lstat = vi.spyOn(NODE_BINDING, 'lstat').mockImplementation((path, ...rest) => {
      if (Buffer.isBuffer(path)) seen.push(path.subarray(0, path.indexOf(0)).toString());
      return original(path, ...rest);
    });
    try {
      const work = counters();
      expect((await measureGitStatus(dir, work)).isTreeClean).toBe(true);
      expect(work.lstat).toBe(3);
      expect(seen.filter((path) => path.startsWith(`${dir}/`)).sort()).toEqual(
        ['a.txt', 'src/b.ts', 'src/deep/c.ts'].map((file) => join(dir, file)),
      );
    } finally {
      lstat.mockRestore();
    }
  });

  it('agree with each other and with git on clean, touched, modified, deleted, chmod and symlink changes', async () => {
    const readers = [
      undefined,
      createLstatReader({ binding: NODE_BINDING }),
      createLstatReader({ binding: null }),
    ];
    const dir = createRepo(
      {
        'a.txt': 'a\n',
        'src/b.ts': 'export const b = 1;\n',
        'src/deep/c.ts': 'export const c = 1;\n',
        'run.sh': '#!/bin/sh\n',
      },
      'https://github.com/acme/etl.git',
    );
    symlinkSync('a.txt', join(dir, 'link'));
    git(dir, 'add', 'link');
    git(dir, 'commit', '-qm', 'link');
    git(dir, 'status', '--porcelain');
    await expectSameVerdicts(dir, readers);

    // Touched but unchanged: stat data differs, content does not.
    utimesSync(join(dir, 'src/b.ts'), new Date(), new Date(Date.now() + 5_000));
    await expectSameVerdicts(dir, readers);
    // Same size, different content.
    write(dir, 'src/b.ts', 'export const b = 2;\n');
    await expectSameVerdicts(dir, readers);
    git(dir, 'checkout', '--', 'src/b.ts');
    chmodSync(join(dir, 'run.sh'), 0o755);
    await expectSameVerdicts(dir, readers);
    git(dir, 'checkout', '--', 'run.sh');
    rmSync(join(dir, 'link'));
    symlinkSync('src/b.ts', join(dir, 'link'));
    await expectSameVerdicts(dir, readers);
    rmSync(join(dir, 'link'));
    writeFileSync(join(dir, 'link'), 'a.txt');
    await expectSameVerdicts(dir, readers);
    git(dir, 'checkout', '--', 'link');
    rmSync(join(dir, 'src/deep/c.ts'));
    await expectSameVerdicts(dir, readers);
    git(dir, 'checkout', '--', 'src/deep/c.ts');
    git(dir, 'status', '--porcelain');
    await expectSameVerdicts(dir, readers);
  });
});
