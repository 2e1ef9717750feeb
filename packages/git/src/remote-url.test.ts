import { describe, expect, it } from 'vitest';
import { normalizeRemoteUrl } from './remote-url';

describe('normalizeRemoteUrl', () => {
  it.each([
    // scp-like, any user
    ['git@github.com:acme/etl.git', 'https://github.com/acme/etl'],
    ['deploy@github.com:acme/etl', 'https://github.com/acme/etl'],
    ['github.com:acme/etl.git', 'https://github.com/acme/etl'],
    // ssh:// and git+ssh:// with and without user and port
    ['ssh://git@github.com/acme/etl.git', 'https://github.com/acme/etl'],
    ['ssh://github.com/acme/etl', 'https://github.com/acme/etl'],
    ['ssh://git@git.acme.io:2222/team/etl.git', 'https://git.acme.io/team/etl'],
    ['git+ssh://git@github.com/acme/etl.git', 'https://github.com/acme/etl'],
    ['git+ssh://github.com:22/acme/etl.git', 'https://github.com/acme/etl'],
    ['ssh://git@ssh.github.com:443/acme/etl.git', 'https://github.com/acme/etl'],
    // git://
    ['git://github.com/acme/etl.git', 'https://github.com/acme/etl'],
    ['git://git.acme.io:9418/etl', 'https://git.acme.io/etl'],
    // http(s) with credentials and ports: credentials always stripped
    ['https://user:ghp_t0ken@github.com/acme/etl.git', 'https://github.com/acme/etl'],
    ['https://oauth2:glpat-x@gitlab.com/group/sub/etl.git', 'https://gitlab.com/group/sub/etl'],
    ['https://x-access-token@github.com/acme/etl', 'https://github.com/acme/etl'],
    // A password with an "@" of its own: none of it may reach the link.
    ['https://user:p@ss@github.com/acme/etl.git', 'https://github.com/acme/etl'],
    ['https://github.com/acme/etl@v2', 'https://github.com/acme/etl@v2'],
    // An "@" after the query starts is not user information.
    ['https://u@github.com/acme/etl?x@y/z', 'https://github.com/acme/etl'],
    // scp-like with an IPv6 host in brackets, and ssh:// with one.
    ['git@[2001:db8::1]:acme/etl.git', 'https://[2001:db8::1]/acme/etl'],
    ['ssh://git@[2001:db8::1]:2222/acme/etl.git', 'https://[2001:db8::1]/acme/etl'],
    ['https://git.acme.io:8443/team/etl.git', 'https://git.acme.io:8443/team/etl'],
    ['https://github.com:443/acme/etl', 'https://github.com/acme/etl'],
    ['http://user:pw@gitea.local:3000/team/etl.git', 'http://gitea.local:3000/team/etl'],
    // upper-case hosts, trailing .git and slashes
    ['https://GitHub.COM/acme/etl.git/', 'https://github.com/acme/etl'],
    ['git@GITLAB.com:Group/Etl.GIT', 'https://gitlab.com/Group/Etl'],
    ['https://github.com/acme/etl///', 'https://github.com/acme/etl'],
    // GitHub Enterprise and self-hosted GitLab, GitLab subgroups
    ['git@github.acme.com:platform/etl.git', 'https://github.acme.com/platform/etl'],
    ['git@gitlab.acme.io:group/sub/subsub/etl.git', 'https://gitlab.acme.io/group/sub/subsub/etl'],
    // Bitbucket Cloud and Bitbucket Server
    ['git@bitbucket.org:team/etl.git', 'https://bitbucket.org/team/etl'],
    ['https://jdoe@bitbucket.org/team/etl.git', 'https://bitbucket.org/team/etl'],
    ['https://bb.acme.io/scm/proj/etl.git', 'https://bb.acme.io/scm/proj/etl'],
    ['ssh://git@bb.acme.io:7999/proj/etl.git', 'https://bb.acme.io/scm/proj/etl'],
    // git's scp-like form with an SSH port in brackets.
    ['git@[bb.acme.io:7999]:proj/etl.git', 'https://bb.acme.io/scm/proj/etl'],
    ['[git.acme.io:2222]:team/etl.git', 'https://git.acme.io/team/etl'],
    // Azure DevOps
    ['https://acme@dev.azure.com/acme/Data/_git/etl', 'https://dev.azure.com/acme/Data/_git/etl'],
    ['git@ssh.dev.azure.com:v3/acme/Data/etl', 'https://dev.azure.com/acme/Data/_git/etl'],
    [
      'acme@vs-ssh.visualstudio.com:v3/acme/Data/etl',
      'https://acme.visualstudio.com/Data/_git/etl',
    ],
    // Gitea, Forgejo, Codeberg, sourcehut
    ['git@codeberg.org:acme/etl.git', 'https://codeberg.org/acme/etl'],
    ['ssh://git@forgejo.acme.io:2222/acme/etl.git', 'https://forgejo.acme.io/acme/etl'],
    ['git@git.sr.ht:~acme/etl', 'https://git.sr.ht/~acme/etl'],
    ['https://git.sr.ht/~acme/etl', 'https://git.sr.ht/~acme/etl'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeRemoteUrl(input)).toBe(expected);
  });

  it.each([
    '/srv/git/etl.git',
    './relative/repo',
    '../sibling.git',
    'file:///srv/git/etl.git',
    'C:\\repos\\etl',
    'C:/repos/etl',
    '',
    '   ',
    'https://github.com/',
    'ext::ssh -i key git@github.com %S acme/etl',
  ])('%j is not a hosted remote: undefined, no crash', (input) => {
    expect(normalizeRemoteUrl(input)).toBeUndefined();
  });

  it('never keeps credentials, whatever the form', () => {
    for (const url of [
      'https://alice:hunter2@github.com/acme/etl.git',
      'http://alice:hunter2@git.acme.io/etl',
      'ssh://alice:hunter2@git.acme.io/etl',
      'git+ssh://alice:hunter2@git.acme.io:2222/etl',
    ]) {
      const normalized = normalizeRemoteUrl(url) ?? '';
      expect(normalized).not.toContain('hunter2');
      expect(normalized).not.toContain('alice');
    }
  });
});
