import * as fs from 'node:fs';
import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { throwIfAborted } from './errors';
import type { LstatReader } from './fast-lstat';
import { configBoolean, configValue, type GitConfig, readUserConfigs } from './git-config';
import { readGitIndex } from './git-index';
import { readExcludeRules } from './ignore-rules';
import { normalizeRemoteUrl } from './remote-url';
import {
  discoverRepository,
  isShallowRepository,
  layoutAt,
  type RepositoryLayout,
  readRepositoryConfig,
  remoteTrackingOids,
  resolveHead,
} from './repository';
import { findGitUrlBuilder } from './url-builders';
import {
  type CheckCounters,
  type FileState,
  fileStateAgainstHead,
  findFirstChange,
  loadIsomorphicGit,
  type OpenRepository,
  objectCache,
} from './worktree-status';

/** Options of {@link GitStatus.fromRepo}. */
export interface GitStatusOptions {
  /** Cancels the check; the promise then rejects with a GitError `aborted`. */
  signal?: AbortSignal;
  /**
   * Whether to decide {@link GitStatus.isTreeClean} (default true). Turn it off when you only need
   * the commit, the remote and links: the whole-tree scan is then skipped and `isTreeClean` is
   * `undefined`.
   */
  checkTree?: boolean;
  /** How many files are hashed at once when stat data cannot vouch for them. Default 8. */
  concurrency?: number;
}

/** Options of {@link GitStatus.buildUrl}. */
export interface BuildUrlOptions {
  /** Last line of a range (1-based, inclusive); ignored when not greater than `line`. */
  endLine?: number;
}

/**
 * A permanent link to source, or why there is none. `url` is `undefined` when no link can be made
 * (no remote, file outside the repository, unknown provider, commit not pushed, file not
 * committed); `reason` then says why. When the file differs from the commit the link still points
 * at the file but `lineAnchored` is false (the line may have moved) and `reason` says so.
 */
export interface GitLink {
  readonly url: string | undefined;
  readonly reason: string | undefined;
  readonly lineAnchored: boolean;
}

interface RemoteChoice {
  name: string;
  rawUrl: string;
}

function configsOf(configs: readonly GitConfig[], prefix: string): string[] {
  const names = new Set<string>();
  for (const config of configs) {
    for (const key of config.keys()) {
      if (key.startsWith(prefix) && key.endsWith('.url')) names.add(key.slice(prefix.length, -4));
    }
  }
  return [...names];
}

/**
 * `url` rewritten by the `url.<base>.<kind>` rule with the longest matching prefix, as git's
 * `alias_url` does; undefined when no rule matches.
 */
function rewriteUrl(
  url: string,
  configs: readonly GitConfig[],
  kind: 'insteadof' | 'pushinsteadof',
): string | undefined {
  let best: { from: string; to: string } | undefined;
  for (const config of configs) {
    for (const [key, values] of config) {
      const match = /^url\.(.*)\.(insteadof|pushinsteadof)$/.exec(key);
      if (!match?.[1] || match[2] !== kind) continue;
      for (const from of values) {
        if (url.startsWith(from) && (!best || from.length > best.from.length)) {
          best = { from, to: match[1] };
        }
      }
    }
  }
  return best ? best.to + url.slice(best.from.length) : undefined;
}

/** Every value of `key`, in the order git reads its config files (git collects URLs so). */
function allConfigValues(configs: readonly GitConfig[], key: string): string[] {
  return configs.flatMap((config) => config.get(key) ?? []);
}

/**
 * The push URL of `origin`, or else of the first remote in alphabetical order, as `git remote
 * get-url --push` gives it: the first `pushurl` (rewritten by `insteadOf`); without one, the first
 * `url` that a `pushInsteadOf` rule rewrites, or else the first `url` (rewritten by `insteadOf`).
 */
function chooseRemote(configs: readonly GitConfig[]): RemoteChoice | undefined {
  const names = configsOf(configs, 'remote.').sort();
  const name = names.includes('origin') ? 'origin' : names[0];
  if (name === undefined) return undefined;
  const [pushUrl] = allConfigValues(configs, `remote.${name}.pushurl`);
  if (pushUrl !== undefined) {
    return { name, rawUrl: rewriteUrl(pushUrl, configs, 'insteadof') ?? pushUrl };
  }
  const urls = allConfigValues(configs, `remote.${name}.url`);
  for (const url of urls) {
    const pushed = rewriteUrl(url, configs, 'pushinsteadof');
    if (pushed !== undefined) return { name, rawUrl: pushed };
  }
  const url = urls[0] ?? '';
  return { name, rawUrl: rewriteUrl(url, configs, 'insteadof') ?? url };
}

interface Inspection {
  layout: RepositoryLayout | undefined;
  repo: OpenRepository | undefined;
  branch: string | undefined;
  isShallow: boolean;
  remote: RemoteChoice | undefined;
  reason: string | undefined;
}

/**
 * Opens the repository at `layout`: HEAD, index, settings. `repo` is undefined without commits.
 * The user-level config files are read for each repository (a submodule too): their conditional
 * includes depend on it. Parsed files are cached, so that costs a stat per file.
 */
async function inspect(layout: RepositoryLayout): Promise<Inspection> {
  const [repoConfig, users] = await Promise.all([
    readRepositoryConfig(layout),
    readUserConfigs({ gitdir: layout.gitdir }),
  ]);
  const configs = [...users, repoConfig];
  const base = { layout, repo: undefined, branch: undefined, isShallow: false, remote: undefined };
  const objectFormat = configValue([repoConfig], 'extensions.objectformat');
  if (objectFormat !== undefined && objectFormat.toLowerCase() !== 'sha1') {
    return {
      ...base,
      reason: `the repository ${layout.worktree} uses ${objectFormat} object ids, which @flyte/git (through isomorphic-git) cannot read yet`,
    };
  }
  const refStorage = configValue([repoConfig], 'extensions.refstorage');
  if (refStorage !== undefined && refStorage.toLowerCase() !== 'files') {
    return {
      ...base,
      reason: `the repository ${layout.worktree} stores refs as ${refStorage}, which @flyte/git cannot read; only the "files" ref storage is supported`,
    };
  }
  const [head, isShallow] = await Promise.all([resolveHead(layout), isShallowRepository(layout)]);
  const remote = chooseRemote(configs);
  if (head.oid === undefined) {
    return {
      ...base,
      branch: head.branch,
      isShallow,
      remote,
      reason: `the repository ${layout.worktree} has no commits yet${head.branch ? ` on branch ${head.branch}` : ''}; commit once to get a commit SHA`,
    };
  }
  const index = await readGitIndex(layout.gitdir);
  const ignoreCase = configBoolean(configValue(configs, 'core.ignorecase'), false);
  const excludes = readExcludeRules(
    layout.worktree,
    layout.commondir,
    configValue(configs, 'core.excludesfile'),
    ignoreCase,
  );
  const showUntracked =
    configValue(configs, 'status.showuntrackedfiles')?.toLowerCase() ?? 'normal';
  const repo: OpenRepository = {
    layout,
    index,
    commitSha: head.oid,
    excludes: excludes.rules,
    excludeSources: excludes.sources,
    settings: {
      fileMode: configBoolean(configValue(configs, 'core.filemode'), true),
      trustCtime: configBoolean(configValue(configs, 'core.trustctime'), true),
      minimalStat: configValue(configs, 'core.checkstat')?.toLowerCase() === 'minimal',
      ignoreCase,
      // normal and all list untracked files; git's false spellings do not.
      showUntracked: configBoolean(showUntracked, true),
      // As git status: the cache is made for its default listing (not for -uall), and is
      // ignored when core.untrackedCache is false (git then also drops it from the index) or
      // GIT_DISABLE_UNTRACKED_CACHE is set.
      untrackedCache:
        showUntracked !== 'all' &&
        configBoolean(configValue(configs, 'core.untrackedcache'), true) &&
        !configBoolean(process.env.GIT_DISABLE_UNTRACKED_CACHE, false),
    },
    openSubmodule: async (worktree) => {
      const inner = await layoutAt(worktree);
      return inner ? (await inspect(inner)).repo : undefined;
    },
  };
  return { layout, repo, branch: head.branch, isShallow, remote, reason: undefined };
}

/** What measureGitStatus adds to a check: work counters, and the lstat reader to use. */
interface CheckInternals {
  readonly counters: CheckCounters;
  readonly lstat?: LstatReader | undefined;
}

// Set by GitStatus's static block: gives measureGitStatus the private factory.
let createWithInternals: (
  dir: string,
  options: GitStatusOptions,
  internals: CheckInternals,
) => Promise<GitStatus>;

/**
 * The commit, remote and clean state of a git repository, read with isomorphic-git and plain
 * file reads (no git binary), and permanent links into it.
 *
 * ```ts
 * const status = await GitStatus.fromRepo();
 * status.commitSha; // 'e83c5163316f89bfbde7d9ab23ca2e25604af290'
 * (await status.buildUrl('src/pipeline.ts', 12)).url;
 * // 'https://github.com/acme/etl/blob/e83c5163.../src/pipeline.ts#L12'
 * ```
 */
export class GitStatus {
  /** Whether links can be made: a repository with a commit and a hosted remote. */
  readonly isValid: boolean;
  /** Why the status is not valid (not a repository, no commits yet, no remote, ...). */
  readonly reason: string | undefined;
  /** The worktree root (symlinks resolved), or undefined outside a repository. */
  readonly repoDir: string | undefined;
  /** The full SHA of HEAD, or undefined when there are no commits yet. */
  readonly commitSha: string | undefined;
  /** The name of the remote links point to: `origin`, or else the first alphabetically. */
  readonly remoteName: string | undefined;
  /** The remote's web URL, https (or http for an http remote), never with credentials. */
  readonly remoteUrl: string | undefined;
  /**
   * Whether HEAD, the index and the worktree agree and there is no untracked file that is not
   * ignored (what an empty `git status --porcelain` means). Undefined when not checked
   * (`checkTree: false`); false outside a repository or without commits.
   */
  readonly isTreeClean: boolean | undefined;
  /** The first difference found when the tree is not clean, for example `modified: src/a.ts`. */
  readonly firstChange: string | undefined;
  /** The checked-out branch, or undefined when HEAD is detached. */
  readonly branch: string | undefined;
  /** Whether the repository is a shallow clone. */
  readonly isShallow: boolean;

  readonly #repo: OpenRepository | undefined;
  #pushed: Promise<boolean | undefined> | undefined;

  private constructor(fields: {
    inspection: Inspection;
    isTreeClean: boolean | undefined;
    firstChange: string | undefined;
  }) {
    const { inspection } = fields;
    const remoteUrl = inspection.remote ? normalizeRemoteUrl(inspection.remote.rawUrl) : undefined;
    let reason = inspection.reason;
    if (reason === undefined && !inspection.remote) {
      reason = `the repository ${inspection.layout?.worktree} has no remote; add one with \`git remote add origin <url>\` to get links`;
    } else if (reason === undefined && remoteUrl === undefined) {
      reason = `the remote "${inspection.remote?.name}" has URL ${JSON.stringify(inspection.remote?.rawUrl)}, which is a local path or not a hosted repository, so no link can be made`;
    }
    this.isValid = reason === undefined;
    this.reason = reason;
    this.repoDir = inspection.layout?.worktree;
    this.commitSha = inspection.repo?.commitSha;
    this.remoteName = inspection.remote?.name;
    this.remoteUrl = remoteUrl;
    this.isTreeClean = fields.isTreeClean;
    this.firstChange = fields.firstChange;
    this.branch = inspection.branch;
    this.isShallow = inspection.isShallow;
    this.#repo = inspection.repo;
  }

  /**
   * Reads the repository that contains `dir` (default: the current directory), walking up from it
   * as git does. Never throws for "not a repository", "no commits yet" or "no remote": it returns
   * a status with `isValid: false` and a `reason`.
   *
   * @param dir - Any directory or file inside the repository.
   * @param options - Cancellation, whether to check the whole tree, hashing concurrency.
   * @throws GitError `corrupt_index` or `corrupt_repository` when git's own files are damaged,
   *   `aborted` when `options.signal` fires.
   */
  static async fromRepo(
    dir: string = process.cwd(),
    options: GitStatusOptions = {},
  ): Promise<GitStatus> {
    return GitStatus.#create(dir, options, undefined);
  }

  /** Same as {@link GitStatus.fromRepo} for the current directory (flyte-sdk's name). */
  static fromCurrentRepo(options: GitStatusOptions = {}): Promise<GitStatus> {
    return GitStatus.fromRepo(process.cwd(), options);
  }

  static {
    createWithInternals = (dir, options, internals) => GitStatus.#create(dir, options, internals);
  }

  static async #create(
    dir: string,
    options: GitStatusOptions,
    internals: CheckInternals | undefined,
  ): Promise<GitStatus> {
    throwIfAborted(options.signal, 'GitStatus.fromRepo');
    const layout = await discoverRepository(resolve(dir));
    if (!layout) {
      return new GitStatus({
        inspection: {
          layout: undefined,
          repo: undefined,
          branch: undefined,
          isShallow: false,
          remote: undefined,
          reason: `${resolve(dir)} is not inside a git repository (no .git found in it or any parent); run \`git init\` or pass a directory inside a clone`,
        },
        isTreeClean: false,
        firstChange: undefined,
      });
    }
    const inspection = await inspect(layout);
    let isTreeClean: boolean | undefined = options.checkTree === false ? undefined : false;
    let firstChange: string | undefined;
    if (inspection.repo && options.checkTree !== false) {
      firstChange = await findFirstChange(inspection.repo, {
        signal: options.signal,
        concurrency: options.concurrency,
        counters: internals?.counters,
        lstat: internals?.lstat,
      });
      isTreeClean = firstChange === undefined;
    }
    return new GitStatus({ inspection, isTreeClean, firstChange });
  }

  /**
   * Whether `file` is identical to its version in the commit (`git diff HEAD -- file` would be
   * empty). False for files not in the commit, outside the repository or deleted.
   *
   * @param file - Absolute, or relative to {@link GitStatus.repoDir}.
   */
  async isFileClean(file: string): Promise<boolean> {
    if (!this.#repo || !this.repoDir) return false;
    const located = await this.#locate(file);
    if (!('path' in located)) return false;
    return (await fileStateAgainstHead(this.#repo, located.path)) === 'clean';
  }

  /**
   * A permanent link to `file` at {@link GitStatus.commitSha}, anchored at `line` (and up to
   * `options.endLine`) in the provider's own format. Never throws: when no link can be made, `url`
   * is undefined and `reason` says why. When the file differs from the commit, the link has no
   * line anchor (the line may not exist there) and `reason` says so.
   *
   * @param file - Absolute, or relative to {@link GitStatus.repoDir}.
   * @param line - 1-based line; omit for a link to the whole file.
   * @param options - `endLine` for a range.
   */
  async buildUrl(file: string, line?: number, options: BuildUrlOptions = {}): Promise<GitLink> {
    try {
      return await this.#buildUrl(file, line, options);
    } catch (error) {
      return noLink(`the link could not be built: ${(error as Error).message}`);
    }
  }

  async #buildUrl(
    file: string,
    line: number | undefined,
    options: BuildUrlOptions,
  ): Promise<GitLink> {
    if (!this.#repo || !this.repoDir || !this.commitSha) return noLink(this.reason ?? 'no commit');
    if (!this.remoteUrl) return noLink(this.reason ?? 'no remote');
    const located = await this.#locate(file);
    if (!('path' in located)) return noLink(located.reason);
    const found = findGitUrlBuilder(this.remoteUrl);
    if (!found.builder) return noLink(found.reason);
    if ((await this.#isPushed()) === false) {
      return noLink(
        `commit ${this.commitSha} is not on any branch of remote "${this.remoteName}" yet, so the link would not resolve; push it first (\`git push\`)`,
      );
    }
    const state: FileState = await fileStateAgainstHead(this.#repo, located.path);
    if (state === 'not-committed' || state === 'deleted') {
      return noLink(
        state === 'deleted'
          ? `${located.path} is in commit ${this.commitSha} but deleted from the worktree`
          : `${located.path} is not in commit ${this.commitSha}; commit it to link to it`,
      );
    }
    const target = { remoteUrl: this.remoteUrl, commitSha: this.commitSha, path: located.path };
    if (line === undefined)
      return { url: found.builder(target), reason: undefined, lineAnchored: false };
    if (!Number.isInteger(line) || line < 1) {
      return {
        url: found.builder(target),
        reason: `line ${line} is not a positive integer, so the link points at the whole file`,
        lineAnchored: false,
      };
    }
    if (state === 'modified') {
      return {
        url: found.builder(target),
        reason: `${located.path} differs from commit ${this.commitSha.slice(0, 12)}, so line ${line} may not be the same line there; the link points at the whole file`,
        lineAnchored: false,
      };
    }
    const endLine = options.endLine;
    const ranged = endLine !== undefined && Number.isInteger(endLine) && endLine > line;
    return {
      url: found.builder({ ...target, line, ...(ranged ? { endLine } : {}) }),
      reason: undefined,
      lineAnchored: true,
    };
  }

  /** The repository-relative path of `file`, or why it has none in this repository. */
  async #locate(file: string): Promise<{ path: string } | { reason: string }> {
    const repoDir = this.repoDir as string;
    const absolute = isAbsolute(file) ? file : resolve(repoDir, file);
    let real: string;
    try {
      real = await realpath(absolute);
    } catch {
      // A deleted file: resolve its directory, keep its name.
      real = resolve(
        await realpath(dirname(absolute)).catch(() => dirname(absolute)),
        basename(absolute),
      );
    }
    const path = relative(repoDir, real);
    if (path === '' || path.startsWith(`..${sep}`) || path === '..' || isAbsolute(path)) {
      return { reason: `${file} is outside the repository ${repoDir}` };
    }
    // A broken .git on the way (git would refuse to work inside it) does not make the file
    // another repository's: as for git, it stays this one's.
    const owner = await discoverRepository(real).catch(() => undefined);
    if (owner && owner.worktree !== repoDir) {
      return {
        reason: `${file} belongs to the repository at ${owner.worktree} (a submodule or nested repository), not to ${repoDir}; use linkForDefinition or GitStatus.fromRepo("${owner.worktree}")`,
      };
    }
    return { path: path.split(sep).join('/') };
  }

  /** Whether HEAD is reachable from a remote-tracking branch; undefined when that is unknowable. */
  #isPushed(): Promise<boolean | undefined> {
    this.#pushed ??= (async () => {
      const repo = this.#repo as OpenRepository;
      const tips = await remoteTrackingOids(repo.layout, this.remoteName as string);
      // No remote-tracking refs (a CI checkout of one commit, a mirror): assume pushed.
      if (tips.length === 0) return undefined;
      if (tips.includes(repo.commitSha)) return true;
      let unknown = false;
      const { isDescendent } = await loadIsomorphicGit();
      for (const tip of tips) {
        try {
          const found = await isDescendent({
            fs,
            gitdir: repo.layout.commondir,
            oid: tip,
            ancestor: repo.commitSha,
            // Bounded walk: beyond this many commits, give the link rather than spend seconds.
            depth: 2000,
            cache: objectCache,
          });
          if (found) return true;
        } catch {
          // Depth exceeded or history cut by a shallow clone.
          unknown = true;
        }
      }
      return unknown ? undefined : false;
    })();
    return this.#pushed;
  }
}

/** A {@link GitLink} with no URL, and why. */
export function noLink(reason: string): GitLink {
  return { url: undefined, reason, lineAnchored: false };
}

/**
 * {@link GitStatus.fromRepo} that also counts the work done (files stat'ed, hashed, directories
 * read), so the package's tests can check that the fast path is taken, optionally with another
 * lstat reader (to compare verdicts with the `fs.lstatSync` fallback, or to inject failures). Not
 * exported publicly.
 */
export function measureGitStatus(
  dir: string,
  counters: CheckCounters,
  options: GitStatusOptions = {},
  lstat?: LstatReader,
): Promise<GitStatus> {
  return createWithInternals(dir, options, { counters, lstat });
}
