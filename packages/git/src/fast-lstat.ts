import * as fs from 'node:fs';

/**
 * The `lstat` numbers a status check compares with the index. The object a {@link LstatReader}
 * returns is reused: it holds one path's numbers until the next call.
 */
export interface LstatNumbers {
  mode: number;
  ino: number;
  uid: number;
  gid: number;
  size: number;
  /** Computed as Node computes `Stats.mtimeMs`, so comparisons give the same verdicts. */
  mtimeMs: number;
  ctimeMs: number;
}

/**
 * `lstat` of `path` (no symlink followed): its numbers, valid until the next call, or undefined
 * when nothing is there: no such entry (ENOENT), or a parent that is not a directory (ENOTDIR, as
 * when a tracked directory has been replaced by a file; git counts both as missing). Any other
 * failure throws what `fs.lstatSync` throws.
 */
export type LstatReader = (path: string | Buffer) => LstatNumbers | undefined;

/**
 * The part of Node's internal fs binding used here: `lstatSync` calls it the same way, with the
 * path as a string or, for a Buffer path, as bytes.
 */
export interface FsBinding {
  lstat(path: string | Buffer, bigint: false, request: undefined, throwIfNoEntry: false): unknown;
}

/**
 * `lstat` of the path made of `prefix` (given when the reader was made) followed by the UTF-8
 * bytes `source[start..end)`: the same result as a {@link LstatReader} given that path as a
 * string, without making a string per call. The status pass reads each tracked file's path from
 * the index's own bytes this way.
 */
export type PrefixedLstatReader = (
  source: Buffer,
  start: number,
  end: number,
) => LstatNumbers | undefined;

/**
 * The binding's own result for one path: an array of numbers in Node's `kFsStatsFieldsNumber`
 * order (see {@link LstatField}), valid until the next `lstat` in this process; undefined when
 * nothing is there; null when this path cannot be read that way (a NUL in its bytes, or a throw
 * for it), so that the caller asks a {@link PrefixedLstatReader}, which answers as
 * `fs.lstatSync` does.
 */
export type RawLstatReader = (
  source: Buffer,
  start: number,
  end: number,
) => Float64Array | undefined | null;

/** Where Node's binding puts each field in the array it returns. */
export const LstatField = {
  mode: 1,
  uid: 3,
  gid: 4,
  ino: 7,
  size: 8,
  mtimeSeconds: 12,
  mtimeNanoseconds: 13,
  ctimeSeconds: 14,
  ctimeNanoseconds: 15,
} as const;
const DEV = 0;
const MODE = LstatField.mode;
const NLINK = 2;
const UID = LstatField.uid;
const GID = LstatField.gid;
const RDEV = 5;
const INO = LstatField.ino;
const SIZE = LstatField.size;
const MTIME_SECONDS = LstatField.mtimeSeconds;
const MTIME_NANOSECONDS = LstatField.mtimeNanoseconds;
const CTIME_SECONDS = LstatField.ctimeSeconds;
const CTIME_NANOSECONDS = LstatField.ctimeNanoseconds;
const FIELDS = 18;

/** 2^32: git stores inode numbers and sizes truncated to 32 bits. */
export const TWO_TO_32 = 2 ** 32;

/** Stat data as git stores it: times as `Stats.*Ms` numbers, the rest truncated to 32 bits. */
export interface StoredStatNumbers {
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

/**
 * Whether `stats` (from `lstat` now) matches stat data git stored, as git's `match_stat_data`
 * compares them (ctime only when `trustCtime`); 64-bit numbers are compared truncated to 32 bits,
 * as git stores them.
 */
export function matchesStoredStat(
  stats: LstatNumbers,
  stored: StoredStatNumbers,
  trustCtime: boolean,
): boolean {
  return (
    stats.mtimeMs === stored.mtimeMs &&
    (!trustCtime || stats.ctimeMs === stored.ctimeMs) &&
    stats.ino % TWO_TO_32 === stored.ino &&
    stats.uid === stored.uid &&
    stats.gid === stored.gid &&
    stats.size % TWO_TO_32 === stored.size
  );
}

/**
 * `Stats.*Ms` from seconds and nanoseconds, with Node's own arithmetic, so that stored stat data
 * converted with it compares exactly with what `lstat` reports.
 */
export function milliseconds(seconds: number, nanoseconds: number): number {
  return seconds * 1000 + nanoseconds / 1e6;
}

function fromStats(stats: fs.Stats | undefined, into: LstatNumbers): LstatNumbers | undefined {
  if (stats === undefined) return undefined;
  into.mode = stats.mode;
  into.ino = stats.ino;
  into.uid = stats.uid;
  into.gid = stats.gid;
  into.size = stats.size;
  into.mtimeMs = stats.mtimeMs;
  into.ctimeMs = stats.ctimeMs;
  return into;
}

const NO_ENTRY_IS_UNDEFINED = { throwIfNoEntry: false } as const;

function emptyNumbers(): LstatNumbers {
  return { mode: 0, ino: 0, uid: 0, gid: 0, size: 0, mtimeMs: 0, ctimeMs: 0 };
}

/** `fs.lstatSync` as a {@link LstatReader}, without a new result object per call. */
function createPortableReader(): LstatReader {
  const numbers = emptyNumbers();
  return (path) => {
    let stats: fs.Stats | undefined;
    try {
      stats = fs.lstatSync(path, NO_ENTRY_IS_UNDEFINED);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOTDIR') return undefined;
      throw error;
    }
    return fromStats(stats, numbers);
  };
}

/**
 * Node's internal fs binding, when using it cannot be noticed: not under the permission model
 * (the binding would bypass its checks, and `process.binding` throws there), not when
 * `process.binding` has been wrapped (`--pending-deprecation` or `NODE_PENDING_DEPRECATION=1` wrap
 * it to emit DEP0111; a wrapper from anyone else is not ours to call), not on Windows (paths there
 * need `toNamespacedPath`, and the gain was measured on Linux only).
 */
function processFsBinding(): FsBinding | undefined {
  const host = process as unknown as {
    binding?: ((name: string) => unknown) & { name: string };
    permission?: unknown;
  };
  if (process.platform === 'win32' || host.permission !== undefined) return undefined;
  if (typeof host.binding !== 'function' || host.binding.name !== 'binding') return undefined;
  if (process.env.NODE_PENDING_DEPRECATION || process.execArgv.includes('--pending-deprecation')) {
    return undefined;
  }
  try {
    const binding = host.binding('fs') as Partial<FsBinding> | undefined;
    return typeof binding?.lstat === 'function' ? (binding as FsBinding) : undefined;
  } catch {
    return undefined;
  }
}

/** Copies the numbers a status compares from the binding's result array. */
function fromFields(fields: Float64Array, into: LstatNumbers): LstatNumbers {
  into.mode = fields[MODE] as number;
  into.ino = fields[INO] as number;
  into.uid = fields[UID] as number;
  into.gid = fields[GID] as number;
  into.size = fields[SIZE] as number;
  into.mtimeMs = milliseconds(fields[MTIME_SECONDS] as number, fields[MTIME_NANOSECONDS] as number);
  into.ctimeMs = milliseconds(fields[CTIME_SECONDS] as number, fields[CTIME_NANOSECONDS] as number);
  return into;
}

/**
 * Whether `binding.lstat` gives what `fs.lstatSync` gives: the same numbers for `probe` (a file
 * that exists), undefined for a path that does not exist, and a throw where `lstatSync` throws
 * (a path through a file: ENOTDIR). The path is given both as a string and as bytes ending in a
 * NUL inside a longer buffer, the form {@link createPrefixedLstatReader} uses: the binding must
 * read such bytes as a C string, up to the NUL.
 */
function bindingAgrees(binding: FsBinding, probe: string): boolean {
  try {
    const stats = fs.lstatSync(probe);
    const missing = `${probe}.flyte-git-missing-${process.pid}`;
    if (fs.lstatSync(missing, NO_ENTRY_IS_UNDEFINED) !== undefined) return false;
    for (const form of [(path: string) => path, nulTerminatedInLongerBuffer]) {
      const raw = binding.lstat(form(probe), false, undefined, false);
      if (!(raw instanceof Float64Array) || raw.length < FIELDS) return false;
      const fields = Array.from(raw.subarray(0, FIELDS));
      const same =
        fields[DEV] === stats.dev &&
        fields[MODE] === stats.mode &&
        fields[NLINK] === stats.nlink &&
        fields[UID] === stats.uid &&
        fields[GID] === stats.gid &&
        fields[RDEV] === stats.rdev &&
        fields[INO] === stats.ino &&
        fields[SIZE] === stats.size &&
        milliseconds(fields[MTIME_SECONDS] as number, fields[MTIME_NANOSECONDS] as number) ===
          stats.mtimeMs &&
        milliseconds(fields[CTIME_SECONDS] as number, fields[CTIME_NANOSECONDS] as number) ===
          stats.ctimeMs;
      if (!same) return false;
      if (binding.lstat(form(missing), false, undefined, false) !== undefined) return false;
    }
  } catch {
    return false;
  }
  const throughFile = `${probe}/x`;
  let portableThrows = false;
  try {
    fs.lstatSync(throughFile, NO_ENTRY_IS_UNDEFINED);
  } catch {
    portableThrows = true;
  }
  try {
    binding.lstat(throughFile, false, undefined, false);
    return !portableThrows;
  } catch {
    return portableThrows;
  }
}

/** `path`'s UTF-8 bytes and a NUL, followed by bytes that are not part of it. */
function nulTerminatedInLongerBuffer(path: string): Buffer {
  return Buffer.from(`${path}\0/not-part-of-the-path`);
}

/** Options of {@link createLstatReader} and {@link createPrefixedLstatReader}. */
export interface LstatReaderOptions {
  /**
   * The binding to use (tests inject fakes); `null` forces `fs.lstatSync`. Default:
   * `process.binding('fs')` when that emits no warning and bypasses no permission check.
   */
  binding?: FsBinding | null;
  /** An existing file for the self-check. Default: the Node executable. */
  probe?: string;
}

/** The binding to call, once it has passed its self-check; null when `fs.lstatSync` must do. */
function checkedBinding(options: LstatReaderOptions): FsBinding | null {
  const binding = options.binding === undefined ? processFsBinding() : options.binding;
  return binding && bindingAgrees(binding, options.probe ?? process.execPath) ? binding : null;
}

/**
 * A {@link LstatReader}. With a binding that passes a self-check against `fs.lstatSync`, it
 * calls the binding directly; otherwise it is `fs.lstatSync`.
 *
 * Why: a status check lstats every tracked file, and in a process that has just started
 * `fs.lstatSync` costs about twice the syscall, because each call builds a `Stats` object with
 * four `Date`s (Node 20) that then has to be collected. The binding `lstatSync` itself calls
 * fills a shared `Float64Array` instead: measured on 20,000 files in a fresh process, 79-100 ms
 * against 105-180 ms. The cost: a dependency on an internal calling convention, which is why it
 * is checked once per process (a few lstat calls) and dropped for good when anything differs,
 * and why any throw for one path is answered by `fs.lstatSync` for that path, so errors stay
 * Node's own.
 */
export function createLstatReader(options: LstatReaderOptions = {}): LstatReader {
  return readerThrough(checkedBinding(options));
}

function readerThrough(binding: FsBinding | null): LstatReader {
  const portable = createPortableReader();
  if (!binding) return portable;
  const numbers = emptyNumbers();
  return (path) => {
    // A NUL would end the path early in C++; lstatSync rejects it, so let it.
    if (path.includes('\0')) return portable(path);
    let raw: unknown;
    try {
      raw = binding.lstat(path, false, undefined, false);
    } catch {
      return portable(path);
    }
    return raw === undefined ? undefined : fromFields(raw as Float64Array, numbers);
  };
}

/**
 * A {@link PrefixedLstatReader} for paths under `prefix`. Through a binding that passes the
 * self-check, each call copies the path's bytes after the prefix's in one reused buffer, ends
 * them with a NUL and hands the binding that buffer, as `lstatSync` hands it a Buffer path: no
 * string, no allocation per call (measured on 20,000 files in a fresh process: 73-80 ms against
 * 89-95 ms for decoding each path and joining it to the prefix). Anything else (no usable
 * binding, a NUL in the bytes, a throw for one path) asks the {@link LstatReader} with the whole
 * path as a Buffer, so results and errors are the same. Bytes are never decoded: a name that is
 * not valid UTF-8 is looked up as it is on disk.
 */
export function createPrefixedLstatReader(
  prefix: string,
  options: LstatReaderOptions = {},
): PrefixedLstatReader {
  return prefixedReaderThrough(prefix, checkedBinding(options));
}

function prefixedReaderThrough(prefix: string, binding: FsBinding | null): PrefixedLstatReader {
  const fallback = readerThrough(binding);
  const prefixBytes = Buffer.from(prefix);
  // The path as a Buffer, not a decoded string: a name that is not valid UTF-8 stays the name on
  // disk, as it is for git.
  const whole = (source: Buffer, start: number, end: number): LstatNumbers | undefined =>
    fallback(Buffer.concat([prefixBytes, source.subarray(start, end)]));
  if (!binding) return whole;
  const raw = rawReaderThrough(prefixBytes, binding);
  const numbers = emptyNumbers();
  return (source, start, end) => {
    const fields = raw(source, start, end);
    if (fields === null) return whole(source, start, end);
    return fields === undefined ? undefined : fromFields(fields, numbers);
  };
}

function rawReaderThrough(prefixBytes: Buffer, binding: FsBinding): RawLstatReader {
  // Sized for the longest path so far: the binding copies the whole buffer on every call.
  let path = Buffer.alloc(prefixBytes.length + 256);
  prefixBytes.copy(path);
  return (source, start, end) => {
    if (prefixBytes.length + end - start >= path.length) {
      path = Buffer.alloc(2 * (prefixBytes.length + end - start));
      prefixBytes.copy(path);
    }
    let at = prefixBytes.length;
    for (let k = start; k < end; k++) {
      const byte = source[k] as number;
      if (byte === 0) return null;
      path[at++] = byte;
    }
    path[at] = 0;
    try {
      return binding.lstat(path, false, undefined, false) as Float64Array | undefined;
    } catch {
      return null;
    }
  };
}

// The process's binding verdict, decided once: the self-check's lstat calls are not repeated.
let sharedBinding: FsBinding | null | undefined;

function sharedCheckedBinding(): FsBinding | null {
  if (sharedBinding === undefined) sharedBinding = checkedBinding({});
  return sharedBinding;
}

let sharedReader: LstatReader | undefined;

/** The process's {@link LstatReader}, created (and self-checked) on first use. */
export function lstatReader(): LstatReader {
  sharedReader ??= readerThrough(sharedCheckedBinding());
  return sharedReader;
}

/** A {@link PrefixedLstatReader} for `prefix` that uses the process's self-checked binding. */
export function prefixedLstatReader(prefix: string): PrefixedLstatReader {
  return prefixedReaderThrough(prefix, sharedCheckedBinding());
}

/**
 * A {@link RawLstatReader} for paths under `prefix` through the process's self-checked binding,
 * or undefined when there is none. It spares a hot loop the copy into {@link LstatNumbers}: the
 * loop reads the fields it compares straight from the binding's array, and asks a
 * {@link PrefixedLstatReader} whenever it gets null or anything it does not accept at once.
 */
export function rawPrefixedLstatReader(prefix: string): RawLstatReader | undefined {
  const binding = sharedCheckedBinding();
  return binding ? rawReaderThrough(Buffer.from(prefix), binding) : undefined;
}
