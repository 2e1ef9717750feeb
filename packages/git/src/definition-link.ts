import { readFileSync } from 'node:fs';
import { findSourceMap } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { type GitLink, GitStatus, noLink } from './git-status';

/**
 * A place in source code, 1-based. This is the shape of `TaskDefinition.definedAt` from
 * `@flyte/idl` (its `DefinitionSite`), declared here structurally because `@flyte/git` depends on
 * no other `@flyte` package.
 */
export interface SourceLocation {
  /** Absolute path (or `file://` URL) of the source file. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** Options of {@link linkForDefinition}. */
export interface LinkForDefinitionOptions {
  /** Cancels the repository lookup. */
  signal?: AbortSignal;
}

/**
 * The permanent link for a task's definition site (`task.definedAt`): the repository is found
 * from the file's own directory (so a file in a submodule or another repository links to that
 * repository), and a position in generated JavaScript (`dist/pipeline.js`) is first mapped through
 * its source map to the original source (`src/pipeline.ts`). Never throws: when no link can be made
 * `url` is undefined and `reason` says why.
 *
 * @param definedAt - Where the task was defined; `undefined` (no definition site) gives no link.
 * @param options - Cancellation.
 */
export async function linkForDefinition(
  definedAt: SourceLocation | undefined,
  options: LinkForDefinitionOptions = {},
): Promise<GitLink> {
  if (!definedAt) {
    return noLink('the task has no definition site');
  }
  try {
    const site = mapToOriginalSource(definedAt);
    const status = await GitStatus.fromRepo(dirname(site.file), {
      checkTree: false,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return await status.buildUrl(site.file, site.line);
  } catch (error) {
    return noLink(`no link for ${definedAt.file}:${definedAt.line}: ${(error as Error).message}`);
  }
}

const traceMaps = new Map<string, TraceMap | null>();

/**
 * Maps a position in generated JavaScript to its original source through the file's source map
 * (one Node already loaded, else the file's `sourceMappingURL`). Returns the location unchanged
 * when there is no map or it does not cover the position. `file://` URLs become paths.
 */
export function mapToOriginalSource(location: SourceLocation): SourceLocation {
  const file = location.file.startsWith('file:') ? fileURLToPath(location.file) : location.file;
  const site = { file, line: location.line, column: location.column };
  const map = traceMapOf(file);
  if (!map) return site;
  const original = originalPositionFor(map, {
    line: site.line,
    column: Math.max(0, site.column - 1),
  });
  if (original.source === null || original.line === null) return site;
  const source = original.source.startsWith('file:')
    ? fileURLToPath(original.source)
    : isAbsolute(original.source)
      ? original.source
      : resolve(dirname(file), original.source);
  return { file: source, line: original.line, column: (original.column ?? 0) + 1 };
}

function traceMapOf(file: string): TraceMap | null {
  const cached = traceMaps.get(file);
  if (cached !== undefined) return cached;
  let map: TraceMap | null = null;
  try {
    const loaded = findSourceMap(file);
    map = loaded
      ? new TraceMap(loaded.payload as ConstructorParameters<typeof TraceMap>[0], file)
      : readSourceMap(file);
  } catch {
    // An unreadable or malformed map costs the mapping, never the link.
    map = null;
  }
  traceMaps.set(file, map);
  return map;
}

const SOURCE_MAPPING_URL = /\/\/[#@] sourceMappingURL=(\S+)\s*$/;

function readSourceMap(file: string): TraceMap | null {
  if (!/\.[cm]?js$/.test(file)) return null;
  const text = readFileSync(file, 'utf8');
  const url = SOURCE_MAPPING_URL.exec(text.slice(-4096))?.[1];
  if (!url) return null;
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const payload = url.slice(comma + 1);
    const json = url.slice(0, comma).endsWith(';base64')
      ? Buffer.from(payload, 'base64').toString('utf8')
      : decodeURIComponent(payload);
    return new TraceMap(json, file);
  }
  const mapFile = resolve(dirname(file), decodeURIComponent(url));
  return new TraceMap(readFileSync(mapFile, 'utf8'), mapFile);
}
