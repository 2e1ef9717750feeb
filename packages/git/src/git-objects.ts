// Git's metadata files are tiny: synchronous reads cost microseconds, while each thread-pool
// round trip of fs/promises costs far more on a busy machine (measured in bench/git).
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';

// The objects a status check needs (HEAD's commit, and HEAD's trees along a staged change) are read
// here: a loose file, or a pack entry found through the pack index, deltas applied. That keeps
// isomorphic-git, its module load and its parse of whole packs off those paths; anything this reader
// does not handle (a version 1 pack index, an entry over 64 MiB, a delta chain deeper than 100, a
// damaged entry) is left to isomorphic-git by returning undefined. Alternate object stores are read
// here: isomorphic-git does not read them.

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

async function loadPackIndexes(objects: string): Promise<PackIndex[]> {
  const dir = join(objects, 'pack');
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

/** A git object's type and content (without the "<type> <size>\0" header). */
export interface GitObject {
  readonly type: 'commit' | 'tree' | 'blob' | 'tag';
  readonly content: Buffer;
}

/** Pack entry types 1 to 4; 6 and 7 are deltas against another object. */
const PACKED_TYPES = [undefined, 'commit', 'tree', 'blob', 'tag'] as const;
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** Longer delta chains than git writes (50 by default) are left to isomorphic-git. */
const MAX_DELTA_DEPTH = 100;
/**
 * Larger entries are left to isomorphic-git: commits and trees are far smaller (a tree of 100,000
 * files is about 4 MiB), and this bounds what one read may allocate.
 */
const MAX_ENTRY_SIZE = 64 * 1024 * 1024;
/** Inflating stops (with a throw, answered by undefined) past that size and a header. */
const INFLATE_LIMIT = { maxOutputLength: MAX_ENTRY_SIZE + 64 };

/** Reads `length` bytes of `pack` at `position` (fewer at the end of the file). */
function readAt(descriptor: number, position: number, length: number): Buffer {
  const chunk = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const read = readSync(descriptor, chunk, filled, length - filled, position + filled);
    if (read === 0) break;
    filled += read;
  }
  return chunk.subarray(0, filled);
}

/**
 * The entry of `pack` at `offset`, deltas resolved: its type and content, or undefined when the
 * entry cannot be read here.
 */
async function readPackedObject(
  stores: readonly ObjectStore[],
  descriptor: number,
  offset: number,
  depth: number,
): Promise<GitObject | undefined> {
  if (depth > MAX_DELTA_DEPTH) return undefined;
  // Header: type and size (little-endian base-128), then for deltas where the base is.
  const header = readAt(descriptor, offset, 32);
  let byte = header[0] as number;
  const type = (byte >> 4) & 7;
  let size = byte & 15;
  let position = 1;
  for (let shift = 4; byte & 0x80; shift += 7) {
    if (position >= header.length) return undefined;
    byte = header[position++] as number;
    size += (byte & 0x7f) * 2 ** shift;
  }
  if (size > MAX_ENTRY_SIZE) return undefined;
  let base: GitObject | undefined;
  if (type === OFS_DELTA) {
    // The base's distance back, in git's own variant of base-128 (each continuation adds one).
    byte = header[position++] as number;
    let distance = byte & 0x7f;
    while (byte & 0x80) {
      if (position >= header.length) return undefined;
      byte = header[position++] as number;
      distance = (distance + 1) * 128 + (byte & 0x7f);
    }
    base = await readPackedObject(stores, descriptor, offset - distance, depth + 1);
  } else if (type === REF_DELTA) {
    base = await readObjectAt(stores, header.toString('hex', position, position + 20), depth + 1);
    position += 20;
  } else if (PACKED_TYPES[type] === undefined) {
    return undefined;
  }
  // Deflate adds at most 5 bytes per 16 KiB block and a few bytes of framing: this many bytes hold
  // the whole compressed entry, and inflate stops at its end.
  const compressed = readAt(descriptor, offset + position, size + Math.ceil(size / 1000) + 64);
  const data = inflateSync(compressed, INFLATE_LIMIT);
  if (data.length !== size) return undefined;
  if (type !== OFS_DELTA && type !== REF_DELTA) {
    return { type: PACKED_TYPES[type] as GitObject['type'], content: data };
  }
  if (!base) return undefined;
  const content = applyDelta(base.content, data);
  return content && { type: base.type, content };
}

/**
 * `base` with git's delta `delta` applied (`patch-delta.c`): two sizes, then instructions that
 * copy a range of the base or insert literal bytes. Undefined when the delta does not fit the base,
 * or its result would be larger than 64 MiB.
 */
export function applyDelta(base: Buffer, delta: Buffer): Buffer | undefined {
  let position = 0;
  const varint = (): number => {
    let value = 0;
    let byte: number;
    let shift = 0;
    do {
      byte = delta[position++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80 && position < delta.length);
    return value;
  };
  if (varint() !== base.length) return undefined;
  const targetSize = varint();
  if (targetSize > MAX_ENTRY_SIZE) return undefined;
  const target = Buffer.allocUnsafe(targetSize);
  let written = 0;
  while (position < delta.length) {
    const instruction = delta[position++] as number;
    if (instruction & 0x80) {
      // Copy: which of 4 offset bytes and 3 size bytes follow is in the low 7 bits.
      let from = 0;
      let length = 0;
      for (let bit = 0; bit < 4; bit++) {
        if (instruction & (1 << bit)) from += (delta[position++] as number) * 2 ** (8 * bit);
      }
      for (let bit = 0; bit < 3; bit++) {
        if (instruction & (16 << bit)) length += (delta[position++] as number) * 2 ** (8 * bit);
      }
      if (length === 0) length = 0x10000;
      if (from + length > base.length || written + length > target.length) return undefined;
      base.copy(target, written, from, from + length);
      written += length;
    } else if (instruction !== 0) {
      // Insert the next `instruction` bytes.
      if (position + instruction > delta.length || written + instruction > target.length) {
        return undefined;
      }
      delta.copy(target, written, position, position + instruction);
      written += instruction;
      position += instruction;
    } else {
      return undefined;
    }
  }
  return written === target.length ? target : undefined;
}

/** More object directories than this (alternates of alternates...) are not followed. */
const MAX_OBJECT_DIRECTORIES = 16;

/**
 * The directories objects are looked for in: the repository's own, then the ones its
 * `objects/info/alternates` lists (as `git clone --shared` or `--reference` write it), and theirs,
 * each once. Relative entries are relative to the listing directory, as in git.
 */
function objectDirectories(commondir: string): string[] {
  const directories = [join(commondir, 'objects')];
  for (let k = 0; k < directories.length; k++) {
    const directory = directories[k] as string;
    let listing: string;
    try {
      listing = readFileSync(join(directory, 'info', 'alternates'), 'utf8');
    } catch {
      continue;
    }
    for (const line of listing.split('\n')) {
      const entry = line.trim();
      if (entry === '' || entry.startsWith('#')) continue;
      const alternate = resolve(directory, entry);
      if (!directories.includes(alternate) && directories.length < MAX_OBJECT_DIRECTORIES) {
        directories.push(alternate);
      }
    }
  }
  return directories;
}

/** One object directory, and its pack indexes once asked for. */
interface ObjectStore {
  readonly objects: string;
  packs(): Promise<PackIndex[]>;
}

/**
 * The repository's object directories (its own and its alternates) for one read: the alternates
 * list is read once, and each directory's pack indexes once, however long the delta chain.
 */
function objectStores(commondir: string): ObjectStore[] {
  return objectDirectories(commondir).map((objects) => {
    let packs: Promise<PackIndex[]> | undefined;
    return {
      objects,
      packs: () => {
        packs ??= loadPackIndexes(objects);
        return packs;
      },
    };
  });
}

async function readObjectAt(
  stores: readonly ObjectStore[],
  oid: string,
  depth: number,
): Promise<GitObject | undefined> {
  let loose: Buffer | undefined;
  for (const { objects } of stores) {
    try {
      loose = readFileSync(join(objects, oid.slice(0, 2), oid.slice(2)));
      break;
    } catch {
      loose = undefined;
    }
  }
  if (loose) {
    const data = inflateSync(loose, INFLATE_LIMIT);
    const nul = data.indexOf(0);
    const [type, size] = data.toString('latin1', 0, nul).split(' ');
    const content = data.subarray(nul + 1);
    if (!PACKED_TYPES.includes(type as GitObject['type']) || Number(size) !== content.length) {
      return undefined;
    }
    return { type: type as GitObject['type'], content };
  }
  const wanted = Buffer.from(oid, 'hex');
  for (const store of stores) {
    for (const index of await store.packs()) {
      const offset = findInPackIndex(index, wanted);
      if (offset === undefined) continue;
      const descriptor = openSync(index.pack, 'r');
      try {
        return await readPackedObject(stores, descriptor, offset, depth);
      } finally {
        closeSync(descriptor);
      }
    }
  }
  return undefined;
}

/**
 * Object `oid` from the repository's object store and its alternates (loose, or packed with
 * deltas), checked against its id; undefined when it is not found there or anything about it is
 * off (a version 1 pack index, an entry too large, damage), so that the caller can ask
 * isomorphic-git. Never throws.
 */
export async function readObjectFast(
  commondir: string,
  oid: string,
): Promise<GitObject | undefined> {
  try {
    const object = await readObjectAt(objectStores(commondir), oid, 0);
    if (!object) return undefined;
    const id = createHash('sha1')
      .update(`${object.type} ${object.content.length}\0`)
      .update(object.content)
      .digest('hex');
    return id === oid ? object : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The tree id of a commit, read from the object store without isomorphic-git, or undefined when
 * {@link readObjectFast} cannot read it: the caller then asks isomorphic-git.
 */
export async function readCommitTreeFast(
  commondir: string,
  oid: string,
): Promise<string | undefined> {
  const commit = await readObjectFast(commondir, oid);
  if (commit?.type !== 'commit') return undefined;
  return /^tree ([0-9a-f]{40})\n/.exec(commit.content.toString('latin1', 0, 64))?.[1];
}
