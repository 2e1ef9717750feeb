import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirRef, duration, fileRef } from '@flyte/idl';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { peakRssGrowth } from './__fixtures__/peak-rss';
import {
  InvalidSandboxOptionsError,
  SandboxAbortedError,
  SandboxInputError,
  SandboxTimeoutError,
} from './errors';
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
    [{ name: 'a', code: 'x', timeout: 2 ** 31 }, /timeout is 2147483648 ms; at most 2147483647/],
    [{ name: 'a', code: 'x', timeout: Number.POSITIVE_INFINITY }, /timeout is Infinity ms/],
    [{ name: 'a', code: 'x', secrets: { 'BAD NAME': 'v' } }, /environment variable name/],
  ])('rejects %o', (options, message) => {
    expect(() => createSandbox(options as never)).toThrow(InvalidSandboxOptionsError);
    expect(() => createSandbox(options as never)).toThrow(message);
  });

  it('accepts the longest timeout a Node.js timer takes', () => {
    expect(() => createSandbox({ name: 'a', code: 'x', timeout: 2 ** 31 - 1 })).not.toThrow();
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
    // Python output is unbuffered on the cluster as in a local run.
    expect(container?.env.map((e) => [e.key, e.value])).toEqual([
      ['PYTHONUNBUFFERED', '1'],
      ['MODE', 'fast'],
    ]);
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

/** Settles with the run's outcome, or 'hung' after `ms` (so a hang fails fast, not by timeout). */
function outcomeWithin(run: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    run.then(
      (value) => value,
      (error: unknown) => error,
    ),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve('hung'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface FakeEngine {
  readonly docker: Docker;
  close(): Promise<void>;
}

/**
 * A fake Docker engine on a unix socket: it answers /_ping with OK, a request `answer` gives a
 * JSON body for with that body, and leaves every other request hanging.
 */
async function fakeEngine(answer: (url: string) => string | undefined): Promise<FakeEngine> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-fake-daemon-'));
  const socketPath = join(dir, 'docker.sock');
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    const url = request.url ?? '';
    if (url.endsWith('/_ping')) {
      response.end('OK');
      return;
    }
    const body = answer(url);
    if (body === undefined) return;
    response.setHeader('content-type', 'application/json');
    response.end(body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    docker: new Docker({ socketPath }),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('a Docker engine that answers /_ping and nothing else', () => {
  // It leaves every other request hanging.
  let engine: FakeEngine;
  let docker: Docker;
  beforeAll(async () => {
    engine = await fakeEngine(() => undefined);
    docker = engine.docker;
  });
  afterAll(() => engine.close());

  it('rejects with SandboxTimeoutError at the timeout', async () => {
    const sandbox = createSandbox({ name: 'stuck.timeout', code: 'pass', timeout: 1000, docker });
    const outcome = await outcomeWithin(sandbox.run({}), 10_000);
    expect(outcome).toBeInstanceOf(SandboxTimeoutError);
    expect((outcome as Error).message).toMatch(/timeout of 1000 ms; before its code started/);
  });

  it('rejects with SandboxAbortedError when the signal aborts', async () => {
    const sandbox = createSandbox({ name: 'stuck.abort', code: 'pass', docker });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user gave up')), 500);
    const outcome = await outcomeWithin(sandbox.run({}, { signal: controller.signal }), 10_000);
    expect(outcome).toBeInstanceOf(SandboxAbortedError);
    expect((outcome as Error).cause).toEqual(new Error('user gave up'));
  });

  it('does not wait past its timeout for the image either', async () => {
    // The reaper's wait is bounded (5 s); the image lookup then hangs until the timeout.
    const sandbox = createSandbox({ name: 'stuck.image', code: 'pass', timeout: 7000, docker });
    const outcome = await outcomeWithin(sandbox.run({}), 20_000);
    expect(outcome).toBeInstanceOf(SandboxTimeoutError);
    expect((outcome as Error).message).toMatch(/still resolving \(or building\) its image/);
  });
});

describe('a Docker engine that never finishes creating a container', () => {
  // It answers the reaper's listing, and leaves the creation of a container hanging.
  let engine: FakeEngine;
  let docker: Docker;
  beforeAll(async () => {
    engine = await fakeEngine((url) => (url.includes('/containers/json') ? '[]' : undefined));
    docker = engine.docker;
  });
  afterAll(() => engine.close());

  it('a stopped run waits for the creation a bounded time, and close() does not hang on it', async () => {
    const sandbox = createSandbox({
      name: 'stuck.create',
      image: 'x:latest',
      command: ['true'],
      timeout: 500,
      docker,
    });
    const outcome = await outcomeWithin(sandbox.run({}), 30_000);
    expect(outcome).toBeInstanceOf(SandboxTimeoutError);
    expect((outcome as Error).message).toMatch(/still creating its container after 15 s/);
    expect(await outcomeWithin(sandbox.close(), 5_000)).not.toBe('hung');
  }, 40_000);
});

describe('errors before a run starts', () => {
  it('rejects an already-aborted run with SandboxAbortedError', async () => {
    const sandbox = createSandbox({ name: 'pre.abort', code: 'pass' });
    const error = await sandbox.run({}, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SandboxAbortedError);
    expect((error as Error).message).toMatch(/was aborted by its AbortSignal/);
  });

  it('refuses inputs larger than resources.inputsSize on the host, naming the sizes', async () => {
    const sandbox = createSandbox({
      name: 'big.input',
      code: 'pass',
      inputs: z.object({ blob: z.string() }),
      resources: { inputsSize: 1024 },
    });
    const error = await sandbox.run({ blob: 'x'.repeat(4096) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SandboxInputError);
    expect((error as Error).message).toMatch(
      /inputs take 4096 bytes, more than the 1024 bytes of \/var\/inputs \(resources.inputsSize\); the largest is "blob"/,
    );
  });

  it('refuses a file input over resources.inputsSize by its size, without reading it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-big-input-'));
    const path = join(dir, 'sparse');
    let growth = 0;
    try {
      growth = await peakRssGrowth(async () => {
        await writeFile(path, '');
        await truncate(path, 1024 ** 3);
        const sandbox = createSandbox({
          name: 'big.file',
          code: 'pass',
          inputs: z.object({ data: fileRef() }),
          resources: { inputsSize: '1Mi' },
        });
        const error = await sandbox.run({ data: { uri: path } }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SandboxInputError);
        expect((error as Error).message).toMatch(
          /inputs take 1073741824 bytes, more than the 1048576 bytes .*the largest is "data"/,
        );
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(growth).toBeLessThan(256 * 1024 * 1024);
  });
});
