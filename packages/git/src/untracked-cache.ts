// git's untracked cache: the index's UNTR extension, written by git when core.untrackedCache (or
// feature.manyFiles) is on. It records, per directory git read, the directory's stat data, the id
// of its .gitignore and the untracked names it found; a directory whose stat data has not changed
// since has the same names, so git lists its untracked files without reading it. Format:
// gitformat-index(5), "Untracked cache"; use: git's dir.c (validate_untracked_cache,
// valid_cached_dir, prep_exclude, read_cached_dir, treat_path_fast).
import { type as osType } from 'node:os';
import { throwIfAborted } from './errors';
import {
  type LstatNumbers,
  matchesStoredStat,
  milliseconds,
  type PrefixedLstatReader,
  type StoredStatNumbers,
} from './fast-lstat';
import { type GitIndex, MODE_TREE, MODE_TYPE_MASK } from './git-index';
import { blobId } from './git-objects';
import { type ExcludeRules, readIfFile } from './ignore-rules';

/** The stat data git keeps for a directory or file: big-endian 32-bit fields, in this order. */
const STAT_DATA_SIZE = 36;
const OID_SIZE = 20;

/** `DIR_SHOW_OTHER_DIRECTORIES | DIR_HIDE_EMPTY_DIRECTORIES`: the flags of a plain `git status`. */
export const STATUS_DIR_FLAGS = 0b110;

/** A directory's stat data as git stored it, with its mtime's seconds for the racy check. */
export interface StoredStat extends StoredStatNumbers {
  readonly mtimeSeconds: number;
}

/** One directory git read, as the cache recorded it. */
export interface UntrackedCacheDirectory {
  /** The directory's own name, '' for the worktree root, without a slash; bytes as on disk. */
  readonly name: Buffer;
  /** Untracked names git found in it (a directory's with a trailing slash). */
  readonly untracked: readonly Buffer[];
  /** Directories git went into from it, tracked ones and untracked ones it only checked. */
  readonly directories: readonly UntrackedCacheDirectory[];
  /** Whether `untracked` and `stat` are valid: git clears this when the directory may differ. */
  readonly valid: boolean;
  /** Read only to learn whether it holds anything (an untracked directory), not to list it. */
  readonly checkOnly: boolean;
  /** The directory's stat data when git read it (valid directories only). */
  readonly stat: StoredStat | undefined;
  /** The blob id of its .gitignore when git read it, undefined when it had none. */
  readonly excludeOid: string | undefined;
}

/** The parsed extension. */
export interface UntrackedCache {
  /** Where and on which system it was made: `Location <worktree>, system <uname -s>`. */
  readonly ident: string;
  /** The blob id of `info/exclude` when it was made (undefined: there was none). */
  readonly infoExcludeOid: string | undefined;
  /** The blob id of the `core.excludesFile` file when it was made (undefined: there was none). */
  readonly excludesFileOid: string | undefined;
  /** The directory-walk flags it was made with. */
  readonly dirFlags: number;
  /** The per-directory ignore file's name (".gitignore"). */
  readonly excludePerDir: string;
  /** The worktree root's entry, undefined when git has not filled the cache yet. */
  readonly root: UntrackedCacheDirectory | undefined;
}

/** Reads git's variable-width integer at `at.offset`, which moves past it (7 bits a byte). */
function varint(data: Buffer, at: { offset: number }, end: number): number {
  let byte = readByte(data, at, end);
  let value = byte & 0x7f;
  while (byte & 0x80) {
    byte = readByte(data, at, end);
    value = (value + 1) * 128 + (byte & 0x7f);
  }
  return value;
}

function readByte(data: Buffer, at: { offset: number }, end: number): number {
  if (at.offset >= end) throw new RangeError('the untracked cache ends early');
  return data[at.offset++] as number;
}

/** A NUL-terminated string's bytes at `at`, which moves past the NUL. */
function nulTerminated(data: Buffer, at: { offset: number }, end: number): Buffer {
  // Names are short: a loop finds the NUL cheaper than a call to Buffer#indexOf.
  let nul = at.offset;
  while (nul < end && data[nul] !== 0) nul++;
  if (nul >= end) throw new RangeError('the untracked cache ends inside a name');
  const bytes = data.subarray(at.offset, nul);
  at.offset = nul + 1;
  return bytes;
}

function storedStat(data: Buffer, offset: number): StoredStat {
  const view = new DataView(data.buffer, data.byteOffset + offset, STAT_DATA_SIZE);
  const field = (n: number): number => view.getUint32(4 * n);
  // Fields: ctime (seconds, nanoseconds), mtime (the same), dev, ino, uid, gid, size; st_dev is
  // compared by git only when built with USE_STDEV.
  return {
    ctimeMs: milliseconds(field(0), field(1)),
    mtimeSeconds: field(2),
    mtimeMs: milliseconds(field(2), field(3)),
    ino: field(5),
    uid: field(6),
    gid: field(7),
    size: field(8),
  };
}

function oidAt(data: Buffer, offset: number): string | undefined {
  const oid = data.toString('hex', offset, offset + OID_SIZE);
  return /^0+$/.test(oid) ? undefined : oid;
}

/**
 * The positions of the set bits of the EWAH-compressed bitmap at `at` (git's ewah/ewah_io.c):
 * a bit count, a word count, that many 64-bit words, and the position of the last marker word.
 * Each marker word says how many all-zero or all-one words follow implicitly (bits 1-32, with
 * bit 0 saying which) and how many literal words follow it (bits 33-63). Exposed for tests.
 */
export function ewahBits(
  data: Buffer,
  at: { offset: number },
  end: number,
  limit: number,
): number[] {
  if (at.offset + 8 > end) throw new RangeError('the untracked cache ends inside a bitmap');
  const words = data.readUInt32BE(at.offset + 4);
  const start = at.offset + 8;
  const wordsEnd = start + 8 * words;
  if (wordsEnd + 4 > end) throw new RangeError('the untracked cache ends inside a bitmap');
  const bits: number[] = [];
  let position = 0;
  let word = 0;
  while (word < words) {
    const high = data.readUInt32BE(start + 8 * word);
    const low = data.readUInt32BE(start + 8 * word + 4);
    const run = (low >>> 1) + (high & 1) * 2 ** 31;
    const literals = high >>> 1;
    // Bits past `limit` (the directory count) name no directory: a run is not spelled out.
    if (low & 1) for (let k = position; k < Math.min(position + run * 64, limit); k++) bits.push(k);
    position += run * 64;
    word += 1;
    for (let literal = 0; literal < literals && word < words; literal++, word++) {
      const literalHigh = data.readUInt32BE(start + 8 * word);
      const literalLow = data.readUInt32BE(start + 8 * word + 4);
      for (let bit = 0; bit < 32; bit++) if ((literalLow >>> bit) & 1) bits.push(position + bit);
      for (let bit = 0; bit < 32; bit++) {
        if ((literalHigh >>> bit) & 1) bits.push(position + 32 + bit);
      }
      position += 64;
    }
  }
  at.offset = wordsEnd + 4;
  return bits;
}

interface DirectoryUnderConstruction {
  name: Buffer;
  untracked: Buffer[];
  directories: DirectoryUnderConstruction[];
  valid: boolean;
  checkOnly: boolean;
  stat: StoredStat | undefined;
  excludeOid: string | undefined;
}

/**
 * Parses the UNTR extension's bytes. Returns undefined for an extension git itself would drop as
 * malformed (git then reads every directory, and so does the caller).
 */
export function parseUntrackedCache(data: Buffer): UntrackedCache | undefined {
  // A final NUL guards the string lists.
  if (data.length <= 1 || data[data.length - 1] !== 0) return undefined;
  const end = data.length - 1;
  const at = { offset: 0 };
  try {
    const identLength = varint(data, at, end);
    if (at.offset + identLength > end) return undefined;
    const identBytes = data.subarray(at.offset, at.offset + identLength);
    const identEnd = identBytes.indexOf(0);
    const ident = identBytes.toString('utf8', 0, identEnd < 0 ? identBytes.length : identEnd);
    at.offset += identLength;
    // Two stat data (info/exclude, core.excludesFile), the flags, two object ids, a name.
    const fixed = at.offset;
    if (fixed + 2 * STAT_DATA_SIZE + 4 + 2 * OID_SIZE >= end) return undefined;
    const dirFlags = data.readUInt32BE(fixed + 2 * STAT_DATA_SIZE);
    const infoExcludeOid = oidAt(data, fixed + 2 * STAT_DATA_SIZE + 4);
    const excludesFileOid = oidAt(data, fixed + 2 * STAT_DATA_SIZE + 4 + OID_SIZE);
    at.offset = fixed + 2 * STAT_DATA_SIZE + 4 + 2 * OID_SIZE;
    const excludePerDir = nulTerminated(data, at, end).toString('utf8');
    const header = { ident, infoExcludeOid, excludesFileOid, dirFlags, excludePerDir };
    if (at.offset >= end) return { ...header, root: undefined };
    const count = varint(data, at, end);
    if (count === 0) return at.offset === end ? { ...header, root: undefined } : undefined;

    // The directories, depth first: counts, name, untracked names, then the children.
    const all: DirectoryUnderConstruction[] = [];
    const readDirectory = (): DirectoryUnderConstruction => {
      const untrackedCount = varint(data, at, end);
      const directoryCount = varint(data, at, end);
      const directory: DirectoryUnderConstruction = {
        name: nulTerminated(data, at, end),
        untracked: [],
        directories: [],
        valid: false,
        checkOnly: false,
        stat: undefined,
        excludeOid: undefined,
      };
      for (let i = 0; i < untrackedCount; i++)
        directory.untracked.push(nulTerminated(data, at, end));
      all.push(directory);
      if (all.length > count) throw new RangeError('more directories than the count');
      for (let i = 0; i < directoryCount; i++) directory.directories.push(readDirectory());
      return directory;
    };
    const root = readDirectory();
    if (all.length !== count) return undefined;
    // Per directory, in the same order: valid, check-only, has an exclude id; then the stat
    // data of the valid ones and the ids of those with one.
    const valid = ewahBits(data, at, end, count);
    const checkOnly = ewahBits(data, at, end, count);
    const withOid = ewahBits(data, at, end, count);
    for (const position of checkOnly) {
      const directory = all[position];
      if (directory) directory.checkOnly = true;
    }
    for (const position of valid) {
      const directory = all[position];
      if (!directory) continue;
      if (at.offset + STAT_DATA_SIZE > end) return undefined;
      directory.stat = storedStat(data, at.offset);
      directory.valid = true;
      at.offset += STAT_DATA_SIZE;
    }
    for (const position of withOid) {
      const directory = all[position];
      if (!directory) continue;
      if (at.offset + OID_SIZE > end) return undefined;
      directory.excludeOid = oidAt(data, at.offset);
      at.offset += OID_SIZE;
    }
    return at.offset === end ? { ...header, root } : undefined;
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

const parsed = new WeakMap<GitIndex, UntrackedCache | undefined>();

/** The index's untracked cache, parsed once per parsed index; undefined when it has none. */
export function untrackedCacheOf(index: GitIndex): UntrackedCache | undefined {
  if (!parsed.has(index)) {
    const data = index.untrackedCacheData;
    parsed.set(index, data ? parseUntrackedCache(data) : undefined);
  }
  return parsed.get(index);
}

/** What git's ident string would be for `worktree` on this system. */
export function untrackedCacheIdent(worktree: string): string {
  return `Location ${worktree}, system ${osType()}`;
}

/**
 * Whether an ignore file's current content gives the rules the cache recorded as `oid`. Git
 * records the index's blob id for a tracked, unmodified file, and otherwise hashes the content
 * with a newline appended (dir.c, add_patterns); either way the rules are the same, so both
 * spellings are accepted.
 */
function sameIgnoreContent(content: Buffer | undefined, oid: string | undefined): boolean {
  if (content === undefined || oid === undefined) return content === undefined && oid === undefined;
  return blobId(content) === oid || blobId(Buffer.concat([content, Buffer.from('\n')])) === oid;
}

/**
 * Whether `stats` (from `lstat` now) matches the stat data git stored, and the stored data is not
 * racy: a directory changed in the same second the index was written could change again unseen.
 * Stricter than git where git's build options relax it (nanoseconds, ctime): a mismatch only
 * means the directory is read.
 */
function storedStatMatches(
  stored: StoredStat,
  stats: LstatNumbers,
  indexSeconds: number,
  trustCtime: boolean,
): boolean {
  return stored.mtimeSeconds < indexSeconds && matchesStoredStat(stats, stored, trustCtime);
}

/** What {@link untrackedFromCache} needs of an opened repository. */
export interface CachedUntrackedContext {
  /** The worktree root, symlinks resolved (git's ident names it so). */
  readonly worktree: string;
  /** The parsed index, whose UNTR extension and mtime are used. */
  readonly index: GitIndex;
  /** core.trustCtime: whether a directory's ctime counts in its stat data. */
  readonly trustCtime: boolean;
  /** The bytes of `info/exclude` and of the `core.excludesFile` file, checked against the cache. */
  readonly excludeSources: ExcludeRules['sources'];
  /** `lstat` of the worktree path whose bytes after the worktree's own `<worktree>/` are given. */
  readonly lstat: PrefixedLstatReader;
  /** Ends the walk early (it yields to the event loop between batches of directories). */
  readonly signal?: AbortSignal | undefined;
  /** Counts the directories the cache answered for, when it answered for the whole tree. */
  readonly counters?: { untrackedCacheDirectories: number } | undefined;
}

const SLASH = 0x2f;
const GITIGNORE = Buffer.from('.gitignore');
/** Directories checked between two turns of the event loop. */
const DIRECTORY_BATCH = 1024;

/** One directory waiting to be checked, and where its path ends in the walk's path buffer. */
interface PendingDirectory {
  readonly directory: UntrackedCacheDirectory;
  /** Length of its path: '' for the root, else the parent's path, its name and a slash. */
  readonly length: number;
  /** Whether git reads it only to learn whether it holds anything. */
  readonly checkOnly: boolean;
  /** Length of the path git would list for an untracked name below it (see the walk). */
  readonly listed: number;
}

/**
 * What git's untracked cache says about untracked files, decided the way `git status` decides
 * whether it may use it (dir.c: validate_untracked_cache, valid_cached_dir, prep_exclude): `{
 * change }` with a message naming the first untracked path it lists, as git would list it, or
 * with `undefined` when it lists none. Undefined when it cannot answer: there is none, it was made
 * for another worktree, system or listing, an ignore file changed, or any directory it covers
 * changed since (its stat data differs or is racy, or it cannot be stat-ed). Every directory is
 * checked before an answer is given, so a stale entry is never reported. The caller then reads
 * the directories itself.
 *
 * @throws the signal's reason when it is aborted.
 */
export async function untrackedFromCache(
  context: CachedUntrackedContext,
): Promise<{ readonly change: string | undefined } | undefined> {
  const cache = untrackedCacheOf(context.index);
  if (!cache?.root) return undefined;
  if (cache.dirFlags !== STATUS_DIR_FLAGS || cache.excludePerDir !== '.gitignore') return undefined;
  if (cache.ident !== untrackedCacheIdent(context.worktree)) return undefined;
  const { infoExclude, excludesFile } = context.excludeSources;
  if (
    !sameIgnoreContent(infoExclude, cache.infoExcludeOid) ||
    !sameIgnoreContent(excludesFile, cache.excludesFileOid)
  ) {
    return undefined;
  }
  const indexSeconds = context.index.mtime.seconds;
  const worktreePrefix = Buffer.from(`${context.worktree}/`);
  // The path of the directory being checked, relative to the worktree ('' for the root, else
  // with a trailing slash). Depth first, each directory's name is written after its parent's
  // path, which stays in place while the parent's other children are checked.
  let path = Buffer.allocUnsafe(1024);
  const pending: PendingDirectory[] = [
    { directory: cache.root, length: 0, checkOnly: false, listed: 0 },
  ];
  let checked = 0;
  let first: string | undefined;
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (checked > 0 && checked % DIRECTORY_BATCH === 0) {
      await new Promise<void>((done) => setImmediate(done));
    }
    throwIfAborted(context.signal, "Checking git's untracked cache");
    const { directory, length, checkOnly, listed } = next;
    if (length > 0) {
      const start = length - directory.name.length - 1;
      if (length > path.length) {
        const larger = Buffer.allocUnsafe(2 * length);
        path.copy(larger, 0, 0, start);
        path = larger;
      }
      directory.name.copy(path, start);
      path[length - 1] = SLASH;
    }
    if (!directory.valid || !directory.stat || directory.checkOnly !== checkOnly) return undefined;
    let stats: LstatNumbers | undefined;
    try {
      stats = context.lstat(path, 0, length);
    } catch {
      // Unreadable (EACCES, ELOOP, a name too long): git warns and reads on; so does the walk
      // without the cache.
      return undefined;
    }
    if (!stats || (stats.mode & MODE_TYPE_MASK) !== MODE_TREE) return undefined;
    if (!storedStatMatches(directory.stat, stats, indexSeconds, context.trustCtime)) {
      return undefined;
    }
    // With the directory unchanged, a .gitignore cannot have appeared or gone: git reads one
    // only where it recorded one, and drops this directory and all below it when it changed.
    if (directory.excludeOid !== undefined) {
      const file = Buffer.concat([worktreePrefix, path.subarray(0, length), GITIGNORE]);
      if (!sameIgnoreContent(readIfFile(file), directory.excludeOid)) return undefined;
    }
    checked += 1;
    const name = directory.untracked[0];
    if (first === undefined && name !== undefined) {
      // Below an untracked directory that git only checked for content, git lists that
      // directory, not what it found in it.
      first = checkOnly
        ? path.toString('utf8', 0, listed)
        : `${path.toString('utf8', 0, length)}${name.toString('utf8')}`;
    }
    // As git's read_cached_dir: the directories it went into, each checked the same way (one it
    // only checked for content stays checked that way), in order: pushed last to first.
    for (let i = directory.directories.length - 1; i >= 0; i--) {
      const child = directory.directories[i] as UntrackedCacheDirectory;
      const childLength = length + child.name.length + 1;
      pending.push({
        directory: child,
        length: childLength,
        checkOnly: child.checkOnly || checkOnly,
        listed: checkOnly ? listed : childLength,
      });
    }
  }
  if (context.counters) context.counters.untrackedCacheDirectories += checked;
  return { change: first === undefined ? undefined : `untracked: ${first}` };
}
