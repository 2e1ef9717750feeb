import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildContextOf, type ImageSpec, isLocalPackage } from './image-builder';

const spec: ImageSpec = {
  baseImage: 'flyte-sandbox/base:bookworm',
  language: 'python',
  systemPackages: ['python3-numpy'],
  packages: ['requests==2.0; rm -rf /'],
  additionalCommands: ['echo hi > /opt/x'],
};

describe('buildContextOf', () => {
  it('passes package names as argv entries, never through a shell string', async () => {
    const { dockerfile } = await buildContextOf(spec, 'sha256:1');
    const pipLine = dockerfile.split('\n').find((line) => line.includes('pip install')) ?? '';
    const argv = JSON.parse(pipLine.replace(/^RUN /, '')) as string[];
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv.at(-1)).toBe('requests==2.0; rm -rf /');
    expect(dockerfile).toContain('RUN echo hi > /opt/x');
  });

  it('hashes the whole spec, the base image id and local package contents', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pkg-'));
    try {
      await writeFile(join(dir, 'setup.py'), 'v1');
      const local = { ...spec, packages: [dir] };
      const a = (await buildContextOf(local, 'sha256:1')).hash;
      expect((await buildContextOf(local, 'sha256:1')).hash).toBe(a);
      expect((await buildContextOf(local, 'sha256:2')).hash).not.toBe(a);
      expect(
        (await buildContextOf({ ...local, additionalCommands: [] }, 'sha256:1')).hash,
      ).not.toBe(a);
      await writeFile(join(dir, 'setup.py'), 'v2');
      expect((await buildContextOf(local, 'sha256:1')).hash).not.toBe(a);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('tells local paths from registry names', () => {
    expect(['./pkg', '../pkg', '/abs/pkg', 'file:pkg'].every(isLocalPackage)).toBe(true);
    expect(['numpy', 'ms@2.1.3', '@scope/x'].some(isLocalPackage)).toBe(false);
  });
});
