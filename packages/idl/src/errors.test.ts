import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { FlyteError, LiteralConversionError } from './errors';

// The built CommonJS bundle is a second, independent copy of this package: exactly what a
// duplicate install looks like at run time.
const otherCopy = createRequire(import.meta.url)('../dist/index.cjs') as typeof import('./index');

describe('FlyteError', () => {
  it('carries name, code, cause and frozen details', () => {
    const cause = new Error('socket closed');
    const error = new LiteralConversionError(
      'inputs.x: expected string',
      { path: 'inputs.x', expected: 'string', received: '1 (number)' },
      { cause },
    );
    expect(error.name).toBe('LiteralConversionError');
    expect(error.code).toBe('literal_conversion');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ path: 'inputs.x', expected: 'string', received: '1 (number)' });
    expect(Object.isFrozen(error.details)).toBe(true);
    expect(error).toBeInstanceOf(FlyteError);
    expect(error.stack).toContain('errors.test.ts');
  });

  it('recognises errors from another copy of the package, where instanceof fails', () => {
    const foreign = new otherCopy.LiteralConversionError('x', { path: 'p', expected: 'e' });
    expect(foreign instanceof FlyteError).toBe(false);
    expect(FlyteError.isInstance(foreign)).toBe(true);
    expect(LiteralConversionError.isInstance(foreign)).toBe(true);
    expect(otherCopy.UnsupportedSchemaError.isInstance(foreign)).toBe(false);
  });

  it('rejects look-alikes that lack the brand', () => {
    const lookAlike = Object.assign(new Error('x'), {
      code: 'literal_conversion',
      name: 'FlyteError',
    });
    expect(FlyteError.isInstance(lookAlike)).toBe(false);
    expect(FlyteError.isInstance(null)).toBe(false);
    expect(FlyteError.isInstance('FlyteError')).toBe(false);
  });
});
