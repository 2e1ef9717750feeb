import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRepo, git, gitSaysClean, removeScratch } from './__fixtures__/git-repository';
import { GitError } from './errors';
import { EntryField, type GitIndex, parseGitIndex, readGitIndex } from './git-index';

afterAll(removeScratch);

/** Every entry's path bytes, stat data, mode and flags, for comparing two parses. */
function entries(index: GitIndex): unknown[] {
  const { bytes, starts, ends } = index.pathBytes;
  return pathsOf(index).map((path, i) => ({
    path,
    bytes: bytes.subarray(starts[i], ends[i]).toString('hex'),
    stat: Object.values(EntryField).map((field) => index.statField(i, field)),
    mode: index.modes[i],
    flags: index.flags[i],
    oid: index.oid(i),
  }));
}

/** Every entry's path, in index order. */
function pathsOf(index: GitIndex): string[] {
  return Array.from({ length: index.count }, (_, i) => index.path(i));
}

/** Parses index bytes as if read from `file`. */
function parse(file: string, bytes: Buffer): GitIndex {
  return parseGitIndex(file, bytes, { seconds: 0, nanoseconds: 0 });
}

/** The message of the corrupt_index error that parsing `bytes` gives. */
function corruption(file: string, bytes: Buffer): string {
  let error: unknown;
  try {
    parse(file, bytes);
  } catch (thrown) {
    error = thrown;
  }
  expect(GitError.isInstance(error)).toBe(true);
  expect(error).toMatchObject({ code: 'corrupt_index' });
  return (error as Error).message;
}

/** `index` with its trailing checksum recomputed, so only the structure is wrong. */
function withChecksum(index: Buffer): Buffer {
  const body = index.subarray(0, index.length - 20);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

describe('readGitIndex', () => {
  it('spells out version 4 paths (prefix-compressed) to the same bytes as version 2 stores', async () => {
    const long = 'd'.repeat(200);
    const files: Record<string, string> = { 'top.txt': 't\n', 'ünï cödé/ñame.txt': 'u\n' };
    // Paths longer than the first guess of their total size, so the buffer has to grow; paths
    // that share long prefixes, and ones that share none.
    for (let i = 0; i < 40; i++) files[`${long}/${long}/file-${i}.txt`] = `${i}\n`;
    for (let i = 0; i < 40; i++) files[`a/b${i % 3}/c/${i}.ts`] = `${i}\n`;
    const dir = createRepo(files);
    // A name that is not UTF-8: its bytes must survive unchanged.
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/a/caf`), Buffer.from([0xe9])]), 'x\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'latin-1');
    const index2 = await readGitIndex(join(dir, '.git'));
    // git writes a new file (a new cache key), so this is a second parse.
    git(dir, 'update-index', '--index-version', '4');
    const index4 = await readGitIndex(join(dir, '.git'));
    expect([index2.version, index4.version]).toEqual([2, 4]);
    expect(index4.count).toBe(Object.keys(files).length + 1);
    expect(entries(index4)).toEqual(entries(index2));
    // Version 4's paths have a buffer of their own, cut to what they use.
    const { bytes, ends } = index4.pathBytes;
    expect(bytes.length).toBe(ends[ends.length - 1]);
  });

  it('reads a version 4 drop count as git does: ignored for the first entry, checked for the others', async () => {
    const dir = createRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    git(dir, 'update-index', '--index-version', '4');
    const file = join(dir, '.git', 'index');
    const original = readFileSync(file);
    // Each path follows 62 bytes of fixed fields, after the count of bytes to drop from the
    // previous path (a varint); version 4 does not pad entries. "b.txt" drops all of "a.txt".
    const firstDrop = 12 + 62;
    const secondDrop = firstDrop + 1 + 'a.txt\0'.length + 62;
    expect([original[firstDrop], original[secondDrop]]).toEqual([0, 5]);
    const withDrops = (first: number[], second: number[]): Buffer =>
      withChecksum(
        Buffer.concat([
          original.subarray(0, firstDrop),
          Buffer.from(first),
          original.subarray(firstDrop + 1, secondDrop),
          Buffer.from(second),
          original.subarray(secondDrop + 1),
        ]),
      );
    expect(pathsOf(parse(file, withDrops([5], [5])))).toEqual(['a.txt', 'b.txt']);
    writeFileSync(file, withDrops([5], [5]));
    expect(gitSaysClean(dir)).toBe(true);
    for (const second of [
      [6],
      // 2^32 - 3 in git's varint: with 32-bit shifts it wrapped around to -3.
      [0x8e, 0xfe, 0xfe, 0xfe, 0x7d],
    ]) {
      expect(corruption(file, withDrops([0], second))).toContain(
        'entry 1 removes more than the previous path',
      );
    }
  });

  it('an entry count larger than the file can hold is a corrupt index, not an allocation', () => {
    const dir = createRepo({ 'a.txt': 'a\n' });
    const file = join(dir, '.git', 'index');
    const bytes = readFileSync(file);
    bytes.writeUInt32BE(0xffff_ffff, 8);
    expect(corruption(file, withChecksum(bytes))).toContain('claims 4294967295 entries');
  });

  it('a version 4 index cut inside an entry is a corrupt index', () => {
    const dir = createRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
    git(dir, 'update-index', '--index-version', '4');
    const file = join(dir, '.git', 'index');
    const bytes = readFileSync(file);
    // The header and one entry's fixed fields, saying one entry: the path (from its drop count
    // on) is missing.
    const cut = Buffer.concat([bytes.subarray(0, 12 + 62), Buffer.alloc(20)]);
    cut.writeUInt32BE(1, 8);
    expect(corruption(file, withChecksum(cut))).toContain('it ends in the middle of an entry');
  });

  it('finds an entry by path: byte order, the first conflict stage, and misses', async () => {
    const names = ['a', 'a.txt', 'a/b', 'ab', 'z/\u00e9t\u00e9.txt', 'Z.txt'];
    const dir = createRepo(
      Object.fromEntries(names.map((name) => [name === 'a' ? 'a0' : name, 'x\n'])),
    );
    // A conflict on c.txt: stages 1, 2 and 3 sit where stage 0 would.
    const blob = git(dir, 'hash-object', '-w', '--stdin');
    const info = [1, 2, 3].map((stage) => `100644 ${blob} ${stage}\tc.txt`).join('\n');
    execFileSync('git', ['update-index', '--index-info'], { cwd: dir, input: `${info}\n` });
    const index = await readGitIndex(join(dir, '.git'));
    const all = pathsOf(index);
    expect([...all]).toEqual(
      [...all].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
    );
    for (let i = 0; i < all.length; i++) {
      if (index.stage(i) <= 1) expect(index.position(all[i] as string)).toBe(i);
    }
    expect(index.stage(index.position('c.txt') as number)).toBe(1);
    for (const missing of ['', 'a', '0', 'a/', 'a/c', 'zz', 'z/ete.txt', '\u00ff']) {
      expect(index.position(missing), missing).toBeUndefined();
    }
  });
});
