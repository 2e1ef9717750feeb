import { describe, expect, it } from 'vitest';
import { findMissingPackage } from './invalid-package';

describe('findMissingPackage', () => {
  it('reads apt, including the colour codes of a build log', () => {
    expect(
      findMissingPackage(
        'Reading state information...\n\x1b[91mE: \x1b[0m\x1b[91mUnable to locate package nope-pkg\n',
      ),
    ).toEqual({ manager: 'apt', packageName: 'nope-pkg' });
    expect(findMissingPackage("E: Package 'python-old' has no installation candidate")).toEqual({
      manager: 'apt',
      packageName: 'python-old',
    });
  });

  it('reads pip', () => {
    const log = [
      'ERROR: Could not find a version that satisfies the requirement nopkg==1.0 (from versions: none)',
      'ERROR: No matching distribution found for nopkg==1.0',
    ].join('\n');
    expect(findMissingPackage(log)).toEqual({ manager: 'pip', packageName: 'nopkg==1.0' });
    expect(findMissingPackage("ERROR: Invalid requirement: 'not a name!'")).toEqual({
      manager: 'pip',
      packageName: 'not a name!',
    });
  });

  it('reads npm 7+ and npm 6 messages, keeping scopes', () => {
    expect(findMissingPackage("npm error 404  'nope-pkg@1.0.0' is not in this registry.")).toEqual({
      manager: 'npm',
      packageName: 'nope-pkg',
    });
    expect(
      findMissingPackage("npm ERR! 404  '@scope/thing@*' is not in the npm registry."),
    ).toEqual({ manager: 'npm', packageName: '@scope/thing' });
    expect(
      findMissingPackage(
        'npm ERR! 404 Not Found - GET https://registry.npmjs.org/@scope%2fother - Not found',
      ),
    ).toEqual({ manager: 'npm', packageName: '@scope/other' });
  });

  it('finds nothing in a log without such a message', () => {
    expect(
      findMissingPackage('Step 1/3 : FROM debian\nThe command returned a non-zero code: 1'),
    ).toBeUndefined();
  });
});
