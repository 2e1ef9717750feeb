import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parsedFileCache } from './parsed-file-cache';

/**
 * A parsed git config file: every value of every key, keys spelled `section.subsection.name`
 * with section and name lower-cased (they are case-insensitive) and the subsection as written.
 */
export type GitConfig = ReadonlyMap<string, readonly string[]>;

/** A config file's keys and values, in file order. */
type ConfigEntries = readonly (readonly [key: string, value: string])[];

const readCachedEntries = parsedFileCache<ConfigEntries>(parseGitConfigEntries, () => []);

/** The repository a config is read for: what `includeIf` conditions are decided against. */
export interface IncludeContext {
  /** The repository's git directory (real path), for `gitdir:` and `gitdir/i:`. */
  readonly gitdir: string;
}

/** Git stops at this depth of nested includes. */
const MAX_INCLUDE_DEPTH = 10;

/**
 * Reads a config file, or an empty config when it does not exist, with the files it includes
 * (`include.path`, and `includeIf` with `gitdir:`, `gitdir/i:` or `onbranch:` when `context` is
 * given) read in at the place of the include, as git reads them. Parsed files are cached per
 * process and re-read only when their mtime or size changes.
 */
export async function readGitConfig(file: string, context?: IncludeContext): Promise<GitConfig> {
  const config = new Map<string, string[]>();
  for (const [key, value] of withIncludes(file, context, 0)) {
    const values = config.get(key);
    if (values) values.push(value);
    else config.set(key, [value]);
  }
  return config;
}

function withIncludes(
  file: string,
  context: IncludeContext | undefined,
  depth: number,
): ConfigEntries {
  const entries: (readonly [string, string])[] = [];
  for (const entry of readCachedEntries(file)) {
    entries.push(entry);
    const included = includedFile(entry[0], entry[1], file, context);
    if (included !== undefined && depth < MAX_INCLUDE_DEPTH) {
      entries.push(...withIncludes(included, context, depth + 1));
    }
  }
  return entries;
}

/** The file an `include.path` or a met `includeIf.<condition>.path` entry names, if any. */
function includedFile(
  key: string,
  value: string,
  file: string,
  context: IncludeContext | undefined,
): string | undefined {
  if (value === '') return undefined;
  if (key !== 'include.path') {
    const conditional = /^includeif\.(.*)\.path$/.exec(key);
    if (!conditional || !context || !conditionHolds(conditional[1] as string, file, context)) {
      return undefined;
    }
  }
  if (value.startsWith('~/')) return join(homedir(), value.slice(2));
  return isAbsolute(value) ? value : join(dirname(file), value);
}

/** Git's `includeIf` conditions this package decides; any other condition does not hold. */
function conditionHolds(condition: string, file: string, context: IncludeContext): boolean {
  const gitdir = /^gitdir(\/i)?:(.*)$/s.exec(condition);
  if (gitdir) {
    let pattern = gitdir[2] as string;
    if (pattern.startsWith('~/')) pattern = join(homedir(), pattern.slice(2));
    else if (pattern.startsWith('./')) pattern = join(dirname(file), pattern.slice(2));
    else if (!pattern.startsWith('/')) pattern = `**/${pattern}`;
    if (pattern.endsWith('/')) pattern += '**';
    return wildmatch(pattern, context.gitdir, gitdir[1] !== undefined);
  }
  const onBranch = /^onbranch:(.*)$/s.exec(condition);
  if (onBranch) {
    let pattern = onBranch[1] as string;
    if (pattern.endsWith('/')) pattern += '**';
    const branch = currentBranch(context.gitdir);
    return branch !== undefined && wildmatch(pattern, branch, false);
  }
  return false;
}

/** The branch HEAD is on (`refs/heads/` left off), or undefined when detached or unreadable. */
function currentBranch(gitdir: string): string | undefined {
  try {
    const head = readFileSync(join(gitdir, 'HEAD'), 'utf8');
    return /^ref: refs\/heads\/(.+?)\s*$/.exec(head)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Git's `wildmatch` with `WM_PATHNAME`: `*`, `?` and `[...]` never match a slash, `**/ ` matches
 * any number of directories and a trailing `; /**` everything below.
 */
export function wildmatch(pattern: string, text: string, ignoreCase: boolean): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === '*') {
      const atSegmentStart = i === 0 || pattern[i - 1] === '/';
      if (pattern[i + 1] === '*' && atSegmentStart) {
        if (i + 2 === pattern.length) {
          source += '.*';
          i += 1;
          continue;
        }
        if (pattern[i + 2] === '/') {
          source += '(?:.*/)?';
          i += 2;
          continue;
        }
      }
      while (pattern[i + 1] === '*') i++;
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[') {
      let end = i + 1;
      if (pattern[end] === '!' || pattern[end] === '^') end++;
      if (pattern[end] === ']') end++;
      while (end < pattern.length && pattern[end] !== ']') end++;
      if (end >= pattern.length) {
        source += '\\[';
        continue;
      }
      const negated = pattern[i + 1] === '!' || pattern[i + 1] === '^';
      const members = pattern.slice(i + (negated ? 2 : 1), end).replace(/[\\\]^]/g, '\\$&');
      source += negated ? `[^/${members}]` : `(?!/)[${members}]`;
      i = end;
    } else if (char === '\\' && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[++i] as string);
    } else {
      source += escapeRegExp(char);
    }
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The last value of `key` across `configs` (later configs win, as in git), or undefined. */
export function configValue(configs: readonly GitConfig[], key: string): string | undefined {
  let value: string | undefined;
  for (const config of configs) {
    const values = config.get(key);
    if (values && values.length > 0) value = values[values.length - 1];
  }
  return value;
}

/**
 * Git's boolean spelling: yes/on/true and no/off/false, an empty value (`key =`) is false, and an
 * integer is true unless 0; `fallback` when unset or unknown.
 */
export function configBoolean(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const lower = value.trim().toLowerCase();
  // A key with no `=` at all is parsed as 'true'; `key =` (empty) is false, as in git.
  if (['true', 'yes', 'on'].includes(lower)) return true;
  if (['false', 'no', 'off', ''].includes(lower)) return false;
  // Git also takes integers, with an optional k, m or g unit: any but 0 is true.
  const integer = /^([+-]?\d+)[kmg]?$/.exec(lower);
  if (integer) return Number(integer[1]) !== 0;
  return fallback;
}

/** `$XDG_CONFIG_HOME`, or `~/.config` when it is unset or empty, as git resolves it. */
export function xdgConfigHome(): string {
  return process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
}

/**
 * The user-level config files git reads, system first, honouring GIT_CONFIG_* variables, with
 * their includes (conditional ones decided for `context`'s repository).
 */
export async function readUserConfigs(context?: IncludeContext): Promise<GitConfig[]> {
  const files: string[] = [];
  if (!process.env.GIT_CONFIG_NOSYSTEM) files.push('/etc/gitconfig');
  if (process.env.GIT_CONFIG_GLOBAL !== undefined) {
    if (process.env.GIT_CONFIG_GLOBAL !== '') files.push(process.env.GIT_CONFIG_GLOBAL);
  } else {
    files.push(join(xdgConfigHome(), 'git', 'config'), join(homedir(), '.gitconfig'));
  }
  return Promise.all(files.map((file) => readGitConfig(file, context)));
}

/** Parses git config syntax (sections, subsections, quoting, escapes, continuation lines). */
export function parseGitConfig(text: string): GitConfig {
  const config = new Map<string, string[]>();
  for (const [key, value] of parseGitConfigEntries(text)) {
    const values = config.get(key);
    if (values) values.push(value);
    else config.set(key, [value]);
  }
  return config;
}

/** {@link parseGitConfig}'s entries, in file order (where includes are read in). */
function parseGitConfigEntries(text: string): ConfigEntries {
  const entries: (readonly [string, string])[] = [];
  let section = '';
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    let line = (lines[index] ?? '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\](.*)$/.exec(line);
      if (!header) continue;
      const [, name = '', subsection, rest = ''] = header;
      if (subsection !== undefined) {
        section = `${name.toLowerCase()}.${subsection.replace(/\\(.)/g, '$1')}`;
      } else {
        // Legacy [section.subsection] form: the subsection is lower-cased too.
        section = name.toLowerCase();
      }
      line = rest.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    }
    const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(line);
    if (!entry || section === '') continue;
    const [, name = '', rawValue] = entry;
    let value: string;
    if (rawValue === undefined) {
      value = 'true';
    } else {
      let raw = rawValue;
      // A backslash at the very end continues the value on the next line, unless it is part of
      // a comment.
      while (/(^|[^\\])(\\\\)*\\$/.test(raw) && !hasComment(raw) && index + 1 < lines.length) {
        raw = raw.slice(0, -1) + (lines[++index] ?? '');
      }
      value = unquote(raw);
    }
    entries.push([`${section}.${name.toLowerCase()}`, value]);
  }
  return entries;
}

/** Whether `raw` holds a comment (`#` or `;` outside quotes, not escaped). */
function hasComment(raw: string): boolean {
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i];
    if (char === '\\') i++;
    else if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '#' || char === ';')) return true;
  }
  return false;
}

function unquote(raw: string): string {
  let out = '';
  let quoted = false;
  let pendingSpace = '';
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i] as string;
    if (!quoted && (char === '#' || char === ';')) break;
    if (char === '"') {
      quoted = !quoted;
      out += pendingSpace;
      pendingSpace = '';
      continue;
    }
    if (char === '\\') {
      const next = raw[++i] ?? '';
      const escaped = next === 'n' ? '\n' : next === 't' ? '\t' : next === 'b' ? '\b' : next;
      out += pendingSpace + escaped;
      pendingSpace = '';
      continue;
    }
    if (!quoted && (char === ' ' || char === '\t')) {
      if (out !== '') pendingSpace += char;
      continue;
    }
    out += pendingSpace + char;
    pendingSpace = '';
  }
  return out;
}
