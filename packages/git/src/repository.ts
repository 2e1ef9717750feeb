import type { Dirent } from 'node:fs';
// Git's metadata files are tiny: synchronous reads cost microseconds, while each thread-pool
// round trip of fs/promises costs far more on a busy machine (measured in bench/git).
import {
  accessSync,
  constants,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  type Stats,
  statSync,
} from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { GitError } from './errors';
import { type GitConfig, readGitConfig } from './git-config';
import { parsedFileCache } from './parsed-file-cache';

/** Where a repository's pieces live. Linked worktrees and submodules split them apart. */
export interface RepositoryLayout {
  /** The working tree root (real path, symlinks resolved). */
  worktree: string;
  /** The per-worktree git directory: HEAD and the index live here. */
  gitdir: string;
  /** The shared git directory (`commondir`): objects, refs, config and `shallow` live here. */
  commondir: string;
}

/**
 * The common directory of `gitdir`: what its `commondir` file names (relative to `gitdir`, as
 * in linked worktrees), or `gitdir` itself when it has none.
 */
function commondirOf(gitdir: string): string {
  let text: string;
  try {
    text = readFileSync(join(gitdir, 'commondir'), 'utf8');
  } catch {
    return gitdir;
  }
  return resolve(gitdir, text.replace(/[\r\n]+$/, '') || '.');
}

async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Finds the repository that contains `start` (a file or a directory), walking up from it the way
 * git does: the nearest `.git` directory or `.git` file (`gitdir: ...`, as in submodules and
 * linked worktrees) wins, so a file inside a submodule belongs to the submodule. Returns
 * `undefined` when no repository contains `start`.
 */
export async function discoverRepository(start: string): Promise<RepositoryLayout | undefined> {
  let dir: string;
  try {
    dir = realpathSync(start);
    if (!statSync(dir).isDirectory()) dir = dirname(dir);
  } catch (error) {
    if (!isMissing(error)) throw error;
    // A file that no longer exists: look from the nearest directory that does.
    const parent = dirname(resolve(start));
    if (parent === resolve(start)) return undefined;
    return discoverRepository(parent);
  }
  for (;;) {
    const layout = await layoutAt(dir);
    if (layout) return layout;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Whether `directory` holds a repository of its own, decided as git decides when it meets an
 * untracked directory (setup.c: `is_nonbare_repository_dir`, `read_gitfile_gently`,
 * `is_git_directory`, `validate_headref`): a `.git` directory, or a `.git` file saying `gitdir:
 * <path>`, that has a valid HEAD and searchable `objects` and `refs`. A `.git` file that cannot be
 * read counts, as in git; an empty or broken `.git` does not.
 */
export function isNestedRepository(directory: string): boolean {
  const dotGit = join(directory, '.git');
  // stat, not lstat: a .git symlink counts as what it points to.
  let info: Stats | undefined;
  try {
    info = statSync(dotGit, { throwIfNoEntry: false });
  } catch {
    return false;
  }
  if (info?.isDirectory()) return isGitDirectory(dotGit);
  if (!info?.isFile() || info.size > 1 << 20) return false;
  let text: string;
  try {
    text = readFileSync(dotGit, 'utf8');
  } catch {
    return true;
  }
  if (!text.startsWith('gitdir: ')) return false;
  const target = text.slice('gitdir: '.length).replace(/[\r\n]+$/, '');
  if (target === '') return false;
  return isGitDirectory(isAbsolute(target) ? target : join(directory, target));
}

/** Git's `is_git_directory`: a valid HEAD, and `objects` and `refs` it can search. */
function isGitDirectory(suspect: string): boolean {
  if (!isValidHead(join(suspect, 'HEAD'))) return false;
  const common = commondirOf(suspect);
  const searchable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const objects = process.env.GIT_OBJECT_DIRECTORY || join(common, 'objects');
  return searchable(objects) && searchable(join(common, 'refs'));
}

/** Git's `validate_headref`: a `refs/...` symlink, `ref: refs/...`, or an object id. */
function isValidHead(head: string): boolean {
  try {
    if (lstatSync(head).isSymbolicLink()) return readlinkSync(head).startsWith('refs/');
    const text = readFileSync(head, 'latin1').slice(0, 255);
    const symbolic = /^ref:\s*(.*)/s.exec(text);
    if (symbolic) return (symbolic[1] as string).startsWith('refs/');
    return /^[0-9a-fA-F]{40}/.test(text);
  } catch {
    return false;
  }
}

/**
 * The repository whose worktree root is exactly `worktree` (it holds a `.git` directory or file),
 * or undefined. Used for submodules, where walking up would find the parent repository.
 */
export async function layoutAt(worktree: string): Promise<RepositoryLayout | undefined> {
  const dotGit = join(worktree, '.git');
  let info: Stats | undefined;
  try {
    info = lstatSync(dotGit);
    // A .git symlink counts as what it points to: a directory, or a file saying "gitdir:".
    if (info.isSymbolicLink()) info = statSync(dotGit, { throwIfNoEntry: false });
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  if (!info) return undefined;
  let gitdir: string;
  if (info.isFile()) {
    const text = readFileSync(dotGit, 'utf8');
    const match = /^gitdir:\s*(.+?)\s*$/m.exec(text);
    if (!match?.[1]) {
      throw new GitError(
        'corrupt_repository',
        `${dotGit} is a file but does not say "gitdir: <path>"; fix or remove it (a submodule can be repaired with \`git submodule absorbgitdirs\`).`,
        { details: { path: dotGit } },
      );
    }
    gitdir = isAbsolute(match[1]) ? match[1] : resolve(worktree, match[1]);
    // Git stops here too ("not a git repository"), rather than looking further up.
    if (!statSync(join(gitdir, 'HEAD'), { throwIfNoEntry: false })) {
      throw new GitError(
        'corrupt_repository',
        `${dotGit} points to ${gitdir}, which is not a git directory (it has no HEAD); fix the path in ${dotGit}, or remove the file if the repository is gone.`,
        { details: { path: dotGit, gitdir } },
      );
    }
  } else if (info.isDirectory()) {
    gitdir = dotGit;
  } else {
    return undefined;
  }
  // A .git without HEAD is not a repository (git skips it too). HEAD is read later, when it is
  // resolved; here its existence is enough.
  if (!statSync(join(gitdir, 'HEAD'), { throwIfNoEntry: false })) return undefined;
  return {
    worktree,
    gitdir: realpathSync(gitdir),
    commondir: realpathSync(commondirOf(gitdir)),
  };
}

/** Reads the repository's own config (from the common directory). */
export function readRepositoryConfig(layout: RepositoryLayout): Promise<GitConfig> {
  return readGitConfig(join(layout.commondir, 'config'), { gitdir: layout.gitdir });
}

const readPackedRefs = parsedFileCache(
  (text) => {
    const refs = new Map<string, string>();
    for (const line of text.split('\n')) {
      // "<oid> <ref>"; "^<oid>" peels the tag above it; "#" lines are traits.
      const match = /^([0-9a-f]{40,64}) (\S+)$/.exec(line);
      if (match?.[1] && match[2]) refs.set(match[2], match[1]);
    }
    return refs;
  },
  () => new Map<string, string>(),
);

async function packedRefs(commondir: string): Promise<Map<string, string>> {
  return readPackedRefs(join(commondir, 'packed-refs'));
}

// Refs that belong to one worktree rather than to the shared directory.
const PER_WORKTREE = /^(?:HEAD|[A-Z_]+|refs\/(?:bisect|worktree|rewritten)\/.*)$/;

/** The value of a ref: an object id, a symbolic target, or undefined when it does not exist. */
async function readRef(
  layout: RepositoryLayout,
  name: string,
): Promise<{ oid: string } | { symbolic: string } | undefined> {
  const dir = PER_WORKTREE.test(name) ? layout.gitdir : layout.commondir;
  const loose = await readTextIfExists(join(dir, name)).catch((error: unknown) => {
    // A directory where a ref file was expected (refs/heads/a when refs/heads/a/b exists).
    if ((error as { code?: unknown }).code === 'EISDIR') return undefined;
    throw error;
  });
  if (loose !== undefined) {
    const text = loose.trim();
    if (text.startsWith('ref:')) return { symbolic: text.slice(4).trim() };
    if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(text)) return { oid: text };
    throw new GitError(
      'corrupt_repository',
      `The ref file ${join(dir, name)} holds ${JSON.stringify(text.slice(0, 80))}, which is neither an object id nor "ref: <name>"; repair it (for example \`git update-ref ${name} <commit>\`).`,
      { details: { path: join(dir, name) } },
    );
  }
  const packed = (await packedRefs(layout.commondir)).get(name);
  return packed === undefined ? undefined : { oid: packed };
}

/** What HEAD points at. */
export interface HeadState {
  /** The commit HEAD resolves to, or undefined on an unborn branch (no commits yet). */
  oid: string | undefined;
  /** The branch name (`main`), or undefined when HEAD is detached. */
  branch: string | undefined;
}

/** Resolves HEAD, following symbolic refs (at most 5 levels, as git does). */
export async function resolveHead(layout: RepositoryLayout): Promise<HeadState> {
  let name = 'HEAD';
  let branch: string | undefined;
  for (let depth = 0; depth < 5; depth++) {
    const ref = await readRef(layout, name);
    if (ref === undefined) return { oid: undefined, branch };
    if ('oid' in ref) return { oid: ref.oid, branch };
    name = ref.symbolic;
    if (depth === 0 && name.startsWith('refs/heads/')) branch = name.slice('refs/heads/'.length);
  }
  throw new GitError(
    'corrupt_repository',
    `HEAD in ${layout.gitdir} is a chain of more than 5 symbolic refs ending at ${name}; point HEAD at a branch with \`git checkout <branch>\`.`,
    { details: { gitdir: layout.gitdir } },
  );
}

/** The object ids of every remote-tracking ref of `remote` (refs/remotes/<remote>/...). */
export async function remoteTrackingOids(
  layout: RepositoryLayout,
  remote: string,
): Promise<string[]> {
  const prefix = `refs/remotes/${remote}/`;
  // By ref name: a loose ref overrides its packed copy, which may be stale.
  const oids = new Map<string, string>();
  for (const [name, oid] of await packedRefs(layout.commondir)) {
    if (name.startsWith(prefix)) oids.set(name, oid);
  }
  const walk = async (relative: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(layout.commondir, relative), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = `${relative}${entry.name}`;
      if (entry.isDirectory()) await walk(`${child}/`);
      else {
        const ref = await readRef(layout, child).catch(() => undefined);
        if (ref && 'oid' in ref) oids.set(child, ref.oid);
      }
    }
  };
  await walk(prefix);
  return [...new Set(oids.values())];
}

/** Whether the repository is a shallow clone (a non-empty `shallow` file in the common dir). */
export async function isShallowRepository(layout: RepositoryLayout): Promise<boolean> {
  const text = await readTextIfExists(join(layout.commondir, 'shallow'));
  return text !== undefined && text.trim() !== '';
}
