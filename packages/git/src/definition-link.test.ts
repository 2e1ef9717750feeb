import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createRepo, git, removeScratch, scratchDir } from './__fixtures__/git-repository';
import { linkForDefinition, mapToOriginalSource } from './definition-link';

afterAll(removeScratch);

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Source-map VLQ of one number. */
function vlq(value: number): string {
  let rest = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = '';
  do {
    let digit = rest & 31;
    rest >>>= 5;
    if (rest > 0) digit |= 32;
    out += BASE64[digit];
  } while (rest > 0);
  return out;
}

/** A source map sending generated line i (0-based) to `originalLines[i]` (0-based) of `source`. */
function sourceMap(source: string, originalLines: number[]): string {
  let previous = 0;
  const mappings = originalLines.map((line) => {
    const segment = `${vlq(0)}${vlq(0)}${vlq(line - previous)}${vlq(0)}`;
    previous = line;
    return segment;
  });
  return JSON.stringify({ version: 3, sources: [source], names: [], mappings: mappings.join(';') });
}

const PIPELINE_TS = [
  "import { defineTask } from '@flyte/idl';",
  '',
  '// a comment that the compiler drops',
  'export const extract = defineTask({',
  "  name: 'extract',",
  '});',
  '',
].join('\n');

describe('linkForDefinition', () => {
  it('links a definition site in dist/*.js to the .ts line through the source map', async () => {
    const dir = createRepo(
      { 'src/pipeline.ts': PIPELINE_TS, '.gitignore': 'dist/\n' },
      'git@github.com:acme/etl.git',
    );
    mkdirSync(join(dir, 'dist'));
    // Generated lines 1..3 come from original lines 1, 4 and 5.
    writeFileSync(
      join(dir, 'dist', 'pipeline.js'),
      "import { defineTask } from '@flyte/idl';\nexport const extract = defineTask({\n  name: 'extract' });\n//# sourceMappingURL=pipeline.js.map\n",
    );
    writeFileSync(join(dir, 'dist', 'pipeline.js.map'), sourceMap('../src/pipeline.ts', [0, 3, 4]));
    const sha = git(dir, 'rev-parse', 'HEAD');

    expect(
      mapToOriginalSource({ file: join(dir, 'dist', 'pipeline.js'), line: 2, column: 23 }),
    ).toEqual({
      file: join(dir, 'src', 'pipeline.ts'),
      line: 4,
      column: 1,
    });
    const link = await linkForDefinition({
      file: join(dir, 'dist', 'pipeline.js'),
      line: 2,
      column: 23,
    });
    expect(link).toEqual({
      url: `https://github.com/acme/etl/blob/${sha}/src/pipeline.ts#L4`,
      reason: undefined,
      lineAnchored: true,
    });
    // A file:// URL as the file, and an inline (data:) source map.
    writeFileSync(
      join(dir, 'dist', 'inline.js'),
      `x;\ny;\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(sourceMap('../src/pipeline.ts', [3, 4])).toString('base64')}\n`,
    );
    const inline = await linkForDefinition({
      file: pathToFileURL(join(dir, 'dist', 'inline.js')).href,
      line: 2,
      column: 1,
    });
    expect(inline.url).toBe(`https://github.com/acme/etl/blob/${sha}/src/pipeline.ts#L5`);
  });

  it('links a file in a submodule to the submodule’s own repository', async () => {
    const library = createRepo(
      { 'tasks.ts': 'export const t = 1;\n' },
      'https://gitlab.com/acme/lib.git',
    );
    const parent = createRepo({ 'main.ts': 'main\n' }, 'https://github.com/acme/app.git');
    git(parent, 'submodule', 'add', '-q', library, 'vendor/lib');
    git(parent, 'commit', '-qm', 'submodule');
    // The submodule's clone points at the local path; give it a hosted remote.
    git(
      join(parent, 'vendor/lib'),
      'remote',
      'set-url',
      'origin',
      'https://gitlab.com/acme/lib.git',
    );
    const sha = git(library, 'rev-parse', 'HEAD');
    const link = await linkForDefinition({
      file: join(parent, 'vendor/lib/tasks.ts'),
      line: 1,
      column: 1,
    });
    expect(link.url).toBe(`https://gitlab.com/acme/lib/-/blob/${sha}/tasks.ts#L1`);
    const own = await linkForDefinition({ file: join(parent, 'main.ts'), line: 1, column: 1 });
    expect(own.url).toBe(
      `https://github.com/acme/app/blob/${git(parent, 'rev-parse', 'HEAD')}/main.ts#L1`,
    );
  });

  it('links to another repository than the current one', async () => {
    const other = createRepo({ 'job.ts': 'job\n' }, 'https://codeberg.org/acme/jobs.git');
    expect(process.cwd()).not.toBe(other);
    const link = await linkForDefinition({ file: join(other, 'job.ts'), line: 1, column: 5 });
    expect(link.url).toBe(
      `https://codeberg.org/acme/jobs/src/commit/${git(other, 'rev-parse', 'HEAD')}/job.ts#L1`,
    );
  });

  it('gives a reason, not an error, when there is nothing to link', async () => {
    expect(await linkForDefinition(undefined)).toEqual({
      url: undefined,
      reason: 'the task has no definition site',
      lineAnchored: false,
    });
    const loose = scratchDir();
    writeFileSync(join(loose, 'x.ts'), 'x\n');
    const link = await linkForDefinition({ file: join(loose, 'x.ts'), line: 1, column: 1 });
    expect(link.url).toBeUndefined();
    expect(link.reason).toContain('is not inside a git repository');
  });
});
