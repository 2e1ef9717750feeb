// ssh://, git+ssh://, ssh+git://, git://, http:// and https:// URLs; anything else with "://"
// (file://, ext::, ...) is not a hosted remote.
// The user information runs to the last "@" before the path, query or fragment: a password may
// hold an "@" of its own.
const URL_FORM =
  /^([a-z][a-z0-9+.-]*):\/\/(?:([^/?#]*)@)?(\[[^\]]+\]|[^/:?#@]+)(?::(\d*))?(\/[^?#]*)?/i;
// scp-like syntax: [user@]host:path, where the part before the first colon has no slash; the host
// may be an IPv6 address in brackets.
const SCP_FORM = /^(?:([^@/:\s]+)@)?(\[[^\]/]+\]|[^@/:\s]+):(?!\/\/)(.*)$/;
// Remote helpers (`ext::cmd`, `fd::0`) name a program, not a host.
const REMOTE_HELPER = /^[a-z][a-z0-9+.-]*::/i;
const SSH_SCHEMES = new Set(['ssh', 'git+ssh', 'ssh+git']);

/**
 * Turns a git remote URL into the https URL of the repository's web page, without credentials.
 *
 * Accepts scp-like `user@host:path` (any user), `ssh://` and `git+ssh://` with or without user
 * and port, `git://`, and `http(s)://` with credentials or a port. Hosts are lower-cased, and
 * trailing `.git` and slashes are removed. Provider quirks are undone: Azure DevOps SSH
 * (`git@ssh.dev.azure.com:v3/org/project/repo`) becomes `https://dev.azure.com/org/project/_git/repo`,
 * Bitbucket Server SSH on port 7999 becomes `https://host/scm/project/repo`, GitHub's
 * `ssh.github.com:443` becomes `github.com`. An explicit `http://` remote keeps its scheme (the
 * server may not speak https); every other form becomes `https://`.
 *
 * Returns `undefined` for local paths, `file://` URLs and anything that is not a hosted remote.
 *
 * @param url - The remote URL as written in `.git/config`.
 */
export function normalizeRemoteUrl(url: string): string | undefined {
  const trimmed = url.trim();
  if (trimmed === '' || REMOTE_HELPER.test(trimmed)) return undefined;
  const parsed = parseUrlForm(trimmed) ?? parseScpForm(trimmed);
  if (!parsed) return undefined;
  return finish(parsed);
}

interface ParsedRemote {
  scheme: 'https' | 'http';
  host: string;
  /** Kept only for http(s) remotes: an SSH or git:// port says nothing about the web server. */
  port: string | undefined;
  path: string;
  viaSsh: boolean;
  sshPort: string | undefined;
}

function parseUrlForm(url: string): ParsedRemote | undefined {
  const match = URL_FORM.exec(url);
  if (!match) return undefined;
  // The user info (credentials included) is matched only to be dropped.
  const [, rawScheme = '', , host = '', port, path = ''] = match;
  const scheme = rawScheme.toLowerCase();
  const isHttp = scheme === 'http' || scheme === 'https';
  const viaSsh = SSH_SCHEMES.has(scheme);
  if (!isHttp && !viaSsh && scheme !== 'git') return undefined;
  return {
    scheme: scheme === 'http' ? 'http' : 'https',
    host,
    port: isHttp && port ? port : undefined,
    path,
    viaSsh,
    sshPort: viaSsh && port ? port : undefined,
  };
}

function parseScpForm(url: string): ParsedRemote | undefined {
  if (url.includes('://')) return undefined;
  const match = SCP_FORM.exec(url);
  if (!match) return undefined;
  const [, , written = '', path = ''] = match;
  // `[host:port]:path` names an SSH port in git's scp-like form (an IPv6 address has more colons).
  const withPort = /^\[([^:\]]+):(\d+)\]$/.exec(written);
  const host = withPort ? (withPort[1] as string) : written;
  // `C:\repo` or `C:/repo` is a Windows path, not host "C".
  if (host.length === 1 && /^[\\/]/.test(path)) return undefined;
  if (host === '.' || host === '..' || path === '') return undefined;
  return {
    scheme: 'https',
    host,
    port: undefined,
    path: `/${path.replace(/^\/+/, '')}`,
    viaSsh: true,
    sshPort: withPort?.[2],
  };
}

function finish(remote: ParsedRemote): string | undefined {
  let host = remote.host.toLowerCase();
  let path = remote.path
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '');
  path = path.replace(/\/{2,}/g, '/');
  if (path === '' || path === '/') return undefined;

  if (host === 'ssh.github.com') host = 'github.com';
  if (host === 'altssh.gitlab.com') host = 'gitlab.com';
  if (host === 'altssh.bitbucket.org') host = 'bitbucket.org';

  // Azure DevOps SSH: git@ssh.dev.azure.com:v3/{org}/{project}/{repo}
  const azure = /^\/v3\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (azure && host === 'ssh.dev.azure.com') {
    return `https://dev.azure.com/${azure[1]}/${azure[2]}/_git/${azure[3]}`;
  }
  // Older Azure DevOps SSH host: {org}@vs-ssh.visualstudio.com:v3/{org}/{project}/{repo}
  if (azure && host === 'vs-ssh.visualstudio.com') {
    return `https://${azure[1]?.toLowerCase()}.visualstudio.com/${azure[2]}/_git/${azure[3]}`;
  }
  // Bitbucket Server (Data Center) serves SSH on 7999 and https clones under /scm/.
  if (remote.viaSsh && remote.sshPort === '7999' && !path.startsWith('/scm/')) {
    path = `/scm${path}`;
  }
  const port =
    remote.port &&
    !(remote.scheme === 'https' && remote.port === '443') &&
    !(remote.scheme === 'http' && remote.port === '80')
      ? `:${remote.port}`
      : '';
  return `${remote.scheme}://${host}${port}${path}`;
}
