import { describe, expect, it } from 'vitest';
import { MAX_REDACTION_DEPTH, REDACTED, SecretRedactor } from './secrets';

const SECRET = 'tok-1234567890';

/** `leaf` under `levels` nested objects: { a: { a: ... leaf } }. */
function nested(levels: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('SecretRedactor.value', () => {
  const redactor = new SecretRedactor({ token: SECRET });

  it('redacts keys as well as values, and keeps a __proto__ key a key', () => {
    const copy = redactor.value(
      JSON.parse(`{"${SECRET}": "Bearer ${SECRET}", "__proto__": 1}`),
    ) as Record<string, unknown>;
    expect(Object.keys(copy)).toEqual([REDACTED, '__proto__']);
    expect(copy[REDACTED]).toBe(`Bearer ${REDACTED}`);
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toBe(1);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });

  it('reads nested values to its depth limit and replaces deeper ones whole', () => {
    expect(JSON.stringify(redactor.value(nested(40, `Bearer ${SECRET}`)))).not.toContain(SECRET);
    const deep = redactor.value(nested(MAX_REDACTION_DEPTH + 5, [`Bearer ${SECRET}`]));
    expect(JSON.stringify(deep)).not.toContain(SECRET);
    expect(JSON.stringify(deep)).toContain(REDACTED);
    // Values without secrets to hide are returned as they are.
    const untouched = nested(MAX_REDACTION_DEPTH + 5, SECRET);
    expect(new SecretRedactor({}).value(untouched)).toBe(untouched);
  });
});
