import { createWriteStream } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';
import { SandboxInputError } from './errors';
import { type IoKind, type IoManifest, isPathKind } from './io-kinds';

/** One entry of an archive copied into a container. */
export interface ArchiveEntry {
  /** Path inside the archive, relative, `/`-separated. */
  name: string;
  /** File content; absent for a folder. */
  data?: Buffer;
  /** Permission bits. */
  mode: number;
}

/** Packs entries into a tar archive (in memory: inputs are bounded by the inputs tmpfs size). */
export async function packArchive(entries: readonly ArchiveEntry[]): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const entry of entries) {
    if (entry.data) {
      pack.entry({ name: entry.name, mode: entry.mode, mtime: new Date(0) }, entry.data);
    } else {
      pack.entry({ name: entry.name, type: 'directory', mode: entry.mode, mtime: new Date(0) });
    }
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

function hostPathOf(uri: string): string | undefined {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return undefined;
  return uri;
}

/** An input archive entry before its file is read: `hostPath` is read only once all sizes fit. */
interface PlannedEntry extends ArchiveEntry {
  hostPath?: string;
  size: number;
}

async function walkDir(root: string, prefix: string, entries: PlannedEntry[]): Promise<void> {
  entries.push({ name: `${prefix}/`, mode: 0o755, size: 0 });
  for (const item of await readdir(root, { withFileTypes: true })) {
    const path = join(root, item.name);
    const name = `${prefix}/${item.name}`;
    if (item.isDirectory()) await walkDir(path, name, entries);
    else if (item.isFile()) {
      entries.push({ name, hostPath: path, size: (await lstat(path)).size, mode: 0o444 });
    } else {
      throw new Error(`${path} is neither a file nor a folder (symbolic links are not copied)`);
    }
  }
}

function textOf(kind: IoKind, value: unknown): Buffer {
  switch (kind) {
    case 'string':
      return Buffer.from(String(value), 'utf8');
    case 'integer':
    case 'number':
    case 'duration':
      return Buffer.from(String(value), 'utf8');
    case 'boolean':
      return Buffer.from(value ? 'true' : 'false', 'utf8');
    case 'datetime':
      return Buffer.from((value as Date).toISOString(), 'utf8');
    case 'bytes':
      return Buffer.from(value as Uint8Array);
    default:
      return Buffer.from(
        JSON.stringify(value, (_key, v) => jsonSafe(v)),
        'utf8',
      );
  }
}

const jsonSafe = (v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);

/**
 * Turns checked input values into archive entries under `inputs/`: one file per scalar input,
 * the file or folder itself for `fileRef()` / `dirRef()` inputs (read from the host path or
 * `file://` URI). Absent optional inputs get no file. Inputs larger than `maxBytes` in total
 * (by their sizes on disk, a sparse file at its full length) are refused before any file is
 * read, with a {@link SandboxInputError} naming the sizes.
 */
export async function inputEntries(
  sandbox: string,
  manifest: IoManifest,
  values: Record<string, unknown>,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<ArchiveEntry[]> {
  const planned: PlannedEntry[] = [];
  const sizes = new Map<string, number>();
  const cannotRead = (name: string, kind: IoKind, path: string, error: unknown) =>
    new SandboxInputError(
      `Sandbox "${sandbox}": cannot read input "${name}" from ${JSON.stringify(path)}: ${(error as Error).message}. Pass an existing local ${kind === 'file' ? 'file' : 'folder'}.`,
      { sandbox, input: name },
      error,
    );
  for (const [name, kind] of Object.entries(manifest)) {
    const value = values[name];
    if (value === undefined || value === null) continue;
    const first = planned.length;
    if (isPathKind(kind)) {
      const uri = (value as { uri: string }).uri;
      const path = hostPathOf(uri);
      if (!path) {
        throw new SandboxInputError(
          `Sandbox "${sandbox}": input "${name}" has uri ${JSON.stringify(uri)}, which is not on this machine. Pass a local path or a file:// URI (download remote data first).`,
          { sandbox, input: name },
        );
      }
      try {
        const info = await lstat(path);
        if (kind === 'file' && info.isFile()) {
          planned.push({ name: `inputs/${name}`, hostPath: path, size: info.size, mode: 0o444 });
        } else if (kind === 'dir' && info.isDirectory()) {
          await walkDir(path, `inputs/${name}`, planned);
        } else {
          throw new Error(`${path} is not a ${kind === 'file' ? 'file' : 'folder'}`);
        }
      } catch (error) {
        throw cannotRead(name, kind, path, error);
      }
    } else {
      const data = textOf(kind, value);
      planned.push({ name: `inputs/${name}`, data, size: data.length, mode: 0o444 });
    }
    sizes.set(
      name,
      planned.slice(first).reduce((sum, entry) => sum + entry.size, 0),
    );
  }
  const total = [...sizes.values()].reduce((sum, size) => sum + size, 0);
  if (total > maxBytes) {
    const [input, largest] = [...sizes].reduce((a, b) => (b[1] > a[1] ? b : a));
    throw new SandboxInputError(
      `Sandbox "${sandbox}": the inputs take ${total} bytes, more than the ${maxBytes} bytes of /var/inputs (resources.inputsSize); the largest is "${input}" (${largest} bytes). Raise resources.inputsSize or pass smaller inputs.`,
      { sandbox, input },
    );
  }
  const entries: ArchiveEntry[] = [];
  for (const { name, mode, data, hostPath } of planned) {
    if (!hostPath) {
      entries.push(data ? { name, mode, data } : { name, mode });
      continue;
    }
    const input = name.split('/')[1] ?? '';
    try {
      entries.push({ name, mode, data: await readFile(hostPath) });
    } catch (error) {
      throw cannotRead(input, manifest[input] ?? 'file', hostPath, error);
    }
  }
  return entries;
}

/** What came out of /var/outputs: scalar files in memory, files and folders on the host. */
export interface CollectedOutputs {
  /** Content of each top-level output file, by name. */
  files: Map<string, Buffer>;
  /** Top-level names that are folders. */
  dirs: Set<string>;
  /** Top-level names that are regular files (of any kind). */
  regularFiles: Set<string>;
  /** Where file and folder outputs were written on the host. */
  hostDir: string;
}

/** Thrown while reading outputs when they exceed `maxBytes` in total. */
export class OutputTooLargeError extends Error {
  constructor(
    readonly entry: string,
    readonly maxBytes: number,
  ) {
    super(`output "${entry}" goes over the cap of ${maxBytes} bytes for all outputs`);
  }
}

/**
 * Reads a tar stream of /var/outputs (as written by `tar -c -C /var/outputs <names>`), as it
 * arrives. Files of `file`/`dir` outputs are written under `hostDir`, replacing what a
 * previous run left at `hostDir/<name>`. The size of every entry (declared or not, as the
 * header gives it, so a sparse file counts at its full length) and of every hard link copied
 * counts against `maxBytes`; the first entry over it fails the read with
 * {@link OutputTooLargeError} before its bytes are read.
 */
export async function collectOutputs(
  tar: Readable,
  manifest: IoManifest,
  hostDir: string,
  maxBytes: number,
): Promise<CollectedOutputs> {
  const files = new Map<string, Buffer>();
  const dirs = new Set<string>();
  const regularFiles = new Set<string>();
  const onHost = Object.entries(manifest).filter(([, k]) => isPathKind(k));
  if (onHost.length) {
    await mkdir(hostDir, { recursive: true });
    // Each run's file and folder outputs replace the previous run's in a reused outputDir.
    await Promise.all(
      onHost.map(([name]) => rm(join(hostDir, name), { recursive: true, force: true })),
    );
  }
  // Regular files read so far, by path, for hard links to them: on the host or in memory.
  const written = new Map<string, { hostPath?: string; data?: Buffer; size: number }>();
  const safePath = (name: string): string | undefined => {
    const path = name.replace(/^\.\//, '').replace(/\/$/, '');
    if (!path || path.startsWith('/') || path.split('/').includes('..')) return undefined;
    return path;
  };
  let total = 0;
  const extractor = tarExtract();
  extractor.on('entry', (header, stream, next) => {
    const path = safePath(header.name) ?? '';
    const top = path.split('/')[0] ?? '';
    const kind = manifest[top];
    const skip = () => {
      stream.on('end', () => next());
      stream.resume();
    };
    const fail = (error: unknown) => {
      // The entry stream is torn down with the error too; the pipeline reports it once.
      stream.on('error', () => undefined);
      stream.resume();
      next(error as Error);
    };
    const count = (bytes: number) => {
      total += bytes;
      return total <= maxBytes;
    };
    // Counted before anything else: whatever /var/outputs holds, its size is bounded.
    if (!count(header.size ?? 0))
      return fail(new OutputTooLargeError(top || header.name, maxBytes));
    // Only declared outputs are read; anything else is skipped.
    if (!path || !kind) return skip();
    const target = join(hostDir, path);
    const onHostDir = isPathKind(kind);
    if (onHostDir && relative(hostDir, target).startsWith(`..${sep}`)) return skip();
    if (header.type === 'directory') {
      if (path === top) dirs.add(top);
      if (kind === 'dir') {
        mkdir(target, { recursive: true }).then(() => skip(), fail);
        return;
      }
      return skip();
    }
    if (header.type === 'link') {
      // A hard link to a file read earlier in this archive: materialised as a copy.
      const source = written.get(safePath(header.linkname ?? '') ?? '');
      if (!source) return skip();
      if (!count(source.size)) return fail(new OutputTooLargeError(top, maxBytes));
      if (path === top) regularFiles.add(top);
      written.set(path, source);
      if (onHostDir) {
        mkdir(dirname(target), { recursive: true })
          .then(() =>
            source.hostPath
              ? copyFile(source.hostPath, target)
              : writeFile(target, source.data ?? ''),
          )
          .then(() => skip(), fail);
        return;
      }
      if (path !== top) return skip();
      if (!source.hostPath) {
        files.set(top, source.data ?? Buffer.alloc(0));
        return skip();
      }
      // Its source was streamed to the host (a file or folder output): read it back, a size
      // already counted against the cap.
      readFile(source.hostPath).then((data) => {
        files.set(top, data);
        skip();
      }, fail);
      return;
    }
    if (header.type !== 'file') return skip();
    if (path === top) regularFiles.add(top);
    const size = header.size ?? 0;
    if (onHostDir) {
      mkdir(dirname(target), { recursive: true })
        .then(() => pipeline(stream, createWriteStream(target)))
        .then(() => {
          written.set(path, { hostPath: target, size });
          next();
        }, fail);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const data = Buffer.concat(chunks);
      if (path === top) files.set(top, data);
      written.set(path, { data, size });
      next();
    });
  });
  await pipeline(tar, extractor);
  return { files, dirs, regularFiles, hostDir };
}

/**
 * Turns the content of an output file into the value its schema expects (before zod checks
 * it). Throws an `Error` saying what was wrong; the caller names the output.
 */
export function decodeOutput(kind: IoKind, name: string, collected: CollectedOutputs): unknown {
  if (isPathKind(kind)) {
    const present = kind === 'dir' ? collected.dirs : collected.regularFiles;
    if (!present.has(name)) {
      if (collected.dirs.has(name) || collected.regularFiles.has(name)) {
        throw new Error(`/var/outputs/${name} is not a ${kind === 'dir' ? 'folder' : 'file'}`);
      }
      throw new Error('missing');
    }
    return { uri: join(collected.hostDir, name) };
  }
  const data = collected.files.get(name);
  if (data === undefined) throw new Error('missing');
  if (kind === 'bytes') return new Uint8Array(data);
  const text = data.toString('utf8');
  const trimmed = text.trim();
  switch (kind) {
    case 'string':
      return text;
    case 'integer': {
      if (!/^[-+]?\d+$/.test(trimmed))
        throw new Error(`${JSON.stringify(clip(text))} is not an integer`);
      const big = BigInt(trimmed);
      return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER)
        ? Number(big)
        : big;
    }
    case 'number':
    case 'duration': {
      const n = trimmed === '' ? Number.NaN : Number(trimmed);
      if (Number.isNaN(n) && trimmed !== 'NaN') {
        throw new Error(`${JSON.stringify(clip(text))} is not a number`);
      }
      return n;
    }
    case 'boolean': {
      const lower = trimmed.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      throw new Error(`${JSON.stringify(clip(text))} is not true or false`);
    }
    case 'datetime': {
      const iso = /(Z|[+-]\d\d:?\d\d)$/i.test(trimmed) ? trimmed : `${trimmed}Z`;
      const date = new Date(iso);
      if (Number.isNaN(date.getTime())) {
        throw new Error(`${JSON.stringify(clip(text))} is not an ISO 8601 date`);
      }
      return date;
    }
    default:
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new Error(`${JSON.stringify(clip(text))} is not JSON (${(error as Error).message})`);
      }
  }
}

const clip = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}...` : text);
