import { readFileSync } from 'node:fs';
import { findSourceMap } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

/** Where in the user's source a task was created. `line` and `column` are 1-based. */
export interface DefinitionSite {
  /** Absolute path of the source file (the original `.ts` file when a source map exists). */
  file: string;
  line: number;
  column: number;
}

// "    at fn (/a/b.js:1:2)", "    at async fn (file:///a/b.js:1:2)": the location is in the
// last parentheses. "    at file:///a/b.mjs:1:2" (ESM top level) has none. A folder name may
// hold "(" or ")" either way, so the form is told by the line's end, and the location is
// matched greedily from the first "(", not lazily up to it.
const FRAME_WITH_NAME = /\((.+):(\d+):(\d+)\)$/;
const FRAME_BARE = /^\s*at (?:async )?(.+):(\d+):(\d+)$/;

function parseFrame(line: string): [location: string, line: string, column: string] | undefined {
  const text = line.trimEnd();
  const match = (text.endsWith(')') ? FRAME_WITH_NAME : FRAME_BARE).exec(text);
  return match ? [match[1] ?? '', match[2] ?? '0', match[3] ?? '0'] : undefined;
}

/**
 * The definition site of the code that called `factory`: packages that create tasks call this
 * from their factory function (`defineTask`, `createSandbox`, ...), passing that function, and get
 * the user's call site. Positions are mapped through source maps, whether the runtime already
 * maps stacks (`--enable-source-maps`, test runners) or the file carries a `sourceMappingURL`.
 *
 * Returns `undefined` when no user frame is found (for example, called from the REPL).
 *
 * @param factory - The public function whose caller is wanted; frames above it are skipped.
 */
export function captureDefinitionSite(
  // biome-ignore lint/suspicious/noExplicitAny: any function, of any signature, marks the boundary.
  factory: (...args: any[]) => unknown = captureDefinitionSite,
): DefinitionSite | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 20;
  try {
    Error.captureStackTrace(holder, factory);
  } finally {
    Error.stackTraceLimit = limit;
  }
  for (const line of (holder.stack ?? '').split('\n').slice(1)) {
    const frame = parseFrame(line);
    if (!frame) continue;
    const [location, lineText, columnText] = frame;
    if (location.startsWith('node:') || location.startsWith('internal/')) continue;
    const file = location.startsWith('file://') ? fileURLToPath(location) : location;
    if (!isAbsolute(file)) continue;
    return mapThroughSourceMap({ file, line: Number(lineText), column: Number(columnText) });
  }
  return undefined;
}

const traceMaps = new Map<string, TraceMap | null>();

/**
 * Maps a generated position (for example in `dist/pipeline.js`) to its original source (for
 * example `src/pipeline.ts`). Returns the site unchanged when there is no source map or the
 * position is not covered by one.
 */
export function mapThroughSourceMap(site: DefinitionSite): DefinitionSite {
  const map = loadTraceMap(site.file);
  if (!map) return site;
  const original = originalPositionFor(map, { line: site.line, column: site.column - 1 });
  if (original.source === null || original.line === null || original.column === null) return site;
  const source = original.source.startsWith('file://')
    ? fileURLToPath(original.source)
    : resolve(dirname(site.file), original.source);
  return { file: source, line: original.line, column: original.column + 1 };
}

function loadTraceMap(file: string): TraceMap | null {
  const cached = traceMaps.get(file);
  if (cached !== undefined) return cached;
  let map: TraceMap | null = null;
  try {
    // Node keeps the maps it loaded itself when source maps are enabled.
    const nodeMap = findSourceMap(file);
    if (nodeMap) {
      map = new TraceMap(nodeMap.payload as ConstructorParameters<typeof TraceMap>[0]);
    } else {
      map = readSourceMapOf(file);
    }
  } catch {
    // A missing, unreadable or malformed map only costs the mapping, never the task.
    map = null;
  }
  traceMaps.set(file, map);
  return map;
}

const SOURCE_MAPPING_URL = /\/\/[#@] sourceMappingURL=([^\s'"]+)\s*$/;

function readSourceMapOf(file: string): TraceMap | null {
  if (!/\.[cm]?js$/.test(file)) return null;
  const text = readFileSync(file, 'utf8');
  const tail = text.slice(text.lastIndexOf('\n', text.length - 2) + 1);
  const url = SOURCE_MAPPING_URL.exec(tail)?.[1];
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
