import { dirRef, duration, fileRef } from '@flyte/idl';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidSandboxOptionsError, SandboxInputError } from './errors';
import { manifestOf } from './io-kinds';
import { createSandbox, parseByteSize } from './sandbox';

const context = { project: 'proj', domain: 'dev', version: 'v1' };

describe('createSandbox options', () => {
  it.each([
    [{ name: 'a' }, /exactly one of `code`/],
    [{ name: 'a', code: 'x', command: ['ls'] }, /exactly one of `code`/],
    [{ name: 'a', code: 'x', language: 'ruby' }, /language "ruby"/],
    [{ name: 'a', code: 'x', arguments: ['y'] }, /`arguments` go to a command/],
    [{ name: 'a', code: 'x', image: 'i', packages: ['p'] }, /`image` is used as is/],
    [
      { name: 'a', code: 'x', outputs: z.object({ 'bad-name': z.string() }) },
      /must be an identifier/,
    ],
    [
      { name: 'a', code: 'x', outputs: z.object({ stdout: z.string() }) },
      /reserved for the run report/,
    ],
    [{ name: 'a', code: 'x', resources: { memory: 'lots' } }, /resources.memory is "lots"/],
    [{ name: 'a', code: 'x', resources: { pids: 2 } }, /resources.pids must be/],
    [{ name: 'a', code: 'x', network: 'bridge' }, /network "bridge"/],
    [{ name: 'a', code: 'x', timeout: 0 }, /timeout must be > 0/],
    [{ name: 'a', code: 'x', secrets: { 'BAD NAME': 'v' } }, /environment variable name/],
  ])('rejects %o', (options, message) => {
    expect(() => createSandbox(options as never)).toThrow(InvalidSandboxOptionsError);
    expect(() => createSandbox(options as never)).toThrow(message);
  });

  it('parses byte sizes', () => {
    expect(parseByteSize('512Mi', 'm')).toBe(512 * 1024 * 1024);
    expect(parseByteSize('1g', 'm')).toBe(1024 ** 3);
    expect(parseByteSize(1000, 'm')).toBe(1000);
    expect(() => parseByteSize('-1', 'memory')).toThrow(/memory is "-1"/);
  });

  it('maps schemas to file kinds', () => {
    const schema = z.object({
      s: z.string(),
      i: z.number().int(),
      f: z.number(),
      b: z.boolean(),
      d: z.date(),
      t: duration(),
      o: z.object({ a: z.number() }),
      l: z.array(z.string()),
      e: z.enum(['x', 'y']),
      maybe: z.number().int().optional(),
      file: fileRef(),
      dir: dirRef(),
    });
    expect(manifestOf(schema, 'inputs')).toEqual({
      s: 'string',
      i: 'integer',
      f: 'number',
      b: 'boolean',
      d: 'datetime',
      t: 'duration',
      o: 'json',
      l: 'json',
      e: 'string',
      maybe: 'integer',
      file: 'file',
      dir: 'dir',
    });
  });

  it('checks inputs before touching Docker', async () => {
    const sandbox = createSandbox({
      name: 'checked',
      code: 'pass',
      inputs: z.object({ n: z.number() }),
    });
    await expect(sandbox.run({ n: 'x' as never })).rejects.toThrow(SandboxInputError);
    await expect(sandbox.run({ n: 'x' as never })).rejects.toThrow(/inputs\.n/);
  });

  it('is a TaskDefinition with its definition site', () => {
    const sandbox = createSandbox({ name: 'site', code: 'pass' });
    expect(sandbox.taskType).toBe('sandbox-code');
    expect(sandbox.definedAt?.file).toMatch(/sandbox\.test\.ts$/);
  });
});

describe('toTaskTemplate', () => {
  it('is a container task running the same program, with limits, data config and secret names only', () => {
    const sandbox = createSandbox({
      name: 'tmpl',
      image: 'registry.example/team/python:1',
      code: 'result = x + 1',
      inputs: z.object({ x: z.number().int() }),
      outputs: z.object({ result: z.number().int() }),
      resources: { cpu: 2, memory: '1Gi' },
      timeout: 90_000,
      env: { MODE: 'fast' },
      secrets: { TOKEN: 'do-not-leak' },
    });
    const template = sandbox.toTaskTemplate(context);
    expect(template.type).toBe('sandbox-code');
    expect(template.target.case).toBe('container');
    const container = template.target.case === 'container' ? template.target.value : undefined;
    expect(container?.image).toBe('registry.example/team/python:1');
    expect(container?.command).toEqual(['python3']);
    expect(container?.args[0]).toBe('-c');
    expect(container?.args.at(-1)).toBe('result = x + 1');
    expect(JSON.parse(container?.args.at(-2) ?? '')).toEqual({
      inputs: { x: 'integer' },
      outputs: { result: 'integer' },
    });
    expect(container?.env.map((e) => [e.key, e.value])).toEqual([['MODE', 'fast']]);
    expect(container?.resources?.limits.map((r) => r.value)).toEqual(['2', String(1024 ** 3)]);
    expect(container?.dataConfig).toMatchObject({
      enabled: true,
      inputPath: '/var/inputs',
      outputPath: '/var/outputs',
    });
    expect(template.metadata?.timeout?.seconds).toBe(90n);
    expect(template.securityContext?.secrets.map((s) => s.key)).toEqual(['TOKEN']);
    expect(
      JSON.stringify(template, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    ).not.toContain('do-not-leak');
    expect(template.interface?.inputs?.variables.map((v) => v.key)).toEqual(['x']);
  });

  it('asks for build() first when the image is built from packages', () => {
    const sandbox = createSandbox({ name: 'needs-build', code: 'pass', packages: ['requests'] });
    expect(() => sandbox.toTaskTemplate(context)).toThrow(/call `await sandbox.build\(\)`/);
  });
});
