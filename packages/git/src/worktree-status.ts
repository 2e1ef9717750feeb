import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ignore } from 'ignore';
import { GitError, throwIfAborted } from './errors';
import {
  LstatField,
  type LstatNumbers,
  type LstatReader,
  lstatReader,
  matchesStoredStat,
  type PrefixedLstatReader,
  prefixedLstatReader,
  rawPrefixedLstatReader,
  TWO_TO_32,
} from './fast-lstat';
import {
  EntryField,
  type GitIndex,
  MODE_EXECUTABLE,
  MODE_FILE,
  MODE_GITLINK,
  MODE_REGULAR,
  MODE_SYMLINK,
  MODE_TREE,
  MODE_TYPE_MASK,
} from './git-index';
import { blobId, readCommitTreeFast, readObjectFast } from './git-objects';
import {
  compileIgnoreRules,
  type ExcludeRules,
  type IgnoreLevel,
  isIgnored,
  readIfFile,
} from './ignore-rules';
import { isNestedRepository, type RepositoryLayout } from './repository';
import { untrackedFromCache } from './untracked-cache';

/** Settings from git config that change how the worktree is compared with the index. */
export interface WorktreeSettings {
  /** core.fileMode: whether the executable bit counts. */
  readonly fileMode: boolean;
  /** core.trustCtime: whether ctime counts. */
  readonly trustCtime: boolean;
  /** core.checkStat=minimal: compare only whole-second mtime and size. */
  readonly minimalStat: boolean;
  /** core.ignoreCase: whether ignore patterns match case-insensitively. */
  readonly ignoreCase: boolean;
  /** status.showUntrackedFiles=no: untracked files do not make the tree dirty. */
  readonly showUntracked: boolean;
  /**
   * Whether git's untracked cache may answer for unchanged directories, as in `git status`: not
   * with core.untrackedCache=false, status.showUntrackedFiles=all or GIT_DISABLE_UNTRACKED_CACHE.
   */
  readonly untrackedCache: boolean;
}

/** Everything the comparisons need about one opened repository. */
export interface OpenRepository {
  readonly layout: RepositoryLayout;
  readonly index: GitIndex;
  readonly commitSha: string;
  readonly settings: WorktreeSettings;
  /** info/exclude and core.excludesFile rules, highest priority first. */
  readonly excludes: readonly Ignore[];
  /** The bytes of those two files, which the untracked cache is checked against. */
  readonly excludeSources: ExcludeRules['sources'];
  /** Opens a nested repository (a submodule) the same way, for recursive checks. */
  readonly openSubmodule: (worktree: string) => Promise<OpenRepository | undefined>;
}

/** Work counters of one check, for tests and benchmarks to see that the fast path is taken. */
export interface CheckCounters {
  lstat: number;
  hashed: number;
  directoriesRead: number;
  /** Directories git's untracked cache answered for (counted only when it answered). */
  untrackedCacheDirectories: number;
  treesRead: number;
  /** Tree objects hashed from index entries (directories the cache tree did not vouch for). */
  treesHashed: number;
}

/** Options of the whole-tree check. */
export interface TreeCheckOptions {
  readonly signal?: AbortSignal | undefined;
  /** How many files are hashed at once (each hash reads a whole file). Default 8. */
  readonly concurrency?: number | undefined;
  readonly counters?: CheckCounters | undefined;
  /**
   * Internal: how tracked files, and the directories git's untracked cache covers, are lstat'ed
   * (tests force the `fs.lstatSync` fallback, or inject failures).
   */
  readonly lstat?: LstatReader | undefined;
}

// isomorphic-git's per-process object cache (pack indexes, parsed packs). Passing the same
// object to every call is what makes repeated reads cheap.
export const objectCache: object = {};

let isomorphicGit: Promise<typeof import('isomorphic-git')> | undefined;

/** isomorphic-git, loaded on first use: a clean-tree check usually needs none of it. */
export function loadIsomorphicGit(): Promise<typeof import('isomorphic-git')> {
  isomorphicGit ??= import('isomorphic-git');
  return isomorphicGit;
}

const commitTrees = new Map<string, string>();

/** The tree id of a commit (cached per process: a commit never changes). */
async function treeOfCommit(commondir: string, commitSha: string): Promise<string> {
  const key = `${commondir}\0${commitSha}`;
  const cached = commitTrees.get(key);
  if (cached) return cached;
  let tree = await readCommitTreeFast(commondir, commitSha).catch(() => undefined);
  try {
    if (tree === undefined) {
      const { readCommit } = await loadIsomorphicGit();
      tree = (await readCommit({ fs, gitdir: commondir, oid: commitSha, cache: objectCache }))
        .commit.tree;
    }
  } catch (error) {
    throw new GitError(
      'corrupt_repository',
      `Cannot read commit ${commitSha} in ${commondir}: ${(error as Error).message}. Check the repository with \`git fsck\`.`,
      { cause: error, details: { commondir, commitSha } },
    );
  }
  commitTrees.set(key, tree);
  return tree;
}

interface TreeEntry {
  readonly mode: number;
  readonly oid: string;
  readonly type: string;
}
const treeCache = new Map<string, Map<string, TreeEntry>>();

/**
 * The entries of a tree object's content ("<octal mode> <name>\0<20-byte id>" each), keyed by
 * name as a byte string (see {@link GitIndex.bytePath}), or undefined when it is malformed.
 */
function parseTree(content: Buffer): Map<string, TreeEntry> | undefined {
  const entries = new Map<string, TreeEntry>();
  let position = 0;
  while (position < content.length) {
    const space = content.indexOf(0x20, position);
    const nul = content.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > content.length) return undefined;
    const mode = Number.parseInt(content.toString('latin1', position, space), 8);
    const type = mode === MODE_TREE ? 'tree' : mode === MODE_GITLINK ? 'commit' : 'blob';
    entries.set(content.toString('latin1', space + 1, nul), {
      mode,
      oid: content.toString('hex', nul + 1, nul + 21),
      type,
    });
    position = nul + 21;
  }
  return entries;
}

async function readTreeEntries(
  commondir: string,
  oid: string,
  counters: CheckCounters | undefined,
): Promise<Map<string, TreeEntry>> {
  const cached = treeCache.get(oid);
  if (cached) return cached;
  if (counters) counters.treesRead += 1;
  const object = await readObjectFast(commondir, oid);
  let entries: Map<string, TreeEntry> | undefined;
  if (object?.type === 'tree') entries = parseTree(object.content);
  if (!entries) {
    const { readTree } = await loadIsomorphicGit();
    const { tree } = await readTree({ fs, gitdir: commondir, oid, cache: objectCache });
    entries = new Map();
    for (const entry of tree) {
      entries.set(Buffer.from(entry.path).toString('latin1'), {
        mode: Number.parseInt(entry.mode, 8),
        oid: entry.oid,
        type: entry.type,
      });
    }
  }
  if (treeCache.size > 20_000) treeCache.clear();
  treeCache.set(oid, entries);
  return entries;
}

/** The HEAD tree entry for a repository-relative path, or undefined when HEAD has no such file. */
async function headEntry(repo: OpenRepository, path: string): Promise<TreeEntry | undefined> {
  let tree = await treeOfCommit(repo.layout.commondir, repo.commitSha);
  const segments = Buffer.from(path).toString('latin1').split('/');
  for (let i = 0; i < segments.length; i++) {
    const entry = (await readTreeEntries(repo.layout.commondir, tree, undefined)).get(
      segments[i] as string,
    );
    if (!entry) return undefined;
    if (i === segments.length - 1) return entry;
    if (entry.type !== 'tree') return undefined;
    tree = entry.oid;
  }
  return undefined;
}

/** The blob id of what is at `file` in the worktree now (a symlink hashes its target). */
async function hashWorktreeFile(file: string | Buffer, isSymlink: boolean): Promise<string> {
  return blobId(
    isSymlink ? Buffer.from(await readlink(file, { encoding: 'buffer' })) : await readFile(file),
  );
}

/** The mode git would record for what `lstat` found. */
function modeOf(stats: LstatNumbers, fileMode: boolean, indexMode: number): number {
  const type = stats.mode & MODE_TYPE_MASK;
  if (type === MODE_SYMLINK) return MODE_SYMLINK;
  if (type === MODE_TREE) return MODE_TREE;
  // core.fileMode=false: the executable bit on disk means nothing; keep what the index says.
  if (!fileMode) return (indexMode & MODE_TYPE_MASK) === MODE_FILE ? indexMode : MODE_REGULAR;
  return stats.mode & 0o100 ? MODE_EXECUTABLE : MODE_REGULAR;
}

/** Outcome of comparing one index entry with `lstat` data. */
type StatVerdict = 'same' | 'changed' | 'hash';

/** Compares index entry `i` with `lstat` data the way git's `ie_match_stat` does. */
function compareStat(
  repo: OpenRepository,
  i: number,
  stats: LstatNumbers | undefined,
): StatVerdict {
  if (!stats) return 'changed';
  const { index, settings } = repo;
  const mode = index.modes[i] as number;
  if (modeOf(stats, settings.fileMode, mode) !== mode) return 'changed';
  const size = index.statField(i, EntryField.size);
  const seconds = index.statField(i, EntryField.mtimeSeconds);
  let same: boolean;
  if (settings.minimalStat) {
    same = Math.floor(stats.mtimeMs / 1000) === seconds && stats.size % TWO_TO_32 === size;
  } else {
    const stored = {
      mtimeMs: index.mtimeMs(i),
      ctimeMs: index.ctimeMs(i),
      ino: index.statField(i, EntryField.ino),
      uid: index.statField(i, EntryField.uid),
      gid: index.statField(i, EntryField.gid),
      size,
    };
    same = matchesStoredStat(stats, stored, settings.trustCtime);
  }
  if (!same) {
    // A different size means different content, except for entries git "smudged" to size 0
    // because they were racily clean when it wrote the index.
    if (size !== 0 && stats.size % TWO_TO_32 !== size) return 'changed';
    return 'hash';
  }
  // Racily clean: modified in the same instant the index was written, so an edit made right
  // after git read the file would not show in stat data. Git compares content then, so do we.
  if (
    seconds > index.mtime.seconds ||
    (seconds === index.mtime.seconds &&
      index.statField(i, EntryField.mtimeNanoseconds) >= index.mtime.nanoseconds)
  ) {
    return 'hash';
  }
  return 'same';
}

/** A user-readable description of the first difference found, or undefined when clean. */
export type FirstChange = string | undefined;

/**
 * Whether HEAD, the index and the worktree all agree, and no untracked file that is not ignored
 * exists: the question `git status --porcelain` answers with an empty output. Stops at the first
 * difference and returns a description of it.
 */
export async function findFirstChange(
  repo: OpenRepository,
  options: TreeCheckOptions = {},
): Promise<FirstChange> {
  const head = () => compareHeadWithIndex(repo, options);
  const worktree = async () =>
    (await compareIndexWithWorktree(repo, options)) ??
    (repo.settings.showUntracked ? await findUntracked(repo, options) : undefined);
  // The cheaper question first. With a cache tree, HEAD is compared with the index by hashing at
  // most the directories it no longer vouches for; without one (a tool rewrote the index), every
  // tree is hashed, and the worktree check, which stops at its first difference, goes first.
  if (repo.index.hasCacheTree) return (await head()) ?? (await worktree());
  return (await worktree()) ?? (await head());
}

async function compareHeadWithIndex(
  repo: OpenRepository,
  options: TreeCheckOptions,
): Promise<FirstChange> {
  const { index } = repo;
  const unusual = index.firstUnmergedOrIntentToAdd;
  if (unusual >= 0) {
    return `${index.stage(unusual) !== 0 ? 'unmerged' : 'added'}: ${index.path(unusual)}`;
  }
  const headTree = await treeOfCommit(repo.layout.commondir, repo.commitSha);
  // The cache-tree extension records the tree the index would be written as: when it equals
  // HEAD's tree, nothing is staged, without reading a single object.
  if (index.cacheTreeRootOid === headTree) return undefined;
  // Missing or stale (a file was re-added, a tool rewrote the index): compute the trees from the
  // entries, as `git write-tree` would (taking the directories the cache tree still vouches for),
  // and read HEAD's trees only along paths that differ.
  const hashedBefore = index.treesHashed;
  const trees = index.trees();
  // Counted when computed: a later check of the same parsed index hashes nothing.
  if (options.counters) options.counters.treesHashed += index.treesHashed - hashedBefore;
  if (trees.get('')?.oid === headTree) return undefined;

  // Paths and names here are byte strings (GitIndex.bytePath): exact for any name, in git's
  // byte order; `shown` turns one back into text for a message.
  const inGitOrder = (tree: ReadonlyMap<string, TreeEntry>): string[] =>
    // Directories sort as if their name ended with '/'.
    [...tree.keys()].sort((a, b) => {
      const left = tree.get(a)?.type === 'tree' ? `${a}/` : a;
      const right = tree.get(b)?.type === 'tree' ? `${b}/` : b;
      return left < right ? -1 : left > right ? 1 : 0;
    });
  const firstFile = async (treeOid: string, prefix: string): Promise<string> => {
    const tree = await readTreeEntries(repo.layout.commondir, treeOid, options.counters);
    const [name] = inGitOrder(tree);
    const item = name === undefined ? undefined : tree.get(name);
    if (name === undefined || !item) return prefix;
    return item.type === 'tree' ? firstFile(item.oid, `${prefix}${name}/`) : `${prefix}${name}`;
  };
  let position = 0;
  const pathAt = (at: number): string | undefined =>
    at < index.count ? index.bytePath(at) : undefined;
  const shown = (bytePath: string): string => Buffer.from(bytePath, 'latin1').toString('utf8');
  const walk = async (treeOid: string, prefix: string): Promise<FirstChange> => {
    throwIfAborted(options.signal, 'Comparing HEAD with the index');
    const tree = await readTreeEntries(repo.layout.commondir, treeOid, options.counters);
    for (const name of inGitOrder(tree)) {
      const item = tree.get(name) as TreeEntry;
      const path = prefix + name;
      if (item.type === 'tree') {
        const directoryPrefix = `${path}/`;
        const directory = trees.get(directoryPrefix);
        // Gone from the index altogether: named by its first file, as git status names it.
        if (!directory) return `deleted: ${shown(await firstFile(item.oid, directoryPrefix))}`;
        if (directory.oid === item.oid) {
          // Every entry under the directory matches HEAD's: skipped by count when the walk is at
          // the directory's first entry and the count lands on its last, else one by one (an
          // entry before them, not in HEAD, is then named below).
          const end = position + directory.entries;
          if (
            pathAt(end - 1)?.startsWith(directoryPrefix) &&
            !pathAt(end)?.startsWith(directoryPrefix)
          ) {
            position = end;
          } else {
            while (pathAt(position)?.startsWith(directoryPrefix)) position++;
          }
          continue;
        }
        const change = await walk(item.oid, directoryPrefix);
        if (change) return change;
        continue;
      }
      const indexPath = pathAt(position);
      if (indexPath !== path) {
        return indexPath !== undefined && indexPath < path
          ? `added: ${shown(indexPath)}`
          : `deleted: ${shown(path)}`;
      }
      if (index.oid(position) !== item.oid || index.modes[position] !== item.mode) {
        return `modified: ${shown(path)}`;
      }
      position++;
    }
    // Index entries left under this prefix are not in HEAD.
    const extra = pathAt(position);
    if (extra?.startsWith(prefix)) return `added: ${shown(extra)}`;
    return undefined;
  };
  // The computed root differs from HEAD's, so the walk finds a difference; the fallback covers
  // differences the walk cannot name (such as a tree in HEAD where the index holds a file).
  return (await walk(headTree, '')) ?? 'modified: (the index differs from HEAD)';
}

/** Entries checked between two turns of the event loop. */
const STAT_BATCH = 1024;

/** Entries a stat pass leaves for later checks. */
interface StatPassLeftovers {
  /** Entries whose stat data cannot vouch for them: their content is hashed afterwards. */
  readonly toHash: number[];
  /** Submodule entries, checked as repositories afterwards. */
  readonly submodules: number[];
}

/**
 * Checks entries `start..end` against `lstat` data, the way git's `ie_match_stat` does, and
 * returns the first change. A plain function (not async) over a range, so that V8 optimises its
 * loop early in a process. With `raw`, a regular file whose stat data matches exactly (same
 * seconds and nanoseconds) and is not racily clean is accepted straight from the binding's
 * numbers; every other entry is decided by {@link compareStat} on numbers from `read`.
 */
function statRange(
  repo: OpenRepository,
  start: number,
  end: number,
  raw: ((entry: number) => Float64Array | undefined | null) | undefined,
  read: (entry: number) => LstatNumbers | undefined,
  leftovers: StatPassLeftovers,
  counters: CheckCounters | undefined,
): FirstChange {
  const { index } = repo;
  const { modes, view, entryOffsets } = index;
  const { fileMode, trustCtime, minimalStat } = repo.settings;
  const { seconds: indexSeconds, nanoseconds: indexNanoseconds } = index.mtime;
  const inline = raw !== undefined && fileMode && !minimalStat;
  for (let i = start; i < end; i++) {
    if (index.isUnmergedOrNotCompared(i)) continue;
    const mode = modes[i] as number;
    if ((mode & MODE_TYPE_MASK) === MODE_GITLINK) {
      leftovers.submodules.push(i);
      continue;
    }
    if (counters) counters.lstat += 1;
    if (inline && (mode & MODE_TYPE_MASK) === MODE_FILE) {
      const fields = raw(i);
      if (fields) {
        const offset = entryOffsets[i] as number;
        const diskMode = fields[LstatField.mode] as number;
        const seconds = view.getUint32(offset + EntryField.mtimeSeconds);
        const nanoseconds = view.getUint32(offset + EntryField.mtimeNanoseconds);
        if (
          (diskMode & MODE_TYPE_MASK) === MODE_FILE &&
          (diskMode & 0o100 ? MODE_EXECUTABLE : MODE_REGULAR) === mode &&
          fields[LstatField.mtimeSeconds] === seconds &&
          fields[LstatField.mtimeNanoseconds] === nanoseconds &&
          (!trustCtime ||
            (fields[LstatField.ctimeSeconds] === view.getUint32(offset + EntryField.ctimeSeconds) &&
              fields[LstatField.ctimeNanoseconds] ===
                view.getUint32(offset + EntryField.ctimeNanoseconds))) &&
          (fields[LstatField.ino] as number) % TWO_TO_32 ===
            view.getUint32(offset + EntryField.ino) &&
          fields[LstatField.uid] === view.getUint32(offset + EntryField.uid) &&
          fields[LstatField.gid] === view.getUint32(offset + EntryField.gid) &&
          (fields[LstatField.size] as number) % TWO_TO_32 ===
            view.getUint32(offset + EntryField.size) &&
          (seconds < indexSeconds || (seconds === indexSeconds && nanoseconds < indexNanoseconds))
        ) {
          continue;
        }
      }
    }
    // Anything not accepted above, read (again) as numbers: rare, so the second lstat is cheap.
    const stats = read(i);
    const verdict = compareStat(repo, i, stats);
    if (verdict === 'changed') return `${stats ? 'modified' : 'deleted'}: ${index.path(i)}`;
    if (verdict === 'hash') leftovers.toHash.push(i);
  }
  return undefined;
}

async function compareIndexWithWorktree(
  repo: OpenRepository,
  options: TreeCheckOptions,
): Promise<FirstChange> {
  const { index } = repo;
  const { count, modes } = index;
  const { bytes, starts, ends } = index.pathBytes;
  const root = repo.layout.worktree;
  const prefix = `${root}/`;
  const leftovers: StatPassLeftovers = { toHash: [], submodules: [] };
  // Paths straight from the index's bytes. The readers return numbers in a reused object (no
  // Stats per file: see fast-lstat.ts).
  const fromBytes = relativeLstat(prefix, options.lstat);
  const read = (i: number) => fromBytes(bytes, starts[i] as number, ends[i] as number);
  // A reader a test injects is used for every entry.
  const rawBytes = options.lstat ? undefined : rawPrefixedLstatReader(prefix);
  const raw = rawBytes && ((i: number) => rawBytes(bytes, starts[i] as number, ends[i] as number));
  // Synchronous lstat: measured here it is 3x faster than fs.promises for the tens of thousands
  // of tiny calls a status needs; a turn of the event loop every STAT_BATCH entries keeps it
  // responsive.
  for (let start = 0; start < count; start += STAT_BATCH) {
    if (start > 0) await new Promise<void>((done) => setImmediate(done));
    throwIfAborted(options.signal, 'Comparing the worktree with the index');
    const end = Math.min(start + STAT_BATCH, count);
    const change = statRange(repo, start, end, raw, read, leftovers, options.counters);
    if (change) return change;
  }
  const { toHash, submodules } = leftovers;
  const prefixBytes = Buffer.from(prefix);
  const hashChange = await firstOf(
    toHash,
    async (i) => {
      if (options.counters) options.counters.hashed += 1;
      const isSymlink = ((modes[i] as number) & MODE_TYPE_MASK) === MODE_SYMLINK;
      // The path's own bytes, as for its lstat.
      const file = Buffer.concat([prefixBytes, bytes.subarray(starts[i], ends[i])]);
      const oid = await hashWorktreeFile(file, isSymlink).catch(() => undefined);
      return oid === index.oid(i) ? undefined : `modified: ${index.path(i)}`;
    },
    options,
  );
  if (hashChange) return hashChange;
  return firstOf(
    submodules,
    async (i) => {
      const path = index.path(i);
      // Submodules are opened by text paths: one whose path is not UTF-8 cannot be, so unless it
      // is an empty directory (not initialised: clean, as in git) it counts as a change.
      const { bytes: pathBytes, starts: pathStarts, ends: pathEnds } = index.pathBytes;
      const raw = pathBytes.subarray(pathStarts[i], pathEnds[i]);
      if (!isUtf8(raw)) {
        let inside: Buffer[] | undefined;
        try {
          inside = fs.readdirSync(Buffer.concat([Buffer.from(`${root}/`), raw]), {
            encoding: 'buffer',
          });
        } catch {
          inside = undefined;
        }
        if (inside?.length === 0) return undefined;
        return `modified: ${path} (a submodule at a path that is not UTF-8 is not checked)`;
      }
      // Gone from the worktree, or replaced by something else: git lists it (D, T).
      const onDisk = lstatReader()(join(root, path));
      if (!onDisk) return `deleted: ${path}`;
      if ((onDisk.mode & MODE_TYPE_MASK) !== MODE_TREE) {
        return `modified: ${path} (a submodule replaced by a file)`;
      }
      const submodule = await repo.openSubmodule(join(root, path));
      // An uninitialised submodule (empty directory) is clean, as in git.
      if (!submodule) return undefined;
      if (submodule.commitSha !== index.oid(i)) {
        return `modified: ${path} (submodule at another commit)`;
      }
      const inner = await findFirstChange(submodule, options);
      return inner ? `modified: ${path} (submodule ${inner})` : undefined;
    },
    options,
  );
}

/**
 * `lstat` of paths given as bytes after `prefix`: the self-checked binding, or, when a test asks
 * for a particular reader, that reader on the joined path.
 */
function relativeLstat(prefix: string, lstat: LstatReader | undefined): PrefixedLstatReader {
  if (!lstat) return prefixedLstatReader(prefix);
  const prefixBytes = Buffer.from(prefix);
  return (source, start, end) => lstat(Buffer.concat([prefixBytes, source.subarray(start, end)]));
}

/** Runs `check` over `items` with bounded concurrency, returning the first defined result. */
async function firstOf<T>(
  items: readonly T[],
  check: (item: T) => Promise<string | undefined>,
  options: TreeCheckOptions,
): Promise<string | undefined> {
  let next = 0;
  let found: string | undefined;
  const worker = async (): Promise<void> => {
    while (found === undefined && next < items.length) {
      throwIfAborted(options.signal, 'Checking the worktree');
      const result = await check(items[next++] as T);
      if (result !== undefined && found === undefined) found = result;
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 8, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return found;
}

/** A directory of the index: the entries under it are `paths[start..end)` (they sort together). */
interface TrackedTreeNode {
  /**
   * Repository-relative, '' for the root, without a trailing slash, as a byte string (see
   * GitIndex.bytePath): a name that is not UTF-8 stays the name on disk.
   */
  readonly path: string;
  readonly start: number;
  readonly end: number;
  /** How many distinct names (files and directories) the index has directly in it. */
  readonly count: number;
  readonly subdirectories: readonly TrackedTreeNode[];
}

const trackedTrees = new WeakMap<GitIndex, { tree: TrackedTreeNode; exact: boolean }>();

/** '/' in a path's bytes. */
const SLASH = 0x2f;

/**
 * The directories of the index, from one pass over its sorted paths' bytes (no string and no
 * allocation per entry: only each directory's own path is decoded). `exact` is false when some
 * entry is not known to be on disk after the stat pass (a submodule, skip-worktree or
 * assume-valid entry): names are then looked up one by one instead of being counted.
 */
function trackedTree(index: GitIndex): { tree: TrackedTreeNode; exact: boolean } {
  const cached = trackedTrees.get(index);
  if (cached) return cached;
  const { count, modes } = index;
  const { bytes, starts, ends } = index.pathBytes;
  let exact = true;
  let i = 0;
  // A directory's prefix (its path and a slash) is the first `length` bytes of the path of the
  // entry that opened it: `bytes[from..from + length)`.
  const build = (from: number, length: number): TrackedTreeNode => {
    const start = i;
    let names = 0;
    const subdirectories: TrackedTreeNode[] = [];
    entries: while (i < count) {
      const pathStart = starts[i] as number;
      const pathEnd = ends[i] as number;
      if (pathEnd - pathStart < length) break;
      for (let k = 0; k < length; k++) {
        if (bytes[pathStart + k] !== bytes[from + k]) break entries;
      }
      let slash = pathStart + length;
      while (slash < pathEnd && bytes[slash] !== SLASH) slash++;
      names += 1;
      if (slash >= pathEnd - 1) {
        // A file, or a sparse-index directory entry ("dir/", never on disk as such).
        if (
          slash === pathEnd - 1 ||
          index.isUnmergedOrNotCompared(i) ||
          ((modes[i] as number) & MODE_TYPE_MASK) === MODE_GITLINK
        ) {
          exact = false;
        }
        i += 1;
      } else {
        subdirectories.push(build(pathStart, slash + 1 - pathStart));
      }
    }
    const path = length === 0 ? '' : bytes.toString('latin1', from, from + length - 1);
    return { path, start, end: i, count: names, subdirectories };
  };
  const tree = build(0, 0);
  trackedTrees.set(index, { tree, exact });
  return { tree, exact };
}

/** The names the index has directly in `node` (files and directories), as byte strings. */
function trackedNames(index: GitIndex, node: TrackedTreeNode): Set<string> {
  const names = new Set<string>();
  const from = node.path === '' ? 0 : node.path.length + 1;
  let i = node.start;
  for (const child of node.subdirectories) {
    for (; i < child.start; i++) names.add(index.bytePath(i).slice(from).replace(/\/$/, ''));
    names.add(child.path.slice(from));
    i = child.end;
  }
  for (; i < node.end; i++) names.add(index.bytePath(i).slice(from).replace(/\/$/, ''));
  return names;
}

async function findUntracked(
  repo: OpenRepository,
  options: TreeCheckOptions,
): Promise<FirstChange> {
  const root = repo.layout.worktree;
  const { index } = repo;
  const { ignoreCase } = repo.settings;
  if (repo.settings.untrackedCache) {
    const cached = await untrackedFromCache({
      worktree: root,
      index,
      trustCtime: repo.settings.trustCtime,
      excludeSources: repo.excludeSources,
      lstat: relativeLstat(`${root}/`, options.lstat),
      signal: options.signal,
      counters: options.counters,
    });
    if (cached) return cached.change;
  }
  const { tree, exact } = trackedTree(index);
  let visited = 0;
  // Git never lists a .git entry, at any depth; with core.ignoreCase it matches .GIT too.
  const isDotGit = ignoreCase
    ? (name: string) => name.length === 4 && name.toLowerCase() === '.git'
    : (name: string) => name === '.git';
  const dotGitCount = (names: readonly string[]): number => {
    let count = 0;
    for (const name of names) if (isDotGit(name)) count += 1;
    return count;
  };

  // Paths and names here are byte strings (GitIndex.bytePath), so that a name that is not UTF-8
  // is looked up, compared and counted as the bytes on disk, as git does. `text` decodes one for
  // ignore rules and messages.
  const rootBytes = Buffer.from(root).toString('latin1');
  const onDisk = (relative: string): Buffer =>
    Buffer.from(relative === '' ? rootBytes : `${rootBytes}/${relative}`, 'latin1');
  const text = (relative: string): string => Buffer.from(relative, 'latin1').toString('utf8');
  // Names only: most names are tracked, and a tracked name needs no file type (the stat pass has
  // already checked what is there). The type is looked up for the rare untracked name.
  const readNames = (relative: string): string[] => {
    if (options.counters) options.counters.directoriesRead += 1;
    try {
      return fs.readdirSync(onDisk(relative), { encoding: 'latin1' });
    } catch {
      return [];
    }
  };
  const isDirectoryOnDisk = (path: string): boolean =>
    fs.lstatSync(onDisk(path), { throwIfNoEntry: false })?.isDirectory() ?? false;
  const isIgnoredPath = (path: string, isDirectory: boolean, levels: readonly IgnoreLevel[]) =>
    isIgnored(text(path), isDirectory, levels, repo.excludes);
  const levelFor = (relative: string, names: readonly string[]): IgnoreLevel | undefined => {
    if (!names.includes('.gitignore')) return undefined;
    // Unreadable, or a directory named .gitignore (EISDIR): no rules.
    const content = readIfFile(onDisk(relative === '' ? '.gitignore' : `${relative}/.gitignore`));
    if (content === undefined) return undefined;
    return {
      base: text(relative),
      rules: compileIgnoreRules(content.toString('utf8'), ignoreCase),
    };
  };

  // Does an untracked directory hold anything git would list (a file that is not ignored, or a
  // nested repository)? Empty directories and fully ignored ones are invisible to git status.
  const hasVisibleContent = async (
    relative: string,
    levels: readonly IgnoreLevel[],
  ): Promise<boolean> => {
    const names = readNames(relative);
    // A nested repository is recognised by text paths: under a name that is not UTF-8, any .git
    // counts as one (git lists it), rather than the directory being called empty.
    if (
      dotGitCount(names) > 0 &&
      (!isUtf8(Buffer.from(relative, 'latin1')) || isNestedRepository(join(root, text(relative))))
    ) {
      return true;
    }
    const level = levelFor(relative, names);
    const inner = level ? [...levels, level] : levels;
    for (const name of names) {
      if (isDotGit(name)) continue;
      const path = `${relative}/${name}`;
      const isDirectory = isDirectoryOnDisk(path);
      if (isIgnoredPath(path, isDirectory, inner)) continue;
      if (!isDirectory) return true;
      if (await hasVisibleContent(path, inner)) return true;
    }
    return false;
  };

  /**
   * One tracked directory on the way down: whether it is ignored is decided only when an
   * untracked name is found below it, since git applies ignore rules to untracked paths only
   * (untracked files under an ignored directory stay ignored even when it holds tracked ones).
   */
  interface TrackedDirectory {
    readonly path: string;
    readonly parent: TrackedDirectory | undefined;
    /** The ignore levels that apply to this directory's own name (those of its ancestors). */
    readonly levels: readonly IgnoreLevel[];
    ignored?: boolean;
  }
  const isInIgnoredDirectory = (directory: TrackedDirectory | undefined): boolean => {
    if (!directory || directory.path === '') return false;
    directory.ignored ??=
      isInIgnoredDirectory(directory.parent) ||
      isIgnoredPath(directory.path, true, directory.levels);
    return directory.ignored;
  };

  const scan = async (node: TrackedTreeNode, directory: TrackedDirectory): Promise<FirstChange> => {
    if (++visited % 64 === 0) {
      throwIfAborted(options.signal, 'Looking for untracked files');
      await new Promise<void>((done) => setImmediate(done));
    }
    const relative = directory.path;
    const names = readNames(relative);
    const level = levelFor(relative, names);
    const inner = level ? [...directory.levels, level] : directory.levels;
    // Every tracked name is known to be on disk (the stat pass found each tracked file), so when
    // the directory holds exactly as many names as the index has children there, none of its
    // names is untracked and they need not be looked up one by one.
    const namesOnDisk = names.length - dotGitCount(names);
    if (!exact || namesOnDisk !== node.count) {
      const tracked = trackedNames(index, node);
      for (const name of names) {
        if (tracked.has(name) || isDotGit(name)) continue;
        if (isInIgnoredDirectory(directory)) return undefined;
        const path = relative === '' ? name : `${relative}/${name}`;
        const isDirectory = isDirectoryOnDisk(path);
        if (isIgnoredPath(path, isDirectory, inner)) continue;
        if (!isDirectory) return `untracked: ${text(path)}`;
        if (await hasVisibleContent(path, inner)) return `untracked: ${text(path)}/`;
      }
    }
    // Tracked files are the stat pass's business; only tracked directories are entered
    // (submodules, gitlinks, are checked as repositories, not scanned).
    for (const child of node.subdirectories) {
      const change = await scan(child, { path: child.path, parent: directory, levels: inner });
      if (change) return change;
    }
    return undefined;
  };
  return scan(tree, { path: '', parent: undefined, levels: [] });
}

/** The state of one file compared with HEAD. */
export type FileState = 'clean' | 'modified' | 'deleted' | 'not-committed';

/**
 * HEAD's entry for the path of index entry `position`, read from the index, when the index's
 * cache tree says the index holds exactly HEAD's tree (its root is HEAD's tree, so every stage-0
 * entry is HEAD's blob at that path): no tree object is read and isomorphic-git is not loaded.
 * Undefined when that cannot be told from the index: a stale or missing cache tree, or a path the
 * index does not hold as a file of its own (`position` undefined: it may sit inside a
 * sparse-index directory).
 */
async function headEntryFromIndex(
  repo: OpenRepository,
  position: number | undefined,
): Promise<TreeEntry | undefined> {
  const { index } = repo;
  const rootOid = index.cacheTreeRootOid;
  if (rootOid === undefined) return undefined;
  if (rootOid !== (await treeOfCommit(repo.layout.commondir, repo.commitSha))) return undefined;
  // An intent-to-add entry is in the index but not in its tree.
  if (position === undefined || index.stage(position) !== 0 || index.isIntentToAdd(position)) {
    return undefined;
  }
  const mode = index.modes[position] as number;
  return { mode, oid: index.oid(position), type: mode === MODE_GITLINK ? 'commit' : 'blob' };
}

/**
 * Compares one worktree file with its version in HEAD: the index's stat data answers without
 * reading the file when the index entry equals HEAD's and the stat data matches; otherwise the
 * file is hashed.
 */
export async function fileStateAgainstHead(repo: OpenRepository, path: string): Promise<FileState> {
  const { index } = repo;
  const position = index.position(path);
  const head = (await headEntryFromIndex(repo, position)) ?? (await headEntry(repo, path));
  if (!head || head.type === 'tree') return 'not-committed';
  const file = join(repo.layout.worktree, path);
  const stats = lstatReader()(file);
  if (!stats) return 'deleted';
  // Read now: the reader reuses its result object on its next call.
  const isSymlink = (stats.mode & MODE_TYPE_MASK) === MODE_SYMLINK;
  if (
    position !== undefined &&
    index.stage(position) === 0 &&
    index.oid(position) === head.oid &&
    index.modes[position] === head.mode
  ) {
    const verdict = compareStat(repo, position, stats);
    if (verdict === 'same') return 'clean';
    if (verdict === 'changed') return 'modified';
  }
  if (modeOf(stats, repo.settings.fileMode, head.mode) !== head.mode) return 'modified';
  const oid = await hashWorktreeFile(file, isSymlink);
  return oid === head.oid ? 'clean' : 'modified';
}
