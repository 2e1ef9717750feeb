import { describe, expect, it } from 'vitest';
import { CappedOutput, LineSplitter, maskSecrets, TRUNCATION_MARKER } from './capped-output';

describe('CappedOutput', () => {
  it('keeps everything under the cap', () => {
    const out = new CappedOutput(100);
    out.push(Buffer.from('hello '));
    out.push(Buffer.from('world'));
    expect(out.text()).toBe('hello world');
    expect(out.truncated).toBe(false);
  });

  it('keeps the head and the tail of a flood, and marks the cut', () => {
    const out = new CappedOutput(10);
    for (const part of ['ABCDE', 'xxxxx', 'xxxxx', 'VWXYZ']) out.push(Buffer.from(part));
    expect(out.truncated).toBe(true);
    expect(out.text()).toBe(`ABCDE${TRUNCATION_MARKER}VWXYZ`);
  });

  it('masks secrets in what it keeps, also one across the head or the tail cut', () => {
    const secret = 'SECRET-VALUE';
    const fragments = (text: string) => {
      const found: string[] = [];
      for (let n = 4; n <= secret.length; n++) {
        if (text.includes(secret.slice(0, n))) found.push(secret.slice(0, n));
        if (text.includes(secret.slice(-n))) found.push(secret.slice(-n));
      }
      return found;
    };
    for (let offset = 0; offset <= secret.length; offset++) {
      // Across the head cut (byte 32 of 64), then across the start of the kept tail.
      for (const stream of [
        `${'a'.repeat(32 - offset)}${secret}${'b'.repeat(200)}`,
        `${'a'.repeat(200)}${secret}${'b'.repeat(32 - offset)}`,
      ]) {
        const out = new CappedOutput(64, [secret]);
        // In small chunks, as a container stream arrives.
        for (let i = 0; i < stream.length; i += 5) out.push(Buffer.from(stream.slice(i, i + 5)));
        expect(out.truncated).toBe(true);
        expect(fragments(out.text())).toEqual([]);
      }
    }
    const whole = new CappedOutput(64, [secret]);
    whole.push(Buffer.from(`a ${secret} b`));
    expect(whole.text()).toBe('a *** b');
  });
});

describe('LineSplitter', () => {
  it('emits whole lines and masks a secret split across chunks', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((text) => lines.push(text), ['TOPSECRET']);
    splitter.push(Buffer.from('a TOPS'));
    splitter.push(Buffer.from('ECRET b\nlast'));
    splitter.flush();
    expect(lines).toEqual(['a *** b\n', 'last']);
  });

  it('passes an endless line on in pieces', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((text) => lines.push(text), [], 4);
    splitter.push(Buffer.from('abcdefghij'));
    expect(lines).toEqual(['abcd', 'efgh']);
  });

  it('masks a secret that straddles the cut of a long line into pieces', () => {
    const secret = 'SECRET-VALUE';
    for (let offset = 0; offset < secret.length; offset++) {
      const lines: string[] = [];
      const splitter = new LineSplitter((text) => lines.push(text), [secret], 64);
      const line = `${'a'.repeat(64 - offset)}${secret}${'b'.repeat(200)}`;
      // Fed in small chunks, as a container stream arrives.
      for (let i = 0; i < line.length; i += 7) splitter.push(Buffer.from(line.slice(i, i + 7)));
      splitter.flush();
      const joined = lines.join('');
      expect(joined).not.toContain('SECRET');
      expect(joined).not.toContain('VALUE');
      expect(joined).toBe(line.replace(secret, '***'));
      expect(lines.every((piece) => Buffer.byteLength(piece) <= 64)).toBe(true);
    }
  });

  it('does not split a UTF-8 character across pieces', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((text) => lines.push(text), [], 5);
    splitter.push(Buffer.from('abcd✓efghij'));
    splitter.flush();
    expect(lines.join('')).toBe('abcd✓efghij');
  });
});

it('maskSecrets replaces every occurrence and ignores empty secrets', () => {
  expect(maskSecrets('k=abc; again abc', ['abc', ''])).toBe('k=***; again ***');
});

it('maskSecrets leaves no part of a secret that another secret is a prefix of or overlaps', () => {
  expect(maskSecrets('token=abcdef', ['abc', 'abcdef'])).toBe('token=***');
  expect(maskSecrets('token=abcdef', ['abcdef', 'abc'])).toBe('token=***');
  expect(maskSecrets('x abcdef y', ['abc', 'cdef'])).toBe('x *** y');
});
