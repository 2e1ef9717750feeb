import { describe, expect, it } from 'vitest';
import { configBoolean, configValue, parseGitConfig } from './git-config';

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
