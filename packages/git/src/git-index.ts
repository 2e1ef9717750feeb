import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { GitError } from './errors';
import { milliseconds } from './fast-lstat';

const FLAG_STAGE = 0x3;
const FLAG_ASSUME_VALID = 0x4;
const FLAG_SKIP_WORKTREE = 0x8;
const FLAG_INTENT_TO_ADD = 0x10;

/**
 * Where the stat data git recorded sits in an entry, as byte offsets from the entry's start
 * ({@link GitIndex.entryOffsets}); each field is a big-endian 32-bit number, read through
 * {@link GitIndex.view}.
 */
export const EntryField = {
  ctimeSeconds: 0,
  ctimeNanoseconds: 4,
  mtimeSeconds: 8,
  mtimeNanoseconds: 12,
  ino: 20,
  /** Not stat data, but read the same way: the entry's mode. */
  mode: 24,
  uid: 28,
  gid: 32,
  /** The file size truncated to 32 bits. */
  size: 36,
} as const;

/** Where an entry's object id starts, from the entry's start. */
const OID_OFFSET = 40;

/** The type bits of a mode, as git stores them in index entries and as `lstat` reports them. */
export const MODE_TYPE_MASK = 0o170000;
/** A regular file (the type bits). */
export const MODE_FILE = 0o100000;
/** The mode git records for a regular, non-executable file. */
export const MODE_REGULAR = 0o100644;
/** The mode git records for an executable file. */
export const MODE_EXECUTABLE = 0o100755;
/** A symbolic link. */
export const MODE_SYMLINK = 0o120000;
/** A gitlink: a submodule's commit. */
export const MODE_GITLINK = 0o160000;
/** A directory (a tree). */
export const MODE_TREE = 0o040000;

/**
 * Entry paths as the index holds them, bytes rather than strings: entry `i`'s path is
 * `bytes[starts[i]..ends[i])`. For versions 2 and 3 `bytes` is the index file itself; version 4
 * stores each path as a change to the previous one, so its paths are spelled out once, one after
 * another, in a buffer of their own.
 */
export interface PathBytes {
  readonly bytes: Buffer;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
}

/** What {@link parseGitIndex} finds in an index file. */
export interface GitIndexFields {
  /** Index format version (2, 3 or 4). */
  readonly version: number;
  /** The raw file: stat data and object ids are read from it where they are. */
  readonly data: Buffer;
  /** The number of entries. */
  readonly count: number;
  /** Where each entry starts in `data`. */
  readonly entryOffsets: Uint32Array;
  /** Every entry's path as bytes: where each one starts and ends in `bytes`. */
  readonly pathBytes: PathBytes;
  /** Every entry's mode. */
  readonly modes: Uint32Array;
  /** Every entry's stage and flag bits. */
  readonly flags: Uint8Array;
  /** The first entry that is unmerged or intent-to-add, or -1 when there is none. */
  readonly firstUnmergedOrIntentToAdd: number;
  /** The cache-tree extension's bytes, when present. */
  readonly cacheTreeData: Buffer | undefined;
  /** The untracked-cache extension's bytes (UNTR), when present. */
  readonly untrackedCacheData: Buffer | undefined;
  /** The index file's own mtime. */
  readonly mtime: { readonly seconds: number; readonly nanoseconds: number };
}

/** Buffer's undocumented decoder that `toString('utf8', start, end)` ends in. */
type Utf8Slicing = Buffer & { utf8Slice(start: number, end: number): string };

/**
 * UTF-8 text of `data[start..end)`. Buffer's own decoder, called without `toString`'s argument
 * handling when this Node has it (every version so far): in a process that has not warmed up,
 * that is measurably cheaper for 20,000 short paths than `toString`, or than slicing one latin1
 * decoding of the whole file after checking each path for non-ASCII bytes.
 */
const decodeUtf8: (data: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as Partial<Utf8Slicing>).utf8Slice === 'function'
    ? (data, start, end) => (data as Utf8Slicing).utf8Slice(start, end)
    : (data, start, end) => data.toString('utf8', start, end);

/** A directory of the index, as {@link GitIndex.trees} gives it. */
export interface IndexTree {
  /** The id of the tree object the directory would be written as. */
  readonly oid: string;
  /** How many entries of the index are under the directory (they sort together). */
  readonly entries: number;
}

/** A node of the index's cache-tree extension (TREE). */
interface CacheTreeNode {
  /** Entries under this directory, or -1 when git has invalidated it. */
  readonly entryCount: number;
  /** The tree id, when valid. */
  readonly oid: string | undefined;
  readonly children: ReadonlyMap<string, CacheTreeNode>;
  /** Whether this node and every node under it are valid. */
  readonly fullyValid: boolean;
}

/**
 * The cache-tree extension's nodes: each is its path component, NUL, "<entry count> <subtree
 * count>\n", the tree id when the count is not -1, then its subtrees. Undefined when malformed.
 */
function parseCacheTree(data: Buffer): CacheTreeNode | undefined {
  let position = 0;
  const node = (): [string, CacheTreeNode] => {
    const nul = data.indexOf(0, position);
    const newline = nul < 0 ? -1 : data.indexOf(10, nul + 1);
    if (newline < 0) throw new RangeError('truncated');
    // Byte strings, as the index's paths in GitIndex.trees.
    const name = data.toString('latin1', position, nul);
    const match = /^(-1|\d+) (\d+)$/.exec(data.toString('latin1', nul + 1, newline));
    if (!match) throw new RangeError('malformed');
    const entryCount = Number(match[1]);
    position = newline + 1;
    let oid: string | undefined;
    if (entryCount >= 0) {
      if (position + 20 > data.length) throw new RangeError('truncated');
      oid = data.toString('hex', position, position + 20);
      position += 20;
    }
    const children = new Map<string, CacheTreeNode>();
    let fullyValid = entryCount >= 0;
    for (let k = Number(match[2]); k > 0; k--) {
      const [childName, child] = node();
      children.set(childName, child);
      fullyValid &&= child.fullyValid;
    }
    return [name, { entryCount, oid, children, fullyValid }];
  };
  try {
    return node()[1];
  } catch {
    // Malformed, or nested deeper than the stack: hashed from the entries instead.
    return undefined;
  }
}

/**
 * A parsed index file, kept compact: paths as bytes, per-entry offsets and modes in typed arrays,
 * and stat data left in the file's bytes (read through {@link GitIndex.view}), so that parsing
 * tens of thousands of entries allocates little and leaves the garbage collector alone. Paths
 * are decoded to strings only when asked for: a clean-tree check never needs them.
 */
export class GitIndex {
  readonly version: number;
  /** The number of entries. */
  readonly count: number;
  readonly modes: Uint32Array;
  readonly flags: Uint8Array;
  /** Where each entry starts in the file; add an {@link EntryField} offset to read its stat data. */
  readonly entryOffsets: Uint32Array;
  /** Every entry's path as bytes (no decoding, so names that are not UTF-8 stay exact). */
  readonly pathBytes: PathBytes;
  /** The file's bytes. */
  readonly data: Buffer;
  /** A view of {@link GitIndex.data} for reading its big-endian numbers. */
  readonly view: DataView;
  /** The first entry that is unmerged or intent-to-add, or -1 when there is none. */
  readonly firstUnmergedOrIntentToAdd: number;
  readonly mtime: { readonly seconds: number; readonly nanoseconds: number };
  /** The untracked-cache extension's bytes (UNTR), when git wrote one. */
  readonly untrackedCacheData: Buffer | undefined;
  readonly #cacheTreeData: Buffer | undefined;
  #trees: Map<string, IndexTree> | undefined;
  #treesHashed = 0;

  constructor(fields: GitIndexFields) {
    this.version = fields.version;
    this.data = fields.data;
    this.view = new DataView(fields.data.buffer, fields.data.byteOffset, fields.data.byteLength);
    this.count = fields.count;
    this.entryOffsets = fields.entryOffsets;
    this.pathBytes = fields.pathBytes;
    this.modes = fields.modes;
    this.flags = fields.flags;
    this.firstUnmergedOrIntentToAdd = fields.firstUnmergedOrIntentToAdd;
    this.#cacheTreeData = fields.cacheTreeData;
    this.untrackedCacheData = fields.untrackedCacheData;
    this.mtime = fields.mtime;
  }

  /** Entry `i`'s path, decoded from its bytes (a name that is not valid UTF-8 gets U+FFFD). */
  path(i: number): string {
    const { bytes, starts, ends } = this.pathBytes;
    return decodeUtf8(bytes, starts[i] as number, ends[i] as number);
  }

  /**
   * Entry `i`'s path as a byte string: one character per byte (latin1), so that every name is
   * exact, even one that is not valid UTF-8, and strings compare in git's byte order.
   */
  bytePath(i: number): string {
    const { bytes, starts, ends } = this.pathBytes;
    return bytes.toString('latin1', starts[i] as number, ends[i] as number);
  }

  /** Stat field `field` (an {@link EntryField} offset) of entry `i`. */
  statField(i: number, field: number): number {
    return this.view.getUint32((this.entryOffsets[i] as number) + field);
  }

  /** Entry `i`'s mtime in milliseconds, computed the way Node computes `Stats.mtimeMs`. */
  mtimeMs(i: number): number {
    const offset = this.entryOffsets[i] as number;
    return milliseconds(
      this.view.getUint32(offset + EntryField.mtimeSeconds),
      this.view.getUint32(offset + EntryField.mtimeNanoseconds),
    );
  }

  /** Entry `i`'s ctime in milliseconds, computed the way Node computes `Stats.ctimeMs`. */
  ctimeMs(i: number): number {
    const offset = this.entryOffsets[i] as number;
    return milliseconds(
      this.view.getUint32(offset + EntryField.ctimeSeconds),
      this.view.getUint32(offset + EntryField.ctimeNanoseconds),
    );
  }

  /** Whether the index has a cache-tree extension (git writes one; some other tools do not). */
  get hasCacheTree(): boolean {
    return this.#cacheTreeData !== undefined;
  }

  /** The tree id the whole index would be written as, when the cache tree knows it. */
  get cacheTreeRootOid(): string | undefined {
    const data = this.#cacheTreeData;
    if (!data) return undefined;
    // Root node: "" NUL, "<entries> <subtrees>\n", then the id when <entries> is not -1.
    const lineEnd = data.indexOf(10);
    if (data[0] !== 0 || lineEnd < 0 || data[1] === 0x2d || lineEnd + 21 > data.length) {
      return undefined;
    }
    return data.toString('hex', lineEnd + 1, lineEnd + 21);
  }

  /**
   * The trees of the index, keyed by directory prefix as a byte string (see
   * {@link GitIndex.bytePath}: `''` for the root, `'src/'`, `'src/lib/'`): the id of the tree
   * object each directory would be written as (as `git write-tree` would write it) and how many
   * entries it spans. It compares the index with HEAD without reading HEAD's trees. Directories
   * the cache tree still vouches for are taken from it, as git does; the others are hashed from
   * their entries' bytes. Stage-0 entries only; computed once per parsed index.
   */
  trees(): ReadonlyMap<string, IndexTree> {
    if (this.#trees) return this.#trees;
    const trees = new Map<string, IndexTree>();
    const { modes, data, entryOffsets, count } = this;
    const cacheTree = this.#cacheTreeData && parseCacheTree(this.#cacheTreeData);
    // One path at a time; a directory's first entry is asked for twice in a row.
    let decoded = -1;
    let decodedPath = '';
    const pathAt = (i: number): string => {
      if (i !== decoded) {
        decoded = i;
        decodedPath = this.bytePath(i);
      }
      return decodedPath;
    };
    const startsWith = (i: number, prefix: string): boolean =>
      i < count && pathAt(i).startsWith(prefix);
    // Takes a whole directory from the cache tree when every node under it is valid and its entry
    // count lands on the directory's last entry.
    const fromCacheTree = (prefix: string, node: CacheTreeNode, start: number): boolean => {
      const end = start + node.entryCount;
      const fits =
        node.fullyValid &&
        end <= count &&
        (prefix === ''
          ? end === count
          : node.entryCount > 0 &&
            startsWith(start, prefix) &&
            startsWith(end - 1, prefix) &&
            !startsWith(end, prefix));
      if (!fits) return false;
      const add = (path: string, at: CacheTreeNode): void => {
        trees.set(path, { oid: at.oid as string, entries: at.entryCount });
        for (const [name, child] of at.children) add(`${path}${name}/`, child);
      };
      add(prefix, node);
      return true;
    };
    let i = 0;
    const build = (prefix: string, node: CacheTreeNode | undefined): Buffer => {
      const start = i;
      if (node && fromCacheTree(prefix, node, start)) {
        i = start + node.entryCount;
        return Buffer.from(node.oid as string, 'hex');
      }
      // One tree object: "<mode> <name>\0<20-byte id>" per child, in index order (which is git's
      // tree order), written into a single buffer to keep allocations per tree, not per entry.
      const names: string[] = [];
      const modeTexts: string[] = [];
      const ids: (number | Buffer)[] = [];
      while (startsWith(i, prefix)) {
        if (this.stage(i) !== 0) {
          i++;
          continue;
        }
        const rest = pathAt(i).slice(prefix.length);
        const slash = rest.indexOf('/');
        // A sparse-index directory entry ("dir/", mode 040000) is a tree already.
        if (slash < 0 || slash === rest.length - 1) {
          const name = slash < 0 ? rest : rest.slice(0, -1);
          if (slash >= 0) trees.set(`${prefix}${rest}`, { oid: this.oid(i), entries: 1 });
          names.push(name);
          modeTexts.push(modeText(modes[i] as number));
          ids.push((entryOffsets[i] as number) + OID_OFFSET);
          i++;
        } else {
          const name = rest.slice(0, slash);
          const id = build(`${prefix}${name}/`, node?.children.get(name));
          names.push(name);
          modeTexts.push(modeText(MODE_TREE));
          ids.push(id);
        }
      }
      let size = 0;
      for (let k = 0; k < names.length; k++) {
        size += (modeTexts[k] as string).length + (names[k] as string).length + 22;
      }
      const header = `tree ${size}\0`;
      const object = Buffer.allocUnsafe(header.length + size);
      let at = object.write(header, 0, 'latin1');
      for (let k = 0; k < names.length; k++) {
        at += object.write(modeTexts[k] as string, at, 'latin1');
        object[at++] = 0x20;
        at += object.write(names[k] as string, at, 'latin1');
        object[at++] = 0;
        const id = ids[k] as number | Buffer;
        if (typeof id === 'number') data.copy(object, at, id, id + 20);
        else id.copy(object, at);
        at += 20;
      }
      const oid = createHash('sha1').update(object).digest();
      this.#treesHashed += 1;
      trees.set(prefix, { oid: oid.toString('hex'), entries: i - start });
      return oid;
    };
    build('', cacheTree);
    this.#trees = trees;
    return trees;
  }

  /** How many tree objects {@link GitIndex.trees} hashed from entries (0 before it is called). */
  get treesHashed(): number {
    return this.#treesHashed;
  }

  /** The object id of entry `i`. */
  oid(i: number): string {
    const offset = (this.entryOffsets[i] as number) + OID_OFFSET;
    return this.data.toString('hex', offset, offset + 20);
  }

  /** The merge stage of entry `i` (0 normally). */
  stage(i: number): number {
    return (this.flags[i] as number) & FLAG_STAGE;
  }

  /**
   * Whether entry `i` is a conflict stage, or has a worktree file that is not compared
   * (assume-valid, skip-worktree).
   */
  isUnmergedOrNotCompared(i: number): boolean {
    return (
      ((this.flags[i] as number) & (FLAG_STAGE | FLAG_ASSUME_VALID | FLAG_SKIP_WORKTREE)) !== 0
    );
  }

  /** Whether entry `i` was added with `git add -N` (intent to add). */
  isIntentToAdd(i: number): boolean {
    return ((this.flags[i] as number) & FLAG_INTENT_TO_ADD) !== 0;
  }

  /**
   * The position of the stage-0 entry for `path` (or its first conflict stage), or undefined: a
   * binary search of the entries, which git keeps sorted by their paths' bytes, then by stage.
   */
  position(path: string): number | undefined {
    const target = Buffer.from(path);
    const { bytes, starts, ends } = this.pathBytes;
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = bytes.compare(target, 0, target.length, starts[middle], ends[middle]);
      if (order < 0) low = middle + 1;
      else high = middle;
    }
    if (low === this.count) return undefined;
    return bytes.compare(target, 0, target.length, starts[low], ends[low]) === 0 ? low : undefined;
  }
}

const MODE_TEXTS = new Map<number, string>();

/** A mode as git writes it in tree objects: octal, no leading zeros. */
function modeText(mode: number): string {
  let text = MODE_TEXTS.get(mode);
  if (text === undefined) {
    text = mode.toString(8);
    MODE_TEXTS.set(mode, text);
  }
  return text;
}

const cache = new Map<string, { key: string; index: GitIndex }>();

// An index with no entries: what a repository has before anything is added.
const EMPTY_INDEX = (() => {
  const header = Buffer.from('DIRC\0\0\0\x02\0\0\0\0', 'latin1');
  return Buffer.concat([header, createHash('sha1').update(header).digest()]);
})();

/**
 * Reads and parses `<gitdir>/index` (versions 2, 3 and 4), verifying its checksum. The result is
 * cached per process, keyed by the file's mtime, size and inode, so repeated status checks parse
 * it once. A missing index (a repository with nothing added yet) is an empty index.
 *
 * @throws GitError `corrupt_index` when the file cannot be parsed or its checksum is wrong.
 */
export async function readGitIndex(gitdir: string): Promise<GitIndex> {
  const file = join(gitdir, 'index');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') {
      return parseGitIndex(file, EMPTY_INDEX, { seconds: 0, nanoseconds: 0 });
    }
    throw error;
  }
  try {
    // Synchronous: one stat and one sequential read (about 1.8 MB for 20,000 files); a
    // thread-pool round trip costs more than that on a loaded machine. The stat is of the opened
    // file, so the cache key is the key of the bytes read even when git replaces the index.
    const info = fstatSync(fd, { bigint: true });
    const key = `${info.mtimeNs}:${info.size}:${info.ino}`;
    const cached = cache.get(file);
    if (cached?.key === key) return cached.index;
    const data = Buffer.allocUnsafe(Number(info.size));
    let length = 0;
    while (length < data.length) {
      const read = readSync(fd, data, length, data.length - length, length);
      if (read === 0) break;
      length += read;
    }
    const index = parseGitIndex(file, data.subarray(0, length), {
      seconds: Number(info.mtimeNs / 1_000_000_000n),
      nanoseconds: Number(info.mtimeNs % 1_000_000_000n),
    });
    cache.set(file, { key, index });
    return index;
  } finally {
    closeSync(fd);
  }
}

function corrupt(file: string, problem: string, cause?: unknown): GitError {
  return new GitError(
    'corrupt_index',
    `The git index ${file} is corrupt: ${problem}. Rebuild it with \`rm "${file}" && git reset\` (this keeps your working files).`,
    { details: { path: file, problem }, ...(cause === undefined ? {} : { cause }) },
  );
}

/** Parses index bytes. Exposed for tests; use {@link readGitIndex}. */
export function parseGitIndex(
  file: string,
  data: Buffer,
  mtime: { seconds: number; nanoseconds: number },
): GitIndex {
  if (data.length < 32 || data.toString('latin1', 0, 4) !== 'DIRC') {
    throw corrupt(file, 'it does not start with the "DIRC" signature');
  }
  const version = data.readUInt32BE(4);
  if (version < 2 || version > 4) throw corrupt(file, `it has unknown version ${version}`);
  const body = data.length - 20;
  const checksum = data.subarray(body);
  // index.skipHash writes zeros instead of the checksum.
  if (checksum.some((byte) => byte !== 0)) {
    const actual = createHash('sha1').update(data.subarray(0, body)).digest();
    if (!actual.equals(checksum)) throw corrupt(file, 'its checksum does not match its content');
  }
  const count = data.readUInt32BE(8);
  // Each entry takes at least 62 bytes: a count beyond that is corrupt, not an allocation.
  if (count * 62 > body - 12) {
    throw corrupt(file, `it claims ${count} entries, more than its ${data.length} bytes can hold`);
  }
  const modes = new Uint32Array(count);
  const flagBits = new Uint8Array(count);
  const entryOffsets = new Uint32Array(count);
  const pathStarts = new Uint32Array(count);
  const pathEnds = new Uint32Array(count);
  // Version 4's paths, spelled out whole: each keeps a prefix of the one before it, copied within
  // this buffer.
  // A first guess at their size: four times the bytes after the header that are not entries'
  // fixed fields (the compressed paths, but also varints, extended flags and extensions). The
  // buffer grows when a path does not fit.
  let spelled =
    version === 4 ? Buffer.allocUnsafe(Math.max(4096, 4 * (body - 12 - 62 * count))) : data;
  let spelledEnd = 0;
  let firstUnmergedOrIntentToAdd = -1;
  let offset = 12;
  // Fixed-width fields through a DataView (a builtin, cheaper than Buffer's JS readers in a
  // process that has not warmed up): this loop runs once per tracked file.
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  try {
    for (let i = 0; i < count; i++) {
      const start = offset;
      if (start + 62 > body) throw new RangeError('entry past the end');
      // Stat data and the object id stay in `data`: only where the entry starts is kept.
      entryOffsets[i] = offset;
      modes[i] = view.getUint32(offset + EntryField.mode);
      const flags = view.getUint16(offset + 60);
      offset += 62;
      let extended = 0;
      if (flags & 0x4000) {
        if (version < 3) throw new Error(`entry ${i} has extended flags in a version 2 index`);
        extended = view.getUint16(offset);
        offset += 2;
      }
      const entryFlags =
        ((flags >> 12) & FLAG_STAGE) |
        (flags & 0x8000 ? FLAG_ASSUME_VALID : 0) |
        (extended & 0x4000 ? FLAG_SKIP_WORKTREE : 0) |
        (extended & 0x2000 ? FLAG_INTENT_TO_ADD : 0);
      flagBits[i] = entryFlags;
      if (firstUnmergedOrIntentToAdd < 0 && entryFlags & (FLAG_STAGE | FLAG_INTENT_TO_ADD)) {
        firstUnmergedOrIntentToAdd = i;
      }
      if (version === 4) {
        // Prefix compression: drop N bytes from the previous path, then a NUL-terminated suffix.
        let drop = 0;
        let byte: number;
        let first = true;
        do {
          if (offset >= body) throw new RangeError('entry past the end');
          byte = data[offset++] as number;
          // Arithmetic, not shifts: a corrupt count must not wrap around to a small one.
          drop = (first ? 0 : (drop + 1) * 128) + (byte & 0x7f);
          first = false;
        } while (byte & 0x80);
        // As git, the first entry's count is ignored: there is nothing before it to drop from.
        const previousStart = i > 0 ? (pathStarts[i - 1] as number) : 0;
        const previousLength = i > 0 ? (pathEnds[i - 1] as number) - previousStart : 0;
        if (i > 0 && drop > previousLength) {
          throw new Error(`entry ${i} removes more than the previous path`);
        }
        const kept = i > 0 ? previousLength - drop : 0;
        // The flags hold the whole path's length here too (below 0xfff), so the suffix's end is
        // known without a search; the NUL must be there.
        const wholeLength = flags & 0xfff;
        const end =
          wholeLength < 0xfff && wholeLength >= kept && data[offset + wholeLength - kept] === 0
            ? offset + wholeLength - kept
            : data.indexOf(0, offset);
        if (end < 0 || end > body) throw new Error(`entry ${i} has an unterminated path`);
        const length = kept + end - offset;
        if (spelledEnd + length > spelled.length) {
          const larger = Buffer.allocUnsafe(2 * (spelled.length + length));
          spelled.copy(larger, 0, 0, spelledEnd);
          spelled = larger;
        }
        spelled.copyWithin(spelledEnd, previousStart, previousStart + kept);
        // A suffix is usually a file name: a loop copies it cheaper than Buffer#copy's call.
        for (let from = offset, to = spelledEnd + kept; from < end; from++, to++) {
          spelled[to] = data[from] as number;
        }
        pathStarts[i] = spelledEnd;
        pathEnds[i] = spelledEnd + length;
        spelledEnd += length;
        offset = end + 1;
      } else {
        // The low 12 bits of the flags hold the path length, or 0xfff when it is longer.
        const length = flags & 0xfff;
        const end =
          length < 0xfff && data[offset + length] === 0 ? offset + length : data.indexOf(0, offset);
        if (end < 0 || end > body) throw new Error(`entry ${i} has an unterminated path`);
        pathStarts[i] = offset;
        pathEnds[i] = end;
        // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
        offset = start + ((end - start + 8) & ~7);
      }
      if (offset > body) throw new Error(`entry ${i} runs past the end of the entries`);
      if (pathEnds[i] === pathStarts[i]) throw new Error(`entry ${i} has an empty path`);
    }
  } catch (error) {
    if (GitError.isInstance(error)) throw error;
    throw corrupt(
      file,
      error instanceof RangeError
        ? 'it ends in the middle of an entry'
        : String((error as Error).message),
      error,
    );
  }
  let cacheTreeData: Buffer | undefined;
  let untrackedCacheData: Buffer | undefined;
  while (offset + 8 <= body) {
    const signature = data.toString('latin1', offset, offset + 4);
    const length = data.readUInt32BE(offset + 4);
    const start = offset + 8;
    if (start + length > body)
      throw corrupt(file, `extension ${signature} runs past the end of the file`);
    if (signature === 'TREE') {
      cacheTreeData = data.subarray(start, start + length);
    } else if (signature === 'UNTR') {
      untrackedCacheData = data.subarray(start, start + length);
    } else if (signature === 'link') {
      throw new GitError(
        'unsupported_index',
        `The git index ${file} is a split index (core.splitIndex), which @flyte/git does not read; turn it off with \`git config core.splitIndex false && git update-index --no-split-index\`.`,
        { details: { path: file } },
      );
    }
    offset = start + length;
  }
  return new GitIndex({
    version,
    data,
    count,
    entryOffsets,
    pathBytes: {
      // The cached index keeps this buffer: version 4's is cut to what its paths use.
      bytes: version === 4 ? Buffer.from(spelled.subarray(0, spelledEnd)) : spelled,
      starts: pathStarts,
      ends: pathEnds,
    },
    modes,
    flags: flagBits,
    firstUnmergedOrIntentToAdd,
    cacheTreeData,
    untrackedCacheData,
    mtime,
  });
}
