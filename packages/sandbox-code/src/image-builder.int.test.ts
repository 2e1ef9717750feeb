// Builds images on flyte-sandbox/base:bookworm (apt, pip from a local package, npm) and runs containers from them.
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { z } from 'zod';
import { describeWithDocker } from '../../../scripts/testing/docker';
import { statusOf } from './docker-client';
import { BaseImageMissingError, InvalidPackageError } from './errors';
import { createSandbox } from './sandbox';
import { expectNoContainersLeft, TEST_BASE_IMAGE, testDocker } from './testing-support';

const localPackage = fileURLToPath(new URL('./__fixtures__/local-pip-package', import.meta.url));
const built = new Set<string>();

async function removeImage(tag: string): Promise<void> {
  try {
    await testDocker.getImage(tag).remove({ force: true });
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
}

const pythonSpec = () => ({
  name: 'py.built',
  baseImage: TEST_BASE_IMAGE,
  systemPackages: ['python3-numpy'],
  packages: [localPackage],
  additionalCommands: ['echo built-by-additional-commands > /opt/marker.txt'],
  code: [
    'import numpy, flyte_fixture_pkg',
    'total = int(numpy.arange(n).sum())',
    'tripled = flyte_fixture_pkg.triple(n)',
    'marker = open("/opt/marker.txt").read().strip()',
  ].join('\n'),
  inputs: z.object({ n: z.number().int() }),
  outputs: z.object({ total: z.number().int(), tripled: z.number().int(), marker: z.string() }),
});

await describeWithDocker(import.meta.url, 'sandbox image builds', () => {
  afterAll(async () => {
    for (const tag of built) await removeImage(tag);
    await expectNoContainersLeft();
  });

  it('builds once from apt, local pip and additional commands, coalescing concurrent builds', {
    timeout: 600_000,
  }, async () => {
    // The tag is a hash of the spec: build (or find) it, then drop the tag but keep its layers,
    // so the builds below really run (from cache) and must coalesce into one.
    const probe = createSandbox({ ...pythonSpec(), name: 'probe' });
    const tag = await probe.build();
    built.add(tag);
    expect(tag).toMatch(/^flyte-sandbox\/code:[0-9a-f]{24}$/);
    await testDocker.getImage(tag).remove({ force: true, noprune: true });
    const first = createSandbox(pythonSpec());
    const second = createSandbox(pythonSpec());
    const progress: string[] = [];
    const secondProgress: string[] = [];
    const [tagA, tagB] = await Promise.all([
      first.build({ onProgress: (line) => progress.push(line) }),
      second.build({ onProgress: (line) => secondProgress.push(line) }),
    ]);
    expect([tagA, tagB]).toEqual([tag, tag]);
    const steps = [...progress, ...secondProgress].filter((line) => /^Step 1\//.test(line));
    expect(steps).toHaveLength(1);
    // Progress goes to the caller whose request started the build.
    expect([...progress, ...secondProgress].join('')).toMatch(/python3-numpy/);
    const out = await first.run({ n: 10 });
    expect(out).toMatchObject({ total: 45, tripled: 30, marker: 'built-by-additional-commands' });
    // A new sandbox of the same spec finds the tag: no build, no progress.
    const again: string[] = [];
    const third = createSandbox({ ...pythonSpec(), name: 'third' });
    expect(await third.build({ onProgress: (line) => again.push(line) })).toBe(tagA);
    expect(again).toEqual([]);
    const inspected = await testDocker.getImage(tagA).inspect();
    expect(inspected.Config.Labels?.['flyte.sandbox.image']).toBe('1');
  });

  it('rebuilds for real after the tag is gone, streaming progress', {
    timeout: 600_000,
  }, async () => {
    const sandbox = createSandbox({
      name: 'js.ms',
      language: 'javascript',
      baseImage: TEST_BASE_IMAGE,
      packages: ['ms@2.1.3'],
      code: 'const ms = require("ms"); const millis = ms(text);',
      inputs: z.object({ text: z.string() }),
      outputs: z.object({ millis: z.number() }),
    });
    const tag = await sandbox.build();
    built.add(tag);
    await removeImage(tag);
    const progress: string[] = [];
    const fresh = createSandbox({
      name: 'js.ms2',
      language: 'javascript',
      baseImage: TEST_BASE_IMAGE,
      packages: ['ms@2.1.3'],
      code: 'const ms = require("ms"); const millis = ms(text);',
      inputs: z.object({ text: z.string() }),
      outputs: z.object({ millis: z.number() }),
    });
    const out = await fresh.run({ text: '2h' }, { onBuildProgress: (line) => progress.push(line) });
    expect(out.millis).toBe(7_200_000);
    expect(progress.join('')).toMatch(/Step 1\/.*FROM flyte-sandbox\/base:bookworm/);
    expect(progress.join('')).toMatch(/npm install/);
  });

  it('names an unknown apt package and an unknown npm package', { timeout: 300_000 }, async () => {
    const apt = createSandbox({
      name: 'bad.apt',
      baseImage: TEST_BASE_IMAGE,
      systemPackages: ['flyte-no-such-package-zz9'],
      code: 'pass',
    });
    const aptError = await apt.build().catch((e: unknown) => e);
    expect(aptError).toBeInstanceOf(InvalidPackageError);
    expect(aptError).toMatchObject({ packageName: 'flyte-no-such-package-zz9', manager: 'apt' });
    const npm = createSandbox({
      name: 'bad.npm',
      language: 'javascript',
      baseImage: TEST_BASE_IMAGE,
      packages: ['flyte-no-such-package-zz9@1.0.0'],
      code: '1',
    });
    const npmError = await npm.build().catch((e: unknown) => e);
    expect(npmError).toBeInstanceOf(InvalidPackageError);
    expect(npmError).toMatchObject({
      packageName: 'flyte-no-such-package-zz9@1.0.0',
      manager: 'npm',
    });
    expect((npmError as Error).message).toContain('"flyte-no-such-package-zz9@1.0.0"');
  });

  it('says how to get a missing base image', async () => {
    const sandbox = createSandbox({
      name: 'no.base',
      baseImage: 'flyte-sandbox/does-not-exist:none',
      pullBaseImage: false,
      code: 'pass',
    });
    const error = await sandbox.run({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BaseImageMissingError);
    expect((error as Error).message).toMatch(
      /flyte-sandbox\/does-not-exist:none.*docker pull.*scripts\/sandbox-base-image\.sh/s,
    );
  });

  it('uses FLYTE_SANDBOX_BASE_IMAGE when no baseImage is given', async () => {
    const previous = process.env.FLYTE_SANDBOX_BASE_IMAGE;
    process.env.FLYTE_SANDBOX_BASE_IMAGE = TEST_BASE_IMAGE;
    try {
      const sandbox = createSandbox({
        name: 'env.base',
        code: 'import os\nname = os.uname().sysname',
        outputs: z.object({ name: z.string() }),
      });
      expect(await sandbox.build()).toBe(TEST_BASE_IMAGE);
      expect((await sandbox.run({})).name).toBe('Linux');
    } finally {
      if (previous === undefined) delete process.env.FLYTE_SANDBOX_BASE_IMAGE;
      else process.env.FLYTE_SANDBOX_BASE_IMAGE = previous;
    }
  });
});
