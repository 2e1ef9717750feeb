import { readFileSync, realpathSync } from 'node:fs';
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
  return toConfig(withIncludes(file, context, 0));
}

/** Entries in file order as a {@link GitConfig}: each key's values in that order. */
function toConfig(entries: ConfigEntries): GitConfig {
  const config = new Map<string, string[]>();
  for (const [key, value] of entries) {
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
    // Joined as text, not with path.join, which would drop a trailing slash and resolve "..".
    let pattern = gitdir[2] as string;
    if (pattern.startsWith('~/')) pattern = `${homedir()}/${pattern.slice(2)}`;
    else if (pattern.startsWith('./')) {
      // Relative to the real directory of the config file, as in git (a symlinked ~/.gitconfig).
      pattern = `${dirname(realpathOr(file))}/${pattern.slice(2)}`;
    } else if (!pattern.startsWith('/')) pattern = `**/${pattern}`;
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

function realpathOr(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
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

const MATCH = 0;
const NO_MATCH = 1;
const ABORT_ALL = -1;
const ABORT_TO_STAR_STAR = -2;
const SLASH = 0x2f;
const STAR = 0x2a;
const BACKSLASH = 0x5c;

const isUpper = (c: number): boolean => c >= 0x41 && c <= 0x5a;
const isLower = (c: number): boolean => c >= 0x61 && c <= 0x7a;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const lower = (c: number): number => (isUpper(c) ? c + 0x20 : c);
const PUNCTUATION = new Set(Buffer.from('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'));

/** Git's `[:name:]` classes, over bytes (ASCII only, as git's own ctype). */
const CHARACTER_CLASSES: Record<string, (c: number) => boolean> = {
  alnum: (c) => isUpper(c) || isLower(c) || isDigit(c),
  alpha: (c) => isUpper(c) || isLower(c),
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: isDigit,
  graph: (c) => c > 0x20 && c < 0x7f,
  lower: isLower,
  print: (c) => c >= 0x20 && c < 0x7f,
  punct: (c) => PUNCTUATION.has(c),
  space: (c) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d,
  upper: isUpper,
  xdigit: (c) => isDigit(c) || (lower(c) >= 0x61 && lower(c) <= 0x66),
};

/**
 * Git's `wildmatch` with `WM_PATHNAME` (and `WM_CASEFOLD` for `ignoreCase`), as `includeIf`
 * conditions use it, ported from git's `wildmatch.c` to work on the same bytes: `*`, `?` and
 * `[...]` never match a slash, `**` matches across slashes when it is a whole path segment.
 */
export function wildmatch(pattern: string, text: string, ignoreCase: boolean): boolean {
  return dowild(Buffer.from(pattern), 0, Buffer.from(text), 0, ignoreCase) === MATCH;
}

function dowild(pattern: Buffer, start: number, text: Buffer, from: number, fold: boolean): number {
  // C strings: past the end reads as NUL.
  const p = (i: number): number => (i < pattern.length ? (pattern[i] as number) : 0);
  const t = (i: number): number => (i < text.length ? (text[i] as number) : 0);
  let pi = start;
  let ti = from;
  for (; p(pi) !== 0; ti++, pi++) {
    let pc = p(pi);
    let tc = t(ti);
    if (tc === 0 && pc !== STAR) return ABORT_ALL;
    if (fold) {
      tc = lower(tc);
      pc = lower(pc);
    }
    switch (pc) {
      case 0x3f: // '?'
        if (tc === SLASH) return NO_MATCH;
        continue;
      case STAR: {
        let matchSlash: boolean;
        if (p(++pi) === STAR) {
          const previous = pi - 2;
          while (p(++pi) === STAR) {}
          if (
            (previous < start || p(previous) === SLASH) &&
            (p(pi) === 0 || p(pi) === SLASH || (p(pi) === BACKSLASH && p(pi + 1) === SLASH))
          ) {
            if (p(pi) === SLASH && dowild(pattern, pi + 1, text, ti, fold) === MATCH) return MATCH;
            matchSlash = true;
          } else {
            matchSlash = false;
          }
        } else {
          matchSlash = false;
        }
        if (p(pi) === 0) {
          // A trailing "**" matches everything; a trailing "*" only what has no more slashes.
          if (!matchSlash && text.indexOf(SLASH, ti) >= 0) return NO_MATCH;
          return MATCH;
        }
        if (!matchSlash && p(pi) === SLASH) {
          // One star and a slash: the rest of this directory name.
          const slash = text.indexOf(SLASH, ti);
          if (slash < 0) return NO_MATCH;
          ti = slash;
          break;
        }
        for (;;) {
          if (tc === 0) break;
          const next = p(pi);
          if (next !== STAR && next !== 0x3f && next !== 0x5b && next !== BACKSLASH) {
            // A literal follows: skip to where it occurs (not past a slash unless "**").
            const literal = fold ? lower(next) : next;
            for (;;) {
              tc = t(ti);
              if (tc === 0 || (!matchSlash && tc === SLASH)) break;
              if (fold) tc = lower(tc);
              if (tc === literal) break;
              ti++;
            }
            if (tc !== literal) return NO_MATCH;
          }
          const matched = dowild(pattern, pi, text, ti, fold);
          if (matched !== NO_MATCH) {
            if (!matchSlash || matched !== ABORT_TO_STAR_STAR) return matched;
          } else if (!matchSlash && tc === SLASH) {
            return ABORT_TO_STAR_STAR;
          }
          tc = t(++ti);
          if (fold) tc = lower(tc);
        }
        return ABORT_ALL;
      }
      case 0x5b: {
        // '[': a class, '!' or '^' negating it.
        pc = p(++pi);
        if (pc === 0x5e) pc = 0x21;
        const negated = pc === 0x21;
        if (negated) pc = p(++pi);
        let previous = 0;
        let matched = false;
        do {
          if (pc === 0) return ABORT_ALL;
          if (pc === BACKSLASH) {
            pc = p(++pi);
            if (pc === 0) return ABORT_ALL;
            if (tc === pc) matched = true;
          } else if (pc === 0x2d && previous !== 0 && p(pi + 1) !== 0 && p(pi + 1) !== 0x5d) {
            pc = p(++pi);
            if (pc === BACKSLASH) {
              pc = p(++pi);
              if (pc === 0) return ABORT_ALL;
            }
            if (tc <= pc && tc >= previous) matched = true;
            else if (fold && isLower(tc)) {
              const upper = tc - 0x20;
              if (upper <= pc && upper >= previous) matched = true;
            }
            pc = 0;
          } else if (pc === 0x5b && p(pi + 1) === 0x3a) {
            const nameStart = pi + 2;
            pi = nameStart;
            while (p(pi) !== 0 && p(pi) !== 0x5d) pi++;
            if (p(pi) === 0) return ABORT_ALL;
            const length = pi - nameStart - 1;
            if (length < 0 || p(pi - 1) !== 0x3a) {
              // No ":]": a "[" like any other.
              pi = nameStart - 2;
              pc = 0x5b;
              if (tc === pc) matched = true;
              previous = pc;
              pc = p(++pi);
              continue;
            }
            const name = pattern.toString('latin1', nameStart, nameStart + length);
            const test = CHARACTER_CLASSES[name];
            if (!test) return ABORT_ALL;
            if (test(tc) || (name === 'upper' && fold && isLower(tc))) matched = true;
            pc = 0;
          } else if (tc === pc) {
            matched = true;
          }
          previous = pc;
          pc = p(++pi);
        } while (pc !== 0x5d);
        if (matched === negated || tc === SLASH) return NO_MATCH;
        continue;
      }
      default: {
        // A byte, or an escaped one, which is compared as written (not case-folded), as in git.
        const literal = pc === BACKSLASH ? p(++pi) : pc;
        if (tc !== literal) return NO_MATCH;
      }
    }
  }
  return t(ti) !== 0 ? NO_MATCH : MATCH;
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
  return toConfig(parseGitConfigEntries(text));
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
      while (/(^|[^\\])(\\\\)*\\$/.test(raw) && commentStart(raw) < 0 && index + 1 < lines.length) {
        raw = raw.slice(0, -1) + (lines[++index] ?? '');
      }
      value = unquote(raw);
    }
    entries.push([`${section}.${name.toLowerCase()}`, value]);
  }
  return entries;
}

/** Where a comment starts in `raw` (`#` or `;` outside quotes, not escaped), or -1. */
function commentStart(raw: string): number {
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i];
    if (char === '\\') i++;
    else if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '#' || char === ';')) return i;
  }
  return -1;
}

/** A value as written (up to any comment): quotes removed, escapes applied, outer blanks dropped. */
function unquote(written: string): string {
  const end = commentStart(written);
  const raw = end < 0 ? written : written.slice(0, end);
  let out = '';
  let quoted = false;
  let pendingSpace = '';
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i] as string;
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
