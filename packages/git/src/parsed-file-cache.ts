// Git's metadata files are tiny: synchronous reads cost microseconds, while each thread-pool
// round trip of fs/promises costs far more on a busy machine (measured in bench/git).
import { readFileSync, type Stats, statSync } from 'node:fs';

/**
 * A per-process cache of parsed text files (config, packed-refs), re-read only when a file's
 * mtime or size changes. A missing file reads as `missing()`.
 */
export function parsedFileCache<T>(
  parse: (text: string) => T,
  missing: () => T,
): (file: string) => T {
  const cache = new Map<string, { mtimeMs: number; size: number; value: T }>();
  return (file) => {
    let info: Stats;
    try {
      info = statSync(file);
    } catch {
      return missing();
    }
    const cached = cache.get(file);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.value;
    const value = parse(readFileSync(file, 'utf8'));
    cache.set(file, { mtimeMs: info.mtimeMs, size: info.size, value });
    return value;
  };
}
