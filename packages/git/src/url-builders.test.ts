import { afterEach, describe, expect, it } from 'vitest';
import { GitError } from './errors';
import {
  findGitUrlBuilder,
  type GitUrlTarget,
  gitUrlBuilderKinds,
  gitUrlBuilders,
  registerGitUrlBuilder,
} from './url-builders';

const SHA = '0123456789abcdef0123456789abcdef01234567';

function link(
  remoteUrl: string,
  line?: number,
  endLine?: number,
  path = 'src/my file#1.ts',
): string {
  const found = findGitUrlBuilder(remoteUrl);
  if (!found.builder) throw new Error(found.reason);
  const target: GitUrlTarget = { remoteUrl, commitSha: SHA, path };
  if (line !== undefined) target.line = line;
  if (endLine !== undefined) target.endLine = endLine;
  return found.builder(target);
}

afterEach(() => {
  delete process.env.FLYTE_GIT_HOSTS;
});

describe('built-in link formats', () => {
  it.each([
    [
      'https://github.com/acme/etl',
      `https://github.com/acme/etl/blob/${SHA}/src/my%20file%231.ts#L10`,
      `https://github.com/acme/etl/blob/${SHA}/src/my%20file%231.ts#L10-L20`,
    ],
    [
      'https://gitlab.com/group/sub/etl',
      `https://gitlab.com/group/sub/etl/-/blob/${SHA}/src/my%20file%231.ts#L10`,
      `https://gitlab.com/group/sub/etl/-/blob/${SHA}/src/my%20file%231.ts#L10-20`,
    ],
    [
      'https://bitbucket.org/team/etl',
      `https://bitbucket.org/team/etl/src/${SHA}/src/my%20file%231.ts#lines-10`,
      `https://bitbucket.org/team/etl/src/${SHA}/src/my%20file%231.ts#lines-10:20`,
    ],
    [
      'https://dev.azure.com/acme/Data/_git/etl',
      `https://dev.azure.com/acme/Data/_git/etl?path=%2Fsrc%2Fmy%20file%231.ts&version=GC${SHA}&line=10&lineEnd=10&lineStartColumn=1&lineEndColumn=1000&lineStyle=plain&_a=contents`,
      `https://dev.azure.com/acme/Data/_git/etl?path=%2Fsrc%2Fmy%20file%231.ts&version=GC${SHA}&line=10&lineEnd=20&lineStartColumn=1&lineEndColumn=1000&lineStyle=plain&_a=contents`,
    ],
    [
      'https://codeberg.org/acme/etl',
      `https://codeberg.org/acme/etl/src/commit/${SHA}/src/my%20file%231.ts#L10`,
      `https://codeberg.org/acme/etl/src/commit/${SHA}/src/my%20file%231.ts#L10-L20`,
    ],
    [
      'https://git.sr.ht/~acme/etl',
      `https://git.sr.ht/~acme/etl/tree/${SHA}/item/src/my%20file%231.ts#L10`,
      `https://git.sr.ht/~acme/etl/tree/${SHA}/item/src/my%20file%231.ts#L10-20`,
    ],
  ])('%s', (remote, single, range) => {
    expect(link(remote, 10)).toBe(single);
    expect(link(remote, 10, 20)).toBe(range);
    // An end line not after the start is a single line.
    expect(link(remote, 10, 10)).toBe(single);
    expect(link(remote, 10, 3)).toBe(single);
  });

  it('Bitbucket Server links to /projects/.../browse with ?at= and #10-20', () => {
    expect(link('https://bb.acme.io/scm/PROJ/etl', 10, 20, 'a b.ts')).toBe(
      `https://bb.acme.io/projects/PROJ/repos/etl/browse/a%20b.ts?at=${SHA}#10-20`,
    );
    expect(link('https://acme.io/bitbucket/scm/PROJ/etl', 7, undefined, 'x.ts')).toBe(
      `https://acme.io/bitbucket/projects/PROJ/repos/etl/browse/x.ts?at=${SHA}#7`,
    );
  });

  it('no line gives a link to the whole file', () => {
    expect(link('https://github.com/acme/etl', undefined, undefined, 'README.md')).toBe(
      `https://github.com/acme/etl/blob/${SHA}/README.md`,
    );
    expect(
      gitUrlBuilderKinds['azure-devops']({
        remoteUrl: 'https://dev.azure.com/a/b/_git/c',
        commitSha: SHA,
        path: 'x.ts',
      }),
    ).toBe(`https://dev.azure.com/a/b/_git/c?path=%2Fx.ts&version=GC${SHA}&_a=contents`);
  });

  it('the registry is keyed by host', () => {
    expect(gitUrlBuilders.get('github.com')).toBe(gitUrlBuilderKinds.github);
    expect(gitUrlBuilders.get('git.sr.ht')).toBe(gitUrlBuilderKinds.sourcehut);
  });
});

describe('self-hosted hosts', () => {
  it('an unknown host has no builder and a reason that says how to register one', () => {
    const found = findGitUrlBuilder('https://code.example.net/acme/etl');
    expect(found.builder).toBeUndefined();
    expect(found.reason).toContain('registerGitUrlBuilder("code.example.net", kind)');
    expect(found.reason).toContain('FLYTE_GIT_HOSTS="code.example.net=<kind>"');
  });

  it('registerGitUrlBuilder takes a kind or a function', () => {
    registerGitUrlBuilder('Code.Example.NET', 'gitlab');
    expect(link('https://code.example.net/acme/etl', 3)).toBe(
      `https://code.example.net/acme/etl/-/blob/${SHA}/src/my%20file%231.ts#L3`,
    );
    registerGitUrlBuilder(
      'code.example.net',
      (t) => `${t.remoteUrl}@${t.commitSha}:${t.path}:${t.line}`,
    );
    expect(link('https://code.example.net/acme/etl', 3, undefined, 'x.ts')).toBe(
      `https://code.example.net/acme/etl@${SHA}:x.ts:3`,
    );
  });

  it('registerGitUrlBuilder rejects an unknown kind or a URL instead of a host', () => {
    expect(() => registerGitUrlBuilder('git.acme.io', 'svn' as 'github')).toThrow(
      /Unknown git provider kind "svn" for host "git.acme.io"; use one of github, gitlab/,
    );
    expect(() => registerGitUrlBuilder('https://git.acme.io/', 'github')).toThrow(GitError);
  });

  it('FLYTE_GIT_HOSTS maps hosts to kinds and reports entries it ignored', () => {
    process.env.FLYTE_GIT_HOSTS = 'git.acme.io=gitlab, code.acme.io=github,bad.acme.io=cvs';
    expect(link('https://git.acme.io/a/b', 1, 2, 'x.ts')).toBe(
      `https://git.acme.io/a/b/-/blob/${SHA}/x.ts#L1-2`,
    );
    expect(link('https://code.acme.io/a/b', 1, 2, 'x.ts')).toBe(
      `https://code.acme.io/a/b/blob/${SHA}/x.ts#L1-L2`,
    );
    const found = findGitUrlBuilder('https://bad.acme.io/a/b');
    expect(found.reason).toContain('FLYTE_GIT_HOSTS entry "bad.acme.io=cvs" was ignored');
  });

  it('a host with a port can be registered with or without the port', () => {
    process.env.FLYTE_GIT_HOSTS = 'gitea.local:3000=gitea';
    expect(link('http://gitea.local:3000/a/b', 4, undefined, 'x.ts')).toBe(
      `http://gitea.local:3000/a/b/src/commit/${SHA}/x.ts#L4`,
    );
    process.env.FLYTE_GIT_HOSTS = 'forge.local=gitea';
    expect(link('https://forge.local:8443/a/b', 4, undefined, 'x.ts')).toBe(
      `https://forge.local:8443/a/b/src/commit/${SHA}/x.ts#L4`,
    );
  });

  it('conventional self-hosted names are recognised without registration', () => {
    expect(link('https://github.acme.com/a/b', 1, undefined, 'x')).toContain('/blob/');
    expect(link('https://gitlab.acme.io/g/s/b', 1, undefined, 'x')).toContain('/-/blob/');
    expect(link('https://bitbucket.acme.io/scm/P/r', 1, undefined, 'x')).toContain(
      '/projects/P/repos/r/browse/',
    );
    expect(link('https://acme.visualstudio.com/Data/_git/etl', 1, undefined, 'x')).toContain(
      '&version=GC',
    );
  });
});
