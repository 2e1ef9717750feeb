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
});

it('maskSecrets replaces every occurrence and ignores empty secrets', () => {
  expect(maskSecrets('k=abc; again abc', ['abc', ''])).toBe('k=***; again ***');
});
