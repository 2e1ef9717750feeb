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
 * when nothing is there. Throws exactly what `fs.lstatSync(path, { throwIfNoEntry: false })`
 * throws.
 */
export type LstatReader = (path: string) => LstatNumbers | undefined;

/** The part of Node's internal fs binding used here: `lstatSync` calls it the same way. */
export interface FsBinding {
  lstat(path: string, bigint: false, request: undefined, throwIfNoEntry: false): unknown;
}

/** Where Node's binding puts each field in the array it returns (its `kFsStatsFieldsNumber` order). */
const DEV = 0;
const MODE = 1;
const NLINK = 2;
const UID = 3;
const GID = 4;
const RDEV = 5;
const INO = 7;
const SIZE = 8;
const MTIME_SECONDS = 12;
const MTIME_NANOSECONDS = 13;
const CTIME_SECONDS = 14;
const CTIME_NANOSECONDS = 15;
const FIELDS = 18;

/** `Stats.*Ms` from seconds and nanoseconds, with Node's own arithmetic. */
function milliseconds(seconds: number, nanoseconds: number): number {
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

/** The reader every caller shares unless given another: `fs.lstatSync`, made allocation-free. */
function createPortableReader(): LstatReader {
  const numbers = emptyNumbers();
  return (path) => fromStats(fs.lstatSync(path, NO_ENTRY_IS_UNDEFINED), numbers);
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

/**
 * Whether `binding.lstat` gives what `fs.lstatSync` gives: the same numbers for `probe` (a file
 * that exists), undefined for a path that does not exist, and a throw where `lstatSync` throws
 * (a path through a file: ENOTDIR).
 */
function bindingAgrees(binding: FsBinding, probe: string): boolean {
  try {
    const raw = binding.lstat(probe, false, undefined, false);
    if (!(raw instanceof Float64Array) || raw.length < FIELDS) return false;
    const fields = Array.from(raw.subarray(0, FIELDS));
    const stats = fs.lstatSync(probe);
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
    const missing = `${probe}.flyte-git-missing-${process.pid}`;
    if (fs.lstatSync(missing, NO_ENTRY_IS_UNDEFINED) !== undefined) return false;
    if (binding.lstat(missing, false, undefined, false) !== undefined) return false;
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

/**
 * A {@link LstatReader}. With a binding that passes a self-check against `fs.lstatSync`, it
 * calls the binding directly; otherwise it is `fs.lstatSync`.
 *
 * Why: a status check lstats every tracked file, and in a process that has just started
 * `fs.lstatSync` costs about twice the syscall, because each call builds a `Stats` object with
 * four `Date`s (Node 20) that then has to be collected. The binding `lstatSync` itself calls
 * fills a shared `Float64Array` instead: measured on 20,000 files in a fresh process, 79-100 ms
 * against 105-180 ms. The cost: a dependency on an internal calling convention, which is why it
 * is checked once (three lstat calls) and dropped for good when anything differs, and why any
 * throw for one path is answered by `fs.lstatSync` for that path, so errors stay Node's own.
 *
 * @param options.binding - The binding to use (tests inject fakes); `null` forces `fs.lstatSync`.
 *   Default: `process.binding('fs')` when that emits no warning and bypasses no permission check.
 * @param options.probe - An existing file for the self-check. Default: the Node executable.
 */
export function createLstatReader(
  options: { binding?: FsBinding | null; probe?: string } = {},
): LstatReader {
  const portable = createPortableReader();
  const binding = options.binding === undefined ? processFsBinding() : options.binding;
  if (!binding || !bindingAgrees(binding, options.probe ?? process.execPath)) return portable;
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
    if (raw === undefined) return undefined;
    const fields = raw as Float64Array;
    numbers.mode = fields[MODE] as number;
    numbers.ino = fields[INO] as number;
    numbers.uid = fields[UID] as number;
    numbers.gid = fields[GID] as number;
    numbers.size = fields[SIZE] as number;
    numbers.mtimeMs = milliseconds(
      fields[MTIME_SECONDS] as number,
      fields[MTIME_NANOSECONDS] as number,
    );
    numbers.ctimeMs = milliseconds(
      fields[CTIME_SECONDS] as number,
      fields[CTIME_NANOSECONDS] as number,
    );
    return numbers;
  };
}

let sharedReader: LstatReader | undefined;

/** The process's {@link LstatReader}, created (and self-checked) on first use. */
export function lstatReader(): LstatReader {
  sharedReader ??= createLstatReader();
  return sharedReader;
}
