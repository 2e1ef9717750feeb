import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import { TaskTemplateSchema as OfficialTaskTemplateSchema } from '@flyteorg/flyteidl2/flyteidl2/core/tasks_pb.ts';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SimpleType, TaskTemplateSchema } from '../dist/core.js';
import { FlyteError } from './errors';
import { createTaskTemplate, defineTask } from './task-definition';

const here = fileURLToPath(import.meta.url);
const packageDir = resolve(dirname(here), '..');

const add = defineTask({
  name: 'math.add',
  taskType: 'typescript-function',
  inputs: z.object({ a: z.number(), b: z.number().default(1) }),
  outputs: z.object({ sum: z.number() }),
  run: async ({ a, b }) => ({ sum: a + b }),
  custom: { note: 'adds' },
});

describe('defineTask', () => {
  it('records the caller as the definition site', () => {
    const line = readFileSync(here, 'utf8').split('\n').indexOf('const add = defineTask({') + 1;
    expect(add.definedAt).toEqual({ file: here, line, column: expect.any(Number) });
  });

  it('validates inputs before running and outputs after', async () => {
    expect(await add.run({ a: 2 })).toEqual({ sum: 3 });
    await expect(add.run({ a: 'x' } as never)).rejects.toThrow(
      /Task "math.add" got invalid inputs: inputs.a/,
    );
    const liar = defineTask({
      name: 'liar',
      taskType: 't',
      inputs: z.object({}),
      outputs: z.object({ n: z.number() }),
      run: async () => ({ n: 'not a number' }) as never,
    });
    await expect(liar.run({})).rejects.toMatchObject({
      code: 'invalid_task_io',
      details: { stage: 'outputs' },
    });
  });

  it('does not start when the signal is already aborted', async () => {
    let started = false;
    const task = defineTask({
      name: 'never',
      taskType: 't',
      inputs: z.object({}),
      outputs: z.object({}),
      run: async () => {
        started = true;
        return {};
      },
    });
    await expect(task.run({}, { signal: AbortSignal.abort() })).rejects.toThrow(/aborted/i);
    expect(started).toBe(false);
  });

  it('rejects with the reason as soon as the signal aborts mid-run', async () => {
    let seen: AbortSignal | undefined;
    const stubborn = defineTask({
      name: 'stubborn',
      taskType: 't',
      inputs: z.object({}),
      outputs: z.object({}),
      // Ignores its signal and never settles: only the abort can end the run.
      run: (_inputs, { signal }) => {
        seen = signal;
        return new Promise<never>(() => {});
      },
    });
    const controller = new AbortController();
    const running = stubborn.run({}, { signal: controller.signal });
    const reason = new Error('user pressed stop');
    setTimeout(() => controller.abort(reason), 10);
    await expect(running).rejects.toBe(reason);
    // The function got the very signal, so it can release what it started.
    expect(seen).toBe(controller.signal);
  });

  it('still resolves when the signal never aborts', async () => {
    const controller = new AbortController();
    expect(await add.run({ a: 1 }, { signal: controller.signal })).toEqual({ sum: 2 });
    controller.abort();
  });

  it('accepts a run function that returns or throws without a promise, as JavaScript may', async () => {
    // Typed to return a promise; plain JavaScript callers (or `as any`) are not held to that.
    const syncRun = (({ a }: { a: number }) => ({ sum: a * 2 })) as unknown as (inputs: {
      a: number;
    }) => Promise<{ sum: number }>;
    const double = defineTask({
      name: 'math.double',
      taskType: 'typescript-function',
      inputs: z.object({ a: z.number() }),
      outputs: z.object({ sum: z.number() }),
      run: syncRun,
    });
    expect(await double.run({ a: 3 })).toEqual({ sum: 6 });
    const failing = defineTask({
      name: 'math.fail',
      taskType: 'typescript-function',
      inputs: z.object({}),
      outputs: z.object({}),
      run: (() => {
        throw new Error('no such row');
      }) as unknown as () => Promise<Record<string, never>>,
    });
    await expect(failing.run({})).rejects.toThrow('no such row');
  });

  it('accepts recursive inputs (one STRUCT) instead of overflowing the stack', async () => {
    const Category = z.object({
      name: z.string(),
      get children() {
        return z.array(Category);
      },
    });
    const count = defineTask({
      name: 'count',
      taskType: 't',
      inputs: z.object({ root: Category }),
      outputs: z.object({ n: z.number() }),
      run: async ({ root }) => ({ n: root.children.length }),
    });
    const template = count.toTaskTemplate({ project: 'p', domain: 'd', version: 'v' });
    expect(template.interface?.inputs?.variables[0]?.value?.type?.type).toEqual({
      case: 'simple',
      value: SimpleType.STRUCT,
    });
    expect(
      await count.run({ root: { name: 'a', children: [{ name: 'b', children: [] }] } }),
    ).toEqual({
      n: 1,
    });
  });

  it('fails at definition time when a schema has no flyteidl2 type', () => {
    expect(() =>
      defineTask({
        name: 'bad',
        taskType: 't',
        inputs: z.object({ cb: z.function() }),
        outputs: z.object({}),
        run: async () => ({}),
      }),
    ).toThrow(/inputs\.cb/);
  });
});

describe('toTaskTemplate', () => {
  it('produces a TaskTemplate the official schema decodes field for field', () => {
    const template = add.toTaskTemplate({
      project: 'flytesnacks',
      domain: 'development',
      version: 'abc123',
    });
    const bytes = toBinary(TaskTemplateSchema, template);
    const official = fromBinary(OfficialTaskTemplateSchema, bytes);
    const json = toJson(OfficialTaskTemplateSchema, official) as Record<string, unknown>;
    expect(json).toMatchObject({
      id: {
        resourceType: 'TASK',
        project: 'flytesnacks',
        domain: 'development',
        name: 'math.add',
        version: 'abc123',
      },
      type: 'typescript-function',
      metadata: { runtime: { type: 'FLYTE_SDK', flavor: 'typescript' } },
      interface: {
        inputs: { variables: [{ key: 'a', value: { type: { simple: 'FLOAT' } } }, { key: 'b' }] },
        outputs: { variables: [{ key: 'sum', value: { type: { simple: 'FLOAT' } } }] },
      },
      custom: { note: 'adds' },
    });
  });

  it('puts a container or SQL target where Flyte looks for it', () => {
    const template = createTaskTemplate(
      add,
      { project: 'p', domain: 'd', version: 'v' },
      {
        container: { image: 'flyte-sandbox/base:bookworm', args: ['run'] },
        metadata: { retries: { retries: 3 } },
      },
    );
    expect(template.target.case).toBe('container');
    expect(template.metadata?.retries?.retries).toBe(3);
    expect(template.metadata?.runtime?.flavor).toBe('typescript');
  });

  it('rejects an empty project, domain or version', () => {
    expect(() => add.toTaskTemplate({ project: 'p', domain: '', version: 'v' })).toThrow(
      FlyteError,
    );
    expect(() => add.toTaskTemplate({ project: 'p', domain: '', version: 'v' })).toThrow(
      /domain is empty/,
    );
  });
});

describe('definition site through source maps', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('links a task run from compiled JavaScript to its TypeScript line', async () => {
    const project = await mkdtemp(join(tmpdir(), 'flyte-idl-sourcemap-'));
    dirs.push(project);
    const require = createRequire(import.meta.url);
    const source = [
      "import { z } from 'zod';",
      "import { defineTask } from '@flyte/idl';",
      '',
      'type Row = { id: number };',
      'const rows: Row[] = [];',
      '',
      'export const load = defineTask({',
      "  name: 'etl.load',",
      "  taskType: 'typescript-function',",
      '  inputs: z.object({}),',
      '  outputs: z.object({ n: z.number() }),',
      '  run: async () => ({ n: rows.length }),',
      '});',
      'console.log(JSON.stringify(load.definedAt));',
    ].join('\n');
    const out = ts.transpileModule(source, {
      fileName: 'pipeline.ts',
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        sourceMap: true,
        // Comments and blank lines vanish, so generated lines differ from source lines.
        removeComments: true,
      },
    });
    await mkdir(join(project, 'src'));
    await mkdir(join(project, 'dist'));
    await writeFile(join(project, 'src', 'pipeline.ts'), source);
    const map = JSON.parse(out.sourceMapText ?? '{}');
    map.sources = ['../src/pipeline.ts'];
    await writeFile(join(project, 'dist', 'pipeline.js.map'), JSON.stringify(map));
    // Resolve the two imports to this workspace's build, as an installed package would be.
    const js = out.outputText
      .replace(
        'require("@flyte/idl")',
        JSON.stringify(join(packageDir, 'dist', 'index.cjs'))
          .replace(/^/, 'require(')
          .concat(')'),
      )
      .replace('require("zod")', `require(${JSON.stringify(require.resolve('zod'))})`);
    await writeFile(join(project, 'dist', 'pipeline.js'), js);

    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(project, 'dist', 'pipeline.js')],
      {
        timeout: 20_000,
      },
    );
    const site = JSON.parse(stdout);
    expect(site).toMatchObject({ file: join(project, 'src', 'pipeline.ts'), line: 7 });
    // Column precision depends on the compiler's map; it lands inside `defineTask(`.
    expect(site.column).toBeGreaterThanOrEqual(21);
    expect(site.column).toBeLessThanOrEqual(31);
  });

  it('finds ESM top-level code in a folder whose name has parentheses', async () => {
    const project = await mkdtemp(join(tmpdir(), 'flyte-idl-esm-'));
    dirs.push(project);
    // Top-level ESM frames have no function name: "at file:///.../pipelines%20(copy)/x.mjs:3:11".
    const folder = join(project, 'pipelines (copy)');
    await mkdir(folder);
    const require = createRequire(import.meta.url);
    const file = join(folder, 'pipeline.mjs');
    await writeFile(
      file,
      [
        `import { z } from ${JSON.stringify(pathToFileURL(require.resolve('zod')).href)};`,
        `import { defineTask } from ${JSON.stringify(pathToFileURL(join(packageDir, 'dist', 'index.js')).href)};`,
        "const task = defineTask({ name: 't', taskType: 't', inputs: z.object({}), outputs: z.object({}), run: async () => ({}) });",
        'console.log(JSON.stringify(task.definedAt ?? null));',
      ].join('\n'),
    );
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 20_000 });
    expect(JSON.parse(stdout)).toEqual({ file, line: 3, column: 14 });
  });
});
