import { homedir } from 'node:os';
import { join } from 'node:path';
import { parsedFileCache } from './parsed-file-cache';

/**
 * A parsed git config file: every value of every key, keys spelled `section.subsection.name`
 * with section and name lower-cased (they are case-insensitive) and the subsection as written.
 */
export type GitConfig = ReadonlyMap<string, readonly string[]>;

const readCachedConfig = parsedFileCache<GitConfig>(
  (text) => parseGitConfig(text),
  () => new Map(),
);

/**
 * Reads a config file, or an empty config when it does not exist. Parsed files are cached per
 * process and re-read only when their mtime or size changes.
 */
export async function readGitConfig(file: string): Promise<GitConfig> {
  return readCachedConfig(file);
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

/** The user-level config files git reads, system first, honouring GIT_CONFIG_* variables. */
export async function readUserConfigs(): Promise<GitConfig[]> {
  const files: string[] = [];
  if (!process.env.GIT_CONFIG_NOSYSTEM) files.push('/etc/gitconfig');
  if (process.env.GIT_CONFIG_GLOBAL !== undefined) {
    if (process.env.GIT_CONFIG_GLOBAL !== '') files.push(process.env.GIT_CONFIG_GLOBAL);
  } else {
    files.push(join(xdgConfigHome(), 'git', 'config'), join(homedir(), '.gitconfig'));
  }
  return Promise.all(files.map(readGitConfig));
}

/** Parses git config syntax (sections, subsections, quoting, escapes, continuation lines). */
export function parseGitConfig(text: string): GitConfig {
  const config = new Map<string, string[]>();
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
    const key = `${section}.${name.toLowerCase()}`;
    const values = config.get(key);
    if (values) values.push(value);
    else config.set(key, [value]);
  }
  return config;
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
