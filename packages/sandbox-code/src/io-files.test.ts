import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { SandboxInputError } from './errors';
import { collectOutputs, decodeOutput, inputEntries, packArchive } from './io-files';

async function collected(files: Record<string, string>) {
  const tar = await packArchive(
    Object.entries(files).map(([name, text]) => ({
      name: `./${name}`,
      data: Buffer.from(text),
      mode: 0o644,
    })),
  );
  return collectOutputs(
    Readable.from([tar]),
    Object.fromEntries(Object.keys(files).map((n) => [n, 'string' as const])),
    '',
    1024,
  );
}

describe('decodeOutput', () => {
  it('reads each kind from file text', async () => {
    const out = await collected({
      i: ' 42\n',
      big: '9007199254740993',
      f: '2.5',
      b: 'True',
      d: '2024-01-02T03:04:05',
      j: '{"a":[1]}',
    });
    expect(decodeOutput('integer', 'i', out)).toBe(42);
    expect(decodeOutput('integer', 'big', out)).toBe(9007199254740993n);
    expect(decodeOutput('number', 'f', out)).toBe(2.5);
    expect(decodeOutput('boolean', 'b', out)).toBe(true);
    // No offset: read as UTC.
    expect(decodeOutput('datetime', 'd', out)).toEqual(new Date('2024-01-02T03:04:05Z'));
    expect(decodeOutput('json', 'j', out)).toEqual({ a: [1] });
  });

  it('says what is wrong with a value, and reports a missing one', async () => {
    const out = await collected({ i: '4.5', b: 'yes', j: '{' });
    expect(() => decodeOutput('integer', 'i', out)).toThrow('"4.5" is not an integer');
    expect(() => decodeOutput('boolean', 'b', out)).toThrow('"yes" is not true or false');
    expect(() => decodeOutput('json', 'j', out)).toThrow(/"\{" is not JSON/);
    expect(() => decodeOutput('string', 'absent', out)).toThrow('missing');
  });

  it('stops reading outputs over the cap', async () => {
    await expect(collected({ huge: 'x'.repeat(2048) })).rejects.toThrow(
      /goes over the cap of 1024 bytes/,
    );
  });

  it('counts undeclared entries against the cap too, before reading their bytes', async () => {
    const tar = await packArchive([
      { name: './answer', data: Buffer.from('42'), mode: 0o644 },
      { name: './junk', data: Buffer.alloc(4096), mode: 0o644 },
    ]);
    await expect(
      collectOutputs(Readable.from([tar]), { answer: 'integer' }, '', 1024),
    ).rejects.toThrow(/output "junk" goes over the cap of 1024 bytes/);
  });

  it('copies hard-linked files of a folder output, counting each copy against the cap', async () => {
    const hostDir = await mkdtemp(join(tmpdir(), 'sandbox-links-'));
    try {
      const tar = (size: number) => {
        const pack = tarPack();
        pack.entry({ name: 'tree/', type: 'directory', mode: 0o755 });
        pack.entry({ name: 'tree/a', mode: 0o644 }, Buffer.alloc(size, 'a'));
        pack.entry({ name: 'tree/b', type: 'link', linkname: 'tree/a', mode: 0o644 });
        pack.entry({ name: 'tree/c', type: 'link', linkname: '../etc/passwd', mode: 0o644 });
        pack.finalize();
        return pack;
      };
      const out = await collectOutputs(tar(3), { tree: 'dir' }, hostDir, 1024);
      expect(out.dirs.has('tree')).toBe(true);
      expect(await readFile(join(hostDir, 'tree', 'b'), 'utf8')).toBe('aaa');
      expect(await readdir(join(hostDir, 'tree'))).toEqual(['a', 'b']);
      // 600 bytes once fit; the linked copy makes 1200.
      await expect(collectOutputs(tar(600), { tree: 'dir' }, hostDir, 1024)).rejects.toThrow(
        /goes over the cap/,
      );
    } finally {
      await rm(hostDir, { recursive: true, force: true });
    }
  });

  it('reads a scalar output hard-linked to a file output back from the host', async () => {
    const hostDir = await mkdtemp(join(tmpdir(), 'sandbox-links-'));
    try {
      const pack = tarPack();
      pack.entry({ name: 'a', mode: 0o644 }, Buffer.from('hi\n'));
      pack.entry({ name: 'b', type: 'link', linkname: 'a', mode: 0o644 });
      pack.finalize();
      const out = await collectOutputs(pack, { a: 'file', b: 'string' }, hostDir, 1024);
      expect(decodeOutput('string', 'b', out)).toBe('hi\n');
      expect(await readFile(join(hostDir, 'a'), 'utf8')).toBe('hi\n');
    } finally {
      await rm(hostDir, { recursive: true, force: true });
    }
  });

  it('replaces what a previous run left in a reused outputDir', async () => {
    const hostDir = await mkdtemp(join(tmpdir(), 'sandbox-reuse-'));
    try {
      await mkdir(join(hostDir, 'tree'), { recursive: true });
      await writeFile(join(hostDir, 'tree', 'stale'), 'old');
      await writeFile(join(hostDir, 'unrelated'), 'kept');
      const tar = await packArchive([
        { name: 'tree/', mode: 0o755 },
        { name: 'tree/fresh', data: Buffer.from('new'), mode: 0o644 },
      ]);
      await collectOutputs(Readable.from([tar]), { tree: 'dir' }, hostDir, 1024);
      expect(await readdir(join(hostDir, 'tree'))).toEqual(['fresh']);
      expect(await readFile(join(hostDir, 'unrelated'), 'utf8')).toBe('kept');
    } finally {
      await rm(hostDir, { recursive: true, force: true });
    }
  });
});

describe('inputEntries', () => {
  it('writes values as files and leaves absent optional inputs out', async () => {
    const entries = await inputEntries(
      's',
      { s: 'string', when: 'datetime', n: 'integer', gone: 'json' },
      {
        s: 'a $(b)',
        when: new Date(0),
        n: 12n,
      },
    );
    expect(entries.map((e) => [e.name, e.data?.toString()])).toEqual([
      ['inputs/s', 'a $(b)'],
      ['inputs/when', '1970-01-01T00:00:00.000Z'],
      ['inputs/n', '12'],
    ]);
  });

  it('refuses remote files with a clear message', async () => {
    const error = await inputEntries(
      's',
      { data: 'file' },
      { data: { uri: 's3://bucket/key' } },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SandboxInputError);
    expect((error as Error).message).toMatch(
      /input "data" has uri "s3:\/\/bucket\/key", which is not on this machine/,
    );
  });
});
