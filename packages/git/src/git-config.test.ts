import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRepo, git, removeScratch, scratchDir } from './__fixtures__/git-repository';
import { configBoolean, configValue, parseGitConfig, readGitConfig, wildmatch } from './git-config';
import { GitStatus } from './git-status';

afterAll(removeScratch);

describe('parseGitConfig', () => {
  it('reads sections, subsections, quoting, escapes, comments and continuations', () => {
    const config = parseGitConfig(
      [
        '# a comment',
        '[core]',
        '\tfileMode = false ; trailing comment',
        '\tbare',
        '[remote "Origin With Space"]',
        '\turl = "https://github.com/acme/etl.git" # comment',
        '\tpushurl = git@github.com:acme/\\',
        'etl.git',
        '[Branch.Main]',
        '\tremote = origin',
        '[url "git@github.com:"] insteadOf = gh:',
        '[alias]',
        '\tsay = "echo \\"hi\\"\\tthere"',
        '\tsay = second',
        // A backslash that ends a comment continues nothing.
        '[remote "c"]',
        '\tpushurl = a ; note \\',
        '\turl = b',
      ].join('\n'),
    );
    expect(config.get('remote.c.pushurl')).toEqual(['a']);
    expect(config.get('remote.c.url')).toEqual(['b']);
    expect(config.get('core.filemode')).toEqual(['false']);
    expect(config.get('core.bare')).toEqual(['true']);
    expect(config.get('remote.Origin With Space.url')).toEqual(['https://github.com/acme/etl.git']);
    expect(config.get('remote.Origin With Space.pushurl')).toEqual(['git@github.com:acme/etl.git']);
    expect(config.get('branch.main.remote')).toEqual(['origin']);
    expect(config.get('url.git@github.com:.insteadof')).toEqual(['gh:']);
    expect(config.get('alias.say')).toEqual(['echo "hi"\tthere', 'second']);
    expect(configValue([config], 'alias.say')).toBe('second');
  });

  it('later files win, and booleans use git spelling', () => {
    const user = parseGitConfig('[core]\n\ttrustCtime = no\n');
    const repo = parseGitConfig('[core]\n\ttrustCtime = on\n');
    expect(configValue([user, repo], 'core.trustctime')).toBe('on');
    expect(configBoolean('on', false)).toBe(true);
    expect(configBoolean('No', true)).toBe(false);
    expect(configBoolean(undefined, true)).toBe(true);
    expect(configBoolean('maybe', false)).toBe(false);
    // `key =` with nothing after it is false; integers count as git counts them.
    expect(configBoolean('', true)).toBe(false);
    expect(configBoolean('2', false)).toBe(true);
    expect(configBoolean('1k', false)).toBe(true);
    expect(configBoolean('0', true)).toBe(false);
  });
});

describe('wildmatch (WM_PATHNAME), as includeIf patterns use it', () => {
  it.each([
    ['/home/u/work/**', '/home/u/work/a/b/.git', true],
    ['/home/u/work/**', '/home/u/other/.git', false],
    ['**/work/*/.git', '/srv/work/repo/.git', true],
    ['**/work/*/.git', '/srv/work/a/b/.git', false],
    ['**/r?po/.git', '/x/repo/.git', true],
    ['**/r[a-d]po/.git', '/x/repo/.git', false],
    ['**/r[!a-d]po/.git', '/x/repo/.git', true],
    ['feature/**', 'feature/a/b', true],
    ['feature/*', 'feature/a/b', false],
    ['main', 'main', true],
    ['ma\\*n', 'ma*n', true],
    ['ma\\*n', 'moon', false],
    ['a.b', 'axb', false],
  ])('%s against %s: %s', (pattern, text, expected) => {
    expect(wildmatch(pattern, text, false)).toBe(expected);
  });

  // Each row checked with git itself: `git ls-files -- ':(glob)<pattern>'` (`:(glob,icase)` for the
  // rows with true in the last column) matches with the same wildmatch.
  it.each([
    ['x[\\]]y', 'x]y', true, false],
    ['b[\\c]c', 'b\\c', false, false],
    ['b[\\\\]c', 'b\\c', true, false],
    ['[[:alpha:]]b', 'Ab', true, false],
    ['[[:upper:]]b', 'ab', false, false],
    ['[[:upper:]]b', 'ab', true, true],
    ['[[:xdigit:]][[:digit:]]', 'e9', true, false],
    ['[[:foo:]]', 'Z', false, false],
    ['a/***/d', 'a/b/c/d', true, false],
    ['[z-a]', 'Z', false, false],
    ['x[', 'x[', false, false],
    ['[!a]b', 'Ab', true, false],
    ['[^a]b', 'ab', false, false],
    ['[]]', ']', true, false],
    ['AB', 'ab', true, true],
    // Git does not fold the members of a class.
    ['a[B]', 'ab', false, true],
    // Bytes, not characters: "é" is two.
    ['?', '\u00e9', false, false],
    ['??', '\u00e9', true, false],
  ])('as git: %s against %s gives %s (ignoring case: %s)', (pattern, text, expected, fold) => {
    expect(wildmatch(pattern, text, fold)).toBe(expected);
  });

  it('folds case only when asked (gitdir/i)', () => {
    expect(wildmatch('/Work/**', '/work/a', false)).toBe(false);
    expect(wildmatch('/Work/**', '/work/a', true)).toBe(true);
  });
});

describe('includes', () => {
  const saved = process.env.GIT_CONFIG_GLOBAL;
  afterEach(() => {
    if (saved === undefined) delete process.env.GIT_CONFIG_GLOBAL;
    else process.env.GIT_CONFIG_GLOBAL = saved;
  });

  it('reads an included file at the place of the include', async () => {
    const dir = scratchDir();
    writeFileSync(
      join(dir, 'a'),
      '[user]\n\tname = a\n[include]\n\tpath = b\n[user]\n\tname = c\n',
    );
    writeFileSync(join(dir, 'b'), '[user]\n\tname = b\n[include]\n\tpath = a\n');
    // b includes a again: the loop stops at git's depth limit instead of running forever.
    const values = (await readGitConfig(join(dir, 'a'))).get('user.name') ?? [];
    expect(values.slice(0, 3)).toEqual(['a', 'b', 'a']);
    expect(values.at(-1)).toBe('c');
  });

  it('reads gitdir:~/ as everything under home, and ./ from the real place of the config file', async () => {
    const home = scratchDir();
    const savedHome = process.env.HOME;
    process.env.HOME = home;
    try {
      const dotfiles = join(home, 'dotfiles');
      mkdirSync(join(dotfiles, 'code'), { recursive: true });
      writeFileSync(join(home, 'everywhere'), '[user]\n\tname = home\n');
      writeFileSync(join(dotfiles, 'here'), '[user]\n\tname = dotfiles\n');
      writeFileSync(
        join(dotfiles, 'gitconfig'),
        `[includeIf "gitdir:~/"]\n\tpath = ${join(home, 'everywhere')}\n[includeIf "gitdir:./code/"]\n\tpath = ${join(dotfiles, 'here')}\n`,
      );
      // ~/.gitconfig is a symlink into a dotfiles repository, as it often is.
      symlinkSync(join(dotfiles, 'gitconfig'), join(home, '.gitconfig'));
      const config = await readGitConfig(join(home, '.gitconfig'), {
        gitdir: join(dotfiles, 'code', 'r', '.git'),
      });
      expect(config.get('user.name')).toEqual(['home', 'dotfiles']);
      const elsewhere = await readGitConfig(join(home, '.gitconfig'), { gitdir: '/srv/r/.git' });
      expect(elsewhere.get('user.name')).toBeUndefined();
    } finally {
      if (savedHome === undefined) delete process.env.HOME;
      else process.env.HOME = savedHome;
    }
  });

  it('follows include.path and includeIf gitdir/onbranch in the global config, as git does', async () => {
    const home = scratchDir();
    const work = join(home, 'work');
    mkdirSync(work);
    writeFileSync(join(home, 'rewrite'), '[url "https://github.com/"]\n\tinsteadOf = work:\n');
    writeFileSync(join(home, 'ignores'), '*.scratch\n');
    writeFileSync(join(home, 'excludes'), `[core]\n\texcludesFile = ${join(home, 'ignores')}\n`);
    writeFileSync(join(home, 'feature'), '[url "https://gitlab.com/"]\n\tpushInsteadOf = work:\n');
    writeFileSync(
      join(home, 'gitconfig'),
      [
        `[includeIf "gitdir:${work}/"]`,
        '\tpath = rewrite',
        '[include]',
        '\tpath = excludes',
        '[includeIf "onbranch:feature/"]',
        '\tpath = feature',
      ].join('\n'),
    );
    process.env.GIT_CONFIG_GLOBAL = join(home, 'gitconfig');
    const inside = join(work, 'etl');
    mkdirSync(inside);
    const repo = createRepo({ 'a.txt': 'a\n' });
    // Moved under the work directory, so that the gitdir condition holds.
    git(repo, 'remote', 'add', 'origin', 'work:acme/etl');
    git(home, 'clone', '-q', repo, inside);
    git(inside, 'remote', 'set-url', 'origin', 'work:acme/etl');
    writeFileSync(join(inside, 'notes.scratch'), 'ignored by an included excludesFile\n');
    const status = await GitStatus.fromRepo(inside);
    expect(status.remoteUrl).toBe('https://github.com/acme/etl');
    expect(git(inside, 'remote', 'get-url', '--push', 'origin')).toBe(
      'https://github.com/acme/etl',
    );
    expect(status.isTreeClean).toBe(true);
    expect(git(inside, 'status', '--porcelain')).toBe('');
    // Outside the work directory the rewrite does not apply.
    expect((await GitStatus.fromRepo(repo)).remoteUrl).toBe('https://work/acme/etl');
    // On a feature/ branch, the pushInsteadOf of the onbranch include applies.
    git(inside, 'checkout', '-q', '-b', 'feature/x');
    expect(git(inside, 'remote', 'get-url', '--push', 'origin')).toBe(
      'https://gitlab.com/acme/etl',
    );
    expect((await GitStatus.fromRepo(inside)).remoteUrl).toBe('https://gitlab.com/acme/etl');
  });
});
