import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRepo, git, removeScratch, scratchDir, write } from './__fixtures__/git-repository';
import { applyDelta, readCommitTreeFast, readObjectFast } from './git-objects';

afterAll(removeScratch);

/** Every object git has in `dir`: its type and content, byte for byte, from one git process. */
function allObjects(dir: string): { oid: string; type: string; content: Buffer }[] {
  const output = execFileSync('git', ['cat-file', '--batch-all-objects', '--batch'], {
    cwd: dir,
    maxBuffer: 1 << 26,
  });
  const objects: { oid: string; type: string; content: Buffer }[] = [];
  // "<oid> <type> <size>\n<content>\n" for each.
  for (let at = 0; at < output.length; ) {
    const newline = output.indexOf(10, at);
    const [oid = '', type = '', size = ''] = output.toString('latin1', at, newline).split(' ');
    const start = newline + 1;
    objects.push({ oid, type, content: output.subarray(start, start + Number(size)) });
    at = start + Number(size) + 1;
  }
  return objects;
}

/** How many entries of each pack entry type (1-4 whole, 6 offset delta, 7 ref delta) `dir` holds. */
function packEntryTypes(dir: string): Map<number, number> {
  const packs = join(dir, '.git/objects/pack');
  const types = new Map<number, number>();
  for (const name of readdirSync(packs).filter((file) => file.endsWith('.idx'))) {
    const pack = readFileSync(join(packs, name.replace(/\.idx$/, '.pack')));
    const listing = execFileSync('git', ['show-index'], {
      input: readFileSync(join(packs, name)),
      encoding: 'utf8',
    });
    for (const line of listing.trim().split('\n')) {
      const type = ((pack[Number(line.split(' ')[0])] as number) >> 4) & 7;
      types.set(type, (types.get(type) ?? 0) + 1);
    }
  }
  return types;
}

let history: string | undefined;

/**
 * A copy of a repository with history in which trees and blobs change a little at a time (made
 * once; each test changes its own copy).
 */
function repositoryWithHistory(): string {
  history ??= makeHistory();
  const copy = scratchDir();
  cpSync(history, copy, { recursive: true });
  return copy;
}

function makeHistory(): string {
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) files[`src/module${i}.ts`] = `export const value${i} = ${i};\n`;
  const dir = createRepo(files);
  for (let round = 1; round <= 12; round++) {
    write(dir, `src/module${round}.ts`, `export const value${round} = ${round * 100};\n`);
    write(dir, 'notes.txt', `${'a line that repeats\n'.repeat(200)}round ${round}\n`);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', `round ${round}`);
  }
  // Incompressible and larger than any fixed read: its compressed size is about its size.
  writeFileSync(join(dir, 'random.bin'), randomBytes(300_000));
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'binary');
  return dir;
}

async function expectEveryObjectAsGit(dir: string): Promise<void> {
  const objects = allObjects(dir);
  expect(objects.length).toBeGreaterThan(50);
  for (const { oid, type, content } of objects) {
    const object = await readObjectFast(join(dir, '.git'), oid);
    expect(object?.type, oid).toBe(type);
    expect(object?.content.equals(content), oid).toBe(true);
  }
}

describe('readObjectFast', () => {
  it('reads loose objects of every kind as git does', async () => {
    const dir = repositoryWithHistory();
    git(dir, 'tag', '-a', '-m', 'a tag', 'v1');
    expect(packEntryTypes(dir).size).toBe(0);
    await expectEveryObjectAsGit(dir);
    const head = git(dir, 'rev-parse', 'HEAD');
    expect(await readCommitTreeFast(join(dir, '.git'), head)).toBe(
      git(dir, 'rev-parse', 'HEAD^{tree}'),
    );
  });

  // Pack entry type 6 is a delta against an earlier entry of the pack, 7 one against an object id.
  it.each([
    ['offset deltas', ['gc', '-q', '--aggressive'], 6, 7],
    [
      'deltas against an object named by its id',
      ['-c', 'repack.useDeltaBaseOffset=false', 'repack', '-q', '-a', '-d', '-f'],
      7,
      6,
    ],
  ] as const)('reads packed objects through %s', async (_kind, repack, used, unused) => {
    const dir = repositoryWithHistory();
    git(dir, ...repack);
    const types = packEntryTypes(dir);
    expect(types.get(used)).toBeGreaterThan(10);
    expect(types.get(unused)).toBeUndefined();
    await expectEveryObjectAsGit(dir);
  });

  it('reads objects through alternate object stores (git clone --shared)', async () => {
    const source = repositoryWithHistory();
    git(source, 'gc', '-q');
    const clone = scratchDir();
    git(clone, 'clone', '-q', '--shared', source, '.');
    expect(readFileSync(join(clone, '.git/objects/info/alternates'), 'utf8')).toContain(source);
    await expectEveryObjectAsGit(clone);
  });

  it('answers undefined, never a throw, for what it cannot read', async () => {
    const dir = repositoryWithHistory();
    const gitdir = join(dir, '.git');
    expect(await readObjectFast(gitdir, '0'.repeat(40))).toBeUndefined();
    const blob = git(dir, 'rev-parse', 'HEAD:notes.txt');
    // A loose object whose bytes do not match its id.
    const loose = join(gitdir, 'objects', blob.slice(0, 2), blob.slice(2));
    const other = git(dir, 'rev-parse', 'HEAD:src/module0.ts');
    writeFileSync(loose, readFileSync(join(gitdir, 'objects', other.slice(0, 2), other.slice(2))));
    expect(await readObjectFast(gitdir, blob)).toBeUndefined();
    // A damaged pack: every entry's bytes flipped after its header.
    git(dir, 'gc', '-q');
    const packs = join(gitdir, 'objects/pack');
    const name = readdirSync(packs).find((file) => file.endsWith('.pack')) as string;
    const pack = readFileSync(join(packs, name));
    for (let at = 12; at < pack.length - 20; at += 7) pack[at] = (pack[at] as number) ^ 0x55;
    writeFileSync(join(packs, name), pack);
    for (const { oid } of allObjectsFromIndex(dir)) {
      expect(await readObjectFast(gitdir, oid)).toBeUndefined();
    }
  });
});

/** The object ids a repository's pack indexes list (git cannot read the damaged packs). */
function allObjectsFromIndex(dir: string): { oid: string }[] {
  const packs = join(dir, '.git/objects/pack');
  return readdirSync(packs)
    .filter((file) => file.endsWith('.idx'))
    .flatMap((name) =>
      execFileSync('git', ['show-index'], {
        input: readFileSync(join(packs, name)),
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .map((line) => ({ oid: line.split(' ')[1] as string })),
    );
}

describe('applyDelta', () => {
  const base = Buffer.from('0123456789abcdef');

  it('copies ranges of the base and inserts literal bytes', () => {
    // Base size 16, target size 9; copy 4 bytes at offset 2, insert "xyz", copy 2 at offset 14.
    const delta = Buffer.from([16, 9, 0x91, 2, 4, 3, 0x78, 0x79, 0x7a, 0x91, 14, 2]);
    expect(applyDelta(base, delta)?.toString()).toBe('2345xyzef');
  });

  it('a copy with no size bytes copies 64 KiB, as in git', () => {
    const large = randomBytes(70_000);
    // Base size 70,000 and target size 65,536 as base-128 varints, then one bare copy.
    const delta = Buffer.from([0xf0, 0xa2, 0x04, 0x80, 0x80, 0x04, 0x80]);
    expect(applyDelta(large, delta)?.equals(large.subarray(0, 0x10000))).toBe(true);
  });

  it('rejects a delta for another base, a copy past its end, or a short result', () => {
    expect(applyDelta(base, Buffer.from([15, 1, 1, 0x41]))).toBeUndefined();
    expect(applyDelta(base, Buffer.from([16, 4, 0x91, 14, 4]))).toBeUndefined();
    expect(applyDelta(base, Buffer.from([16, 5, 1, 0x41]))).toBeUndefined();
    expect(applyDelta(base, Buffer.from([16, 1, 0]))).toBeUndefined();
    // A target of 2^40 bytes is refused, not allocated.
    const huge = Buffer.from([16, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 1, 0x41]);
    expect(applyDelta(base, huge)).toBeUndefined();
  });
});
