import { GitError } from './errors';

/** The source-hosting products `@flyte/git` can build links for. */
export type GitProviderKind =
  | 'github'
  | 'gitlab'
  | 'bitbucket'
  | 'bitbucket-server'
  | 'azure-devops'
  | 'gitea'
  | 'sourcehut';

/** What a {@link GitUrlBuilder} links to. */
export interface GitUrlTarget {
  /** The repository's web URL, as returned by {@link normalizeRemoteUrl} (no trailing slash). */
  remoteUrl: string;
  /** The full commit SHA the link is pinned to. */
  commitSha: string;
  /** Repository-relative path with forward slashes, not yet percent-encoded. */
  path: string;
  /** 1-based first line; absent when the link must not point at a line. */
  line?: number;
  /** 1-based last line of a range; absent or equal to `line` for a single line. */
  endLine?: number;
}

/** Builds a permanent link to a file (and optionally a line range) at a commit. */
export type GitUrlBuilder = (target: GitUrlTarget) => string;

/** Percent-encodes each path segment, keeping the slashes between them. */
function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function hasRange(target: GitUrlTarget): target is GitUrlTarget & { endLine: number } {
  return target.endLine !== undefined && target.line !== undefined && target.endLine > target.line;
}

// Azure DevOps selects up to a column; a column past the end of any real line selects it whole.
const AZURE_WHOLE_LINE_END_COLUMN = 1000;

/**
 * The link format of each provider, by kind. Line anchors: GitHub `#L10-L20`, GitLab `#L10-20`,
 * Bitbucket Cloud `#lines-10:20`, Bitbucket Server `#10-20`, Azure DevOps
 * `&line=10&lineEnd=20&...`, Gitea and Forgejo `#L10-L20`, sourcehut `#L10-20`.
 */
export const gitUrlBuilderKinds: Readonly<Record<GitProviderKind, GitUrlBuilder>> = Object.freeze({
  github: (t: GitUrlTarget) =>
    `${t.remoteUrl}/blob/${t.commitSha}/${encodePath(t.path)}${
      t.line === undefined ? '' : `#L${t.line}${hasRange(t) ? `-L${t.endLine}` : ''}`
    }`,
  gitlab: (t: GitUrlTarget) =>
    `${t.remoteUrl}/-/blob/${t.commitSha}/${encodePath(t.path)}${
      t.line === undefined ? '' : `#L${t.line}${hasRange(t) ? `-${t.endLine}` : ''}`
    }`,
  bitbucket: (t: GitUrlTarget) =>
    `${t.remoteUrl}/src/${t.commitSha}/${encodePath(t.path)}${
      t.line === undefined ? '' : `#lines-${t.line}${hasRange(t) ? `:${t.endLine}` : ''}`
    }`,
  'bitbucket-server': (t: GitUrlTarget) => {
    // Clone URL https://host[/context]/scm/PROJECT/repo; browse URL
    // https://host[/context]/projects/PROJECT/repos/repo/browse/path?at=sha
    const url = new URL(t.remoteUrl);
    const segments = url.pathname.split('/').filter((s) => s !== '');
    const scm = segments.lastIndexOf('scm');
    const context = scm >= 0 ? segments.slice(0, scm) : segments.slice(0, -2);
    const [project = '', repo = ''] = scm >= 0 ? segments.slice(scm + 1) : segments.slice(-2);
    const base = `${url.origin}${context.map((s) => `/${s}`).join('')}`;
    return `${base}/projects/${project}/repos/${repo}/browse/${encodePath(t.path)}?at=${t.commitSha}${
      t.line === undefined ? '' : `#${t.line}${hasRange(t) ? `-${t.endLine}` : ''}`
    }`;
  },
  'azure-devops': (t: GitUrlTarget) => {
    let url = `${t.remoteUrl}?path=${encodeURIComponent(`/${t.path}`)}&version=GC${t.commitSha}`;
    if (t.line !== undefined) {
      const end = hasRange(t) ? t.endLine : t.line;
      url += `&line=${t.line}&lineEnd=${end}&lineStartColumn=1&lineEndColumn=${AZURE_WHOLE_LINE_END_COLUMN}&lineStyle=plain`;
    }
    return `${url}&_a=contents`;
  },
  gitea: (t: GitUrlTarget) =>
    `${t.remoteUrl}/src/commit/${t.commitSha}/${encodePath(t.path)}${
      t.line === undefined ? '' : `#L${t.line}${hasRange(t) ? `-L${t.endLine}` : ''}`
    }`,
  sourcehut: (t: GitUrlTarget) =>
    `${t.remoteUrl}/tree/${t.commitSha}/item/${encodePath(t.path)}${
      t.line === undefined ? '' : `#L${t.line}${hasRange(t) ? `-${t.endLine}` : ''}`
    }`,
});

const PROVIDER_KINDS = Object.keys(gitUrlBuilderKinds) as GitProviderKind[];

function isProviderKind(value: string): value is GitProviderKind {
  return (PROVIDER_KINDS as string[]).includes(value);
}

const registry = new Map<string, GitUrlBuilder>([
  ['github.com', gitUrlBuilderKinds.github],
  ['gitlab.com', gitUrlBuilderKinds.gitlab],
  ['bitbucket.org', gitUrlBuilderKinds.bitbucket],
  ['dev.azure.com', gitUrlBuilderKinds['azure-devops']],
  ['codeberg.org', gitUrlBuilderKinds.gitea],
  ['gitea.com', gitUrlBuilderKinds.gitea],
  ['git.sr.ht', gitUrlBuilderKinds.sourcehut],
]);
const registeredByCaller = new Set<string>();

/**
 * The link builders, keyed by host name (lower case, with `:port` when the remote has one).
 * Holds github.com, gitlab.com, bitbucket.org, dev.azure.com, codeberg.org, gitea.com and
 * git.sr.ht; add self-hosted hosts with {@link registerGitUrlBuilder} or `FLYTE_GIT_HOSTS`.
 */
export const gitUrlBuilders: ReadonlyMap<string, GitUrlBuilder> = registry;

/**
 * Registers how links are built for a host, typically a self-hosted one (GitHub Enterprise,
 * GitLab, Bitbucket Server, Gitea, Forgejo). A registration here wins over `FLYTE_GIT_HOSTS` and
 * over the built-in hosts.
 *
 * @param host - The host as it appears in the remote URL, for example `git.acme.io` (or
 *   `git.acme.io:8443` when the https remote has a port).
 * @param builder - A provider kind (`'github'`, `'gitlab'`, ...) or your own function.
 * @throws GitError `invalid_argument` when `host` is empty or `builder` is an unknown kind.
 */
export function registerGitUrlBuilder(
  host: string,
  builder: GitProviderKind | GitUrlBuilder,
): void {
  const key = host.trim().toLowerCase();
  if (key === '' || /[/\s@]/.test(key)) {
    throw new GitError(
      'invalid_argument',
      `registerGitUrlBuilder needs a bare host such as "git.acme.io", got ${JSON.stringify(host)}.`,
      { details: { host } },
    );
  }
  if (typeof builder === 'string' && !isProviderKind(builder)) {
    throw new GitError(
      'invalid_argument',
      `Unknown git provider kind ${JSON.stringify(builder)} for host "${key}"; use one of ${PROVIDER_KINDS.join(', ')} or pass a function.`,
      { details: { host, kind: builder } },
    );
  }
  registry.set(key, typeof builder === 'string' ? gitUrlBuilderKinds[builder] : builder);
  registeredByCaller.add(key);
}

interface ParsedHostsVariable {
  source: string;
  hosts: Map<string, GitProviderKind>;
  problems: string[];
}
let parsedHosts: ParsedHostsVariable | undefined;

/** `FLYTE_GIT_HOSTS="git.acme.io=gitlab,code.acme.io=github"`, re-read when the value changes. */
function hostsFromEnvironment(): ParsedHostsVariable {
  const source = process.env.FLYTE_GIT_HOSTS ?? '';
  if (parsedHosts?.source === source) return parsedHosts;
  const hosts = new Map<string, GitProviderKind>();
  const problems: string[] = [];
  for (const entry of source.split(/[,\s]+/)) {
    if (entry === '') continue;
    const [host = '', kind = ''] = entry.split('=').map((part) => part.trim().toLowerCase());
    if (host === '' || !isProviderKind(kind)) {
      problems.push(
        `FLYTE_GIT_HOSTS entry "${entry}" was ignored: write host=kind with kind one of ${PROVIDER_KINDS.join(', ')}`,
      );
      continue;
    }
    hosts.set(host, kind);
  }
  parsedHosts = { source, hosts, problems };
  return parsedHosts;
}

/** Guesses the product from conventional host names and paths of self-hosted installations. */
function inferKind(url: URL): GitProviderKind | undefined {
  const hostname = url.hostname;
  if (hostname.endsWith('.visualstudio.com') || hostname.endsWith('.azure.com')) {
    return 'azure-devops';
  }
  if (/^\/(?:[^/]+\/)*scm\//.test(url.pathname)) return 'bitbucket-server';
  const firstLabel = hostname.split('.')[0];
  switch (firstLabel) {
    case 'github':
      return 'github';
    case 'gitlab':
      return 'gitlab';
    case 'gitea':
    case 'forgejo':
      return 'gitea';
    case 'bitbucket':
      return 'bitbucket-server';
    default:
      return undefined;
  }
}

/**
 * Finds the builder for a normalized remote URL: a caller's registration, then
 * `FLYTE_GIT_HOSTS`, then the built-in hosts, then a guess from the host name. Returns a reason
 * when none applies.
 */
export function findGitUrlBuilder(
  remoteUrl: string,
): { builder: GitUrlBuilder; reason?: undefined } | { builder?: undefined; reason: string } {
  let url: URL;
  try {
    url = new URL(remoteUrl);
  } catch {
    return { reason: `the remote URL ${JSON.stringify(remoteUrl)} is not a web URL` };
  }
  const keys = url.port === '' ? [url.host] : [url.host, url.hostname];
  for (const key of keys) {
    const own = registeredByCaller.has(key) ? registry.get(key) : undefined;
    if (own) return { builder: own };
  }
  const environment = hostsFromEnvironment();
  for (const key of keys) {
    const kind = environment.hosts.get(key);
    if (kind) return { builder: gitUrlBuilderKinds[kind] };
  }
  for (const key of keys) {
    const builtIn = registry.get(key);
    if (builtIn) return { builder: builtIn };
  }
  const guessed = inferKind(url);
  if (guessed) return { builder: gitUrlBuilderKinds[guessed] };
  const problems = environment.problems.length > 0 ? ` (${environment.problems.join('; ')})` : '';
  return {
    reason: `no link builder is known for host "${url.host}": register one with registerGitUrlBuilder("${url.host}", kind) or FLYTE_GIT_HOSTS="${url.host}=<kind>" (kinds: ${PROVIDER_KINDS.join(', ')})${problems}`,
  };
}
