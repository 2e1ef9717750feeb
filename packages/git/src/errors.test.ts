import { describe, expect, it } from 'vitest';
import { GitError } from './errors';

describe('GitError', () => {
  it('has the FlyteError shape and brand, so FlyteError.isInstance from @flyte/idl accepts it', () => {
    const cause = new Error('disk');
    const error = new GitError('corrupt_index', 'bad index', { cause, details: { path: '/x' } });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('GitError');
    expect(error.code).toBe('corrupt_index');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ path: '/x' });
    expect(Object.isFrozen(error.details)).toBe(true);
    // The brand @flyte/idl's FlyteError.isInstance checks first.
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for('@flyte/error')]).toBe(true);
  });

  it('isInstance recognises a GitError from another copy of the package, and nothing else', () => {
    // A class from another copy is another object with the same name and brand.
    const brand = Symbol.for('@flyte/error');
    class GitErrorCopy extends Error {}
    Object.defineProperty(GitErrorCopy, 'name', { value: 'GitError' });
    const copy = new GitErrorCopy('x');
    Object.defineProperty(copy, brand, { value: true });
    expect(GitError.isInstance(copy)).toBe(true);
    expect(GitError.isInstance(new Error('x'))).toBe(false);
    expect(GitError.isInstance(Object.assign(new Error('x'), { name: 'GitError' }))).toBe(false);
    expect(GitError.isInstance(null)).toBe(false);
  });
});
