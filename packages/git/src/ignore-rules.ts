// Git's metadata files are tiny: synchronous reads cost microseconds, while each thread-pool
// round trip of fs/promises costs far more on a busy machine (measured in bench/git).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { xdgConfigHome } from './git-config';

/** Compiled ignore files, keyed by content, so the same rules are compiled once per process. */
const compiled = new Map<string, Ignore>();

/** Compiles gitignore rules (shared by every file with the same content). */
export function compileIgnoreRules(content: string, ignoreCase: boolean): Ignore {
  const key = `${ignoreCase ? 'i' : 's'}${content}`;
  let rules = compiled.get(key);
  if (!rules) {
    rules = ignore({ ignorecase: ignoreCase }).add(content);
    if (compiled.size > 500) compiled.clear();
    compiled.set(key, rules);
  }
  return rules;
}

/** One level of ignore rules: a `.gitignore` file and the directory its patterns are relative to. */
export interface IgnoreLevel {
  /** Repository-relative directory of the file, '' for the root, without a trailing slash. */
  readonly base: string;
  readonly rules: Ignore;
}

/**
 * Decides whether a repository-relative path is ignored, as git does: the deepest `.gitignore`
 * with a matching pattern decides (the last matching pattern in it, `!` re-includes), then
 * `$GIT_DIR/info/exclude`, then `core.excludesFile`. Directories are tested with a trailing
 * slash so that `build/` patterns match them.
 */
export function isIgnored(
  path: string,
  isDirectory: boolean,
  levels: readonly IgnoreLevel[],
  excludes: readonly Ignore[],
): boolean {
  const suffix = isDirectory ? '/' : '';
  for (let i = levels.length - 1; i >= 0; i--) {
    const level = levels[i] as IgnoreLevel;
    const relative = level.base === '' ? path : path.slice(level.base.length + 1);
    const verdict = level.rules.test(relative + suffix);
    if (verdict.ignored) return true;
    if (verdict.unignored) return false;
  }
  for (const rules of excludes) {
    const verdict = rules.test(path + suffix);
    if (verdict.ignored) return true;
    if (verdict.unignored) return false;
  }
  return false;
}

/** A file's bytes, or undefined when it cannot be read (missing, a directory, no permission). */
export function readIfFile(path: string | Buffer): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** The repository-wide exclude rules, and the bytes they come from. */
export interface ExcludeRules {
  /** Compiled rules, highest priority first. */
  readonly rules: readonly Ignore[];
  /**
   * The bytes of `info/exclude` and of the `core.excludesFile` file, undefined when missing or
   * unreadable.
   */
  readonly sources: {
    readonly infoExclude: Buffer | undefined;
    readonly excludesFile: Buffer | undefined;
  };
}

/**
 * The repository-wide exclude rules, highest priority first: `<commondir>/info/exclude`, then
 * the file named by `core.excludesFile` (default `$XDG_CONFIG_HOME/git/ignore`; a relative path is
 * relative to the worktree's root, where git runs).
 */
export function readExcludeRules(
  worktree: string,
  commondir: string,
  excludesFile: string | undefined,
  ignoreCase: boolean,
): ExcludeRules {
  const globalFile =
    excludesFile !== undefined
      ? resolve(worktree, excludesFile.replace(/^~(?=$|\/)/, homedir()))
      : join(xdgConfigHome(), 'git', 'ignore');
  const sources = {
    infoExclude: readIfFile(join(commondir, 'info', 'exclude')),
    excludesFile: readIfFile(globalFile),
  };
  const rules = [sources.infoExclude, sources.excludesFile]
    .map((bytes) => bytes?.toString('utf8'))
    .filter((content): content is string => content !== undefined && content.trim() !== '')
    .map((content) => compileIgnoreRules(content, ignoreCase));
  return { rules, sources };
}
