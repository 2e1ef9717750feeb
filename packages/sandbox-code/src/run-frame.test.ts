import { describe, expect, it } from 'vitest';
import { RunFrameSplitter } from './run-frame';

const MARKER = '--end-1234--';

function feed(chunks: string[]) {
  const program: string[] = [];
  const splitter = new RunFrameSplitter(MARKER, (chunk) => program.push(chunk.toString()));
  const outputs: Buffer[] = [];
  splitter.outputs.on('data', (chunk: Buffer) => outputs.push(chunk));
  for (const chunk of chunks) splitter.push(Buffer.from(chunk));
  return { splitter, program, outputs };
}

describe('RunFrameSplitter', () => {
  it('splits program output, status and outputs, with the marker cut across chunks', async () => {
    const { splitter, program, outputs } = feed(['hello\n--en', 'd-1234-', '- 3 1\nTAR', 'BYTES']);
    splitter.end();
    await new Promise((r) => setImmediate(r));
    expect(program.join('')).toBe('hello\n');
    expect(splitter.status).toEqual({ exitCode: 3, oomKills: 1, unpackFailed: false });
    expect(Buffer.concat(outputs).toString()).toBe('TARBYTES');
  });

  it('passes ordinary output on at once, holding back only a possible marker start', () => {
    const { program } = feed(['running\n']);
    expect(program).toEqual(['running\n']);
    const partial = feed(['almost --end']);
    expect(partial.program).toEqual(['almost ']);
    partial.splitter.end();
    expect(partial.program.join('')).toBe('almost --end');
    expect(partial.splitter.status).toBeUndefined();
  });

  it('tells an input unpack failure apart from the program exiting with 125', () => {
    const unpack = feed([`${MARKER} 125 0 unpack\n${MARKER}\n`]);
    expect(unpack.splitter.status).toEqual({ exitCode: 125, oomKills: 0, unpackFailed: true });
    const own = feed([`${MARKER} 125 0\n${MARKER}\n`]);
    expect(own.splitter.status).toEqual({ exitCode: 125, oomKills: 0, unpackFailed: false });
  });

  it('asks its source to wait while nobody reads the outputs, instead of holding them all', () => {
    const splitter = new RunFrameSplitter(MARKER, () => undefined);
    expect(splitter.push(Buffer.from(`${MARKER} 0 0\n`))).toBe(true);
    expect(splitter.push(Buffer.alloc(1024 * 1024))).toBe(false);
    splitter.outputs.destroy();
    expect(splitter.push(Buffer.alloc(1024))).toBe(true);
  });
});
