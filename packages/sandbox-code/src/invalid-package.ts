/** A package a package manager said it could not find. */
export interface MissingPackage {
  manager: 'apt' | 'pip' | 'npm';
  /** The name as the package manager printed it. */
  packageName: string;
}

const PATTERNS: { manager: MissingPackage['manager']; pattern: RegExp }[] = [
  { manager: 'apt', pattern: /E: Unable to locate package (\S+)/ },
  { manager: 'apt', pattern: /E: Package '([^']+)' has no installation candidate/ },
  { manager: 'pip', pattern: /No matching distribution found for ([^\s;]+)/ },
  {
    manager: 'pip',
    pattern: /Could not find a version that satisfies the requirement ([^\s(;]+)/,
  },
  { manager: 'pip', pattern: /ERROR: Invalid requirement: '([^']+)'/ },
  { manager: 'pip', pattern: /ERROR: Directory '([^']+)' is not installable/ },
  {
    manager: 'npm',
    pattern: /npm (?:ERR!|error) 404\s+'([^'\s]+)' is not in (?:this|the npm) registry/,
  },
  {
    manager: 'npm',
    pattern:
      /npm (?:ERR!|error) 404 Not Found - GET \S+?\/((?:@|%40)?[^/\s]+(?:%2[fF][^/\s]+)?) - /,
  },
];

/**
 * Finds the package apt, pip or npm reported as unknown in a build log, if any.
 *
 * Understands apt's `E: Unable to locate package x`, pip's `No matching distribution found
 * for x` (and its `Could not find a version...` / `Invalid requirement` lines), and npm's
 * `404 'x@*' is not in this registry` / `404 Not Found - GET .../x` (npm 6 to 11).
 */
export function findMissingPackage(rawLog: string): MissingPackage | undefined {
  // Build logs colour stderr (ESC[91m ... ESC[0m) and may split a line around the colour codes.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point.
  const log = rawLog.replace(/\x1b\[[0-9;]*m/g, '');
  for (const { manager, pattern } of PATTERNS) {
    const match = pattern.exec(log);
    if (match?.[1]) {
      let packageName = decodeURIComponent(match[1]);
      // npm prints `name@range`; keep the name (a scope's leading @ stays).
      if (manager === 'npm') packageName = packageName.replace(/(.)@[^@]*$/, '$1');
      return { manager, packageName };
    }
  }
  return undefined;
}
