// Git's metadata files are tiny: synchronous reads cost microseconds, while each thread-pool
// round trip of fs/promises costs far more on a busy machine (measured in bench/git).
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

// The status fast path needs exactly one object, HEAD's commit, to learn its tree. Reading it
// here (a loose file, or one non-delta entry of a pack found through the pack index) keeps
// isomorphic-git, its module load and its full parse of every pack index off that path;
// isomorphic-git is loaded only when trees or history must be read.

/** Git's blob id of `content`. */
export function blobId(content: Buffer | string): string {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

interface PackIndex {
  readonly pack: string;
  readonly data: Buffer;
  readonly count: number;
}

const packIndexes = new Map<string, { key: string; indexes: PackIndex[] }>();

async function loadPackIndexes(commondir: string): Promise<PackIndex[]> {
  const dir = join(commondir, 'objects', 'pack');
  let names: string[];
  let key: string;
  try {
    const info = statSync(dir);
    names = readdirSync(dir)
      .filter((name) => name.endsWith('.idx'))
      .sort();
    key = `${info.mtimeMs}:${names.join(',')}`;
  } catch {
    return [];
  }
  const cached = packIndexes.get(dir);
  if (cached?.key === key) return cached.indexes;
  const indexes: PackIndex[] = [];
  for (const name of names) {
    const data = readFileSync(join(dir, name));
    // Version 2 only ("\xfftOc" then 2); version 1 packs are left to isomorphic-git.
    if (
      data.length < 8 + 1024 ||
      data.readUInt32BE(0) !== 0xff744f63 ||
      data.readUInt32BE(4) !== 2
    ) {
      continue;
    }
    indexes.push({
      pack: join(dir, `${name.slice(0, -4)}.pack`),
      data,
      count: data.readUInt32BE(8 + 255 * 4),
    });
  }
  packIndexes.set(dir, { key, indexes });
  return indexes;
}

/** The offset of `oid` in the pack, by binary search over the index's sorted object ids. */
function findInPackIndex(index: PackIndex, oid: Buffer): number | undefined {
  const { data, count } = index;
  const first = oid[0] as number;
  let low = first === 0 ? 0 : data.readUInt32BE(8 + (first - 1) * 4);
  let high = data.readUInt32BE(8 + first * 4);
  const oids = 8 + 256 * 4;
  while (low < high) {
    const middle = (low + high) >>> 1;
    // Negative when the entry at `middle` sorts before `oid`.
    const order = data.compare(oid, 0, 20, oids + middle * 20, oids + middle * 20 + 20);
    if (order === 0) {
      const offsets = oids + count * 20 + count * 4;
      const offset = data.readUInt32BE(offsets + middle * 4);
      if (offset & 0x80000000) {
        const large = offsets + count * 4 + (offset & 0x7fffffff) * 8;
        return Number(data.readBigUInt64BE(large));
      }
      return offset;
    }
    if (order > 0) high = middle;
    else low = middle + 1;
  }
  return undefined;
}

const OBJECT_COMMIT = 1;

async function readPackedCommit(pack: string, offset: number): Promise<Buffer | undefined> {
  const descriptor = openSync(pack, 'r');
  try {
    // A commit is small; 64 KiB holds the entry header and its compressed body in practice.
    const chunk = Buffer.alloc(65_536);
    const bytesRead = readSync(descriptor, chunk, 0, chunk.length, offset);
    let byte = chunk[0] as number;
    const type = (byte >> 4) & 7;
    let position = 1;
    while (byte & 0x80 && position < bytesRead) byte = chunk[position++] as number;
    // Deltified commits (rare) are left to isomorphic-git.
    if (type !== OBJECT_COMMIT) return undefined;
    return inflateSync(chunk.subarray(position, bytesRead));
  } catch {
    return undefined;
  } finally {
    closeSync(descriptor);
  }
}

/**
 * The tree id of a commit, read from the object store without isomorphic-git, or undefined when
 * the object is somewhere this reader does not look (a deltified entry, an alternate store, a
 * version 1 pack index): the caller then asks isomorphic-git.
 */
export async function readCommitTreeFast(
  commondir: string,
  oid: string,
): Promise<string | undefined> {
  let body: Buffer | undefined;
  try {
    body = inflateSync(readFileSync(join(commondir, 'objects', oid.slice(0, 2), oid.slice(2))));
    const nul = body.indexOf(0);
    if (!body.subarray(0, nul).toString('latin1').startsWith('commit ')) return undefined;
    body = body.subarray(nul + 1);
  } catch {
    body = undefined;
    const wanted = Buffer.from(oid, 'hex');
    for (const index of await loadPackIndexes(commondir)) {
      const offset = findInPackIndex(index, wanted);
      if (offset !== undefined) {
        body = await readPackedCommit(index.pack, offset);
        break;
      }
    }
  }
  const match = body ? /^tree ([0-9a-f]{40})\n/.exec(body.toString('latin1', 0, 64)) : null;
  return match?.[1];
}
