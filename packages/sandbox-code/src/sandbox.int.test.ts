// Starts throwaway containers from flyte-sandbox/base:bookworm on the local Docker engine.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirRef, duration, fileRef } from '@flyte/idl';
import Docker from 'dockerode';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { describeWithDocker } from '../../../scripts/testing/docker';
import { peakRssGrowth } from './__fixtures__/peak-rss';
import {
  DockerUnavailableError,
  SandboxAbortedError,
  SandboxExitError,
  SandboxOutputError,
  SandboxTimeoutError,
} from './errors';
import { createSandbox } from './sandbox';
import { expectNoContainersLeft, TEST_BASE_IMAGE, testDocker } from './testing-support';

/** A Docker client that records the id of every container it creates. */
function recordingDocker(): { docker: Docker; created: string[] } {
  const docker = new Docker();
  const create = docker.createContainer.bind(docker);
  const created: string[] = [];
  docker.createContainer = (async (options: Docker.ContainerCreateOptions) => {
    const container = await create(options);
    created.push(container.id);
    return container;
  }) as never;
  return { docker, created };
}

/** Whether the engine still knows the container. */
async function exists(id: string): Promise<boolean> {
  try {
    await testDocker.getContainer(id).inspect();
    return true;
  } catch {
    return false;
  }
}

const base = { baseImage: TEST_BASE_IMAGE } as const;
const tricky = `it's "quoted" $(touch /tmp/pwned) \`id\` $HOME \\ \n second line ✓ ünïcödé 🚀`;

await describeWithDocker(import.meta.url, 'code sandbox runs', () => {
  afterAll(expectNoContainersLeft);

  describe('modes and typed I/O', () => {
    it('code mode in python: inputs are variables, outputs are variables', async () => {
      const sandbox = createSandbox({
        name: 'py.types',
        ...base,
        code: [
          'import datetime',
          'doubled = n * 2',
          'ratio = f / 4',
          'echo = text',
          'negated = not flag',
          'later = when + datetime.timedelta(days=1)',
          'longer = wait * 2',
          'summary = {"keys": sorted(obj.keys()), "total": sum(items)}',
          'print("ran")',
        ].join('\n'),
        inputs: z.object({
          n: z.number().int(),
          f: z.number(),
          text: z.string(),
          flag: z.boolean(),
          when: z.date(),
          wait: duration(),
          obj: z.object({ a: z.number(), b: z.string() }),
          items: z.array(z.number()),
        }),
        outputs: z.object({
          doubled: z.number().int(),
          ratio: z.number(),
          echo: z.string(),
          negated: z.boolean(),
          later: z.date(),
          longer: duration(),
          summary: z.object({ keys: z.array(z.string()), total: z.number() }),
        }),
      });
      const out = await sandbox.run({
        n: 21,
        f: 1.5,
        text: tricky,
        flag: true,
        when: new Date('2024-02-28T10:00:00.000Z'),
        wait: 1500,
        obj: { a: 1, b: 'x' },
        items: [1, 2, 3.5],
      });
      expect(out).toMatchObject({
        doubled: 42,
        ratio: 0.375,
        echo: tricky,
        negated: false,
        longer: 3000,
        summary: { keys: ['a', 'b'], total: 6.5 },
        exitCode: 0,
        stdout: 'ran\n',
        timedOut: false,
        truncated: false,
        oomKilled: false,
      });
      expect(out.later.toISOString()).toBe('2024-02-29T10:00:00.000Z');
    });

    it('passes hostile strings through unchanged in javascript and bash, never evaluating them', async () => {
      const js = createSandbox({
        name: 'js.echo',
        ...base,
        language: 'javascript',
        code: 'const echo = text; const n2 = n * 2; const exists = require("fs").existsSync("/tmp/pwned");',
        inputs: z.object({ text: z.string(), n: z.number() }),
        outputs: z.object({ echo: z.string(), n2: z.number(), exists: z.boolean() }),
      });
      expect(await js.run({ text: tricky, n: 4 })).toMatchObject({
        echo: tricky,
        n2: 8,
        exists: false,
      });
      const bash = createSandbox({
        name: 'bash.echo',
        ...base,
        language: 'bash',
        code: 'echo="$text"; if [ -e /tmp/pwned ]; then exists=true; else exists=false; fi; whoami',
        inputs: z.object({ text: z.string() }),
        outputs: z.object({ echo: z.string(), exists: z.boolean() }),
      });
      expect(await bash.run({ text: tricky })).toMatchObject({
        echo: tricky,
        exists: false,
        stdout: 'sandbox\n',
      });
    });

    it('verbatim mode: the script reads /var/inputs and writes /var/outputs itself', async () => {
      const sandbox = createSandbox({
        name: 'py.verbatim',
        ...base,
        autoIo: false,
        code: [
          'import sys',
          'text = open("/var/inputs/text", encoding="utf-8").read()',
          'open("/var/outputs/length", "w").write(str(len(text)))',
          'open("/var/outputs/args", "w").write(" ".join(sys.argv[1:]))',
        ].join('\n'),
        arguments: ['--flag', '$(nope)'],
        inputs: z.object({ text: z.string() }),
        outputs: z.object({ length: z.number().int(), args: z.string() }),
      });
      expect(await sandbox.run({ text: tricky })).toMatchObject({
        length: [...tricky].length,
        args: '--flag $(nope)',
      });
    });

    it('command mode with files and folders in and out', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sandbox-io-'));
      await writeFile(join(dir, 'data.txt'), 'line1\nline2\n');
      await mkdir(join(dir, 'tree', 'sub'), { recursive: true });
      await writeFile(join(dir, 'tree', 'a.txt'), 'A');
      await writeFile(join(dir, 'tree', 'sub', 'b.txt'), 'B');
      const sandbox = createSandbox({
        name: 'cmd.files',
        ...base,
        command: [
          'bash',
          '-c',
          'wc -l < /var/inputs/data > /var/outputs/lines && mkdir /var/outputs/copy && cp -r /var/inputs/tree/. /var/outputs/copy/ && sort /var/inputs/data > /var/outputs/sorted && ! (echo tamper >> /var/inputs/data) 2>/dev/null',
        ],
        inputs: z.object({ data: fileRef(), tree: dirRef() }),
        outputs: z.object({ lines: z.number().int(), sorted: fileRef(), copy: dirRef() }),
      });
      const out = await sandbox.run(
        { data: { uri: join(dir, 'data.txt') }, tree: { uri: `file://${join(dir, 'tree')}` } },
        { outputDir: join(dir, 'out') },
      );
      expect(out.lines).toBe(2);
      expect(out.sorted.uri).toBe(join(dir, 'out', 'sorted'));
      expect(await readFile(out.sorted.uri, 'utf8')).toBe('line1\nline2\n');
      expect(await readFile(join(out.copy.uri, 'sub', 'b.txt'), 'utf8')).toBe('B');
      expect(await readFile(join(dir, 'data.txt'), 'utf8')).toBe('line1\nline2\n');
      await rm(dir, { recursive: true, force: true });
    });

    it('names a missing output and an unparsable one, with the stderr tail', async () => {
      const missing = createSandbox({
        name: 'py.missing',
        ...base,
        code: 'import sys\nprint("diagnostic", file=sys.stderr)',
        outputs: z.object({ answer: z.number() }),
      });
      const error = await missing.run({}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SandboxOutputError);
      expect((error as SandboxOutputError).output).toBe('answer');
      expect((error as Error).message).toMatch(/output "answer" is missing.*\n.*diagnostic/s);
      const wrong = createSandbox({
        name: 'py.wrong',
        ...base,
        code: 'answer = "not a number"',
        outputs: z.object({ answer: z.number() }),
      });
      await expect(wrong.run({})).rejects.toThrow(
        /output "answer" cannot be read as number: .*not a number/,
      );
      const invalid = createSandbox({
        name: 'py.invalid',
        ...base,
        code: 'answer = -5',
        outputs: z.object({ answer: z.number().positive() }),
      });
      await expect(invalid.run({})).rejects.toThrow(/output "answer" does not match its schema/);
    });

    it('raises SandboxExitError with the code and the stderr tail', async () => {
      const sandbox = createSandbox({
        name: 'py.exit',
        ...base,
        code: 'import sys\nprint("bad things", file=sys.stderr)\nsys.exit(3)',
      });
      const error = (await sandbox.run({}).catch((e: unknown) => e)) as SandboxExitError;
      expect(error).toBeInstanceOf(SandboxExitError);
      expect(error.result.exitCode).toBe(3);
      expect(error.message).toMatch(/exited with code 3.*bad things/s);
    });
  });

  describe('safe by default', () => {
    it('runs as a non-root user with no capabilities, no-new-privileges and a read-only root', async () => {
      const sandbox = createSandbox({
        name: 'py.identity',
        ...base,
        command: [
          'sh',
          '-c',
          'id -u; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; touch /usr/x 2>/dev/null && echo rootfs-writable || echo rootfs-readonly; touch /tmp/ok && echo tmp-writable',
        ],
      });
      const { stdout } = await sandbox.run({});
      expect(stdout).toMatch(/^1000\n/);
      expect(stdout).toMatch(/CapEff:\s+0000000000000000/);
      expect(stdout).toMatch(/CapBnd:\s+0000000000000000/);
      expect(stdout).toMatch(/NoNewPrivs:\s+1/);
      expect(stdout).toMatch(/rootfs-readonly\ntmp-writable/);
    });

    it('sets the container limits: memory with equal swap, CPU quota, pids, tmpfs sizes, no mounts', async () => {
      let inspected: Docker.ContainerInspectInfo | undefined;
      const sandbox = createSandbox({
        name: 'py.inspect',
        ...base,
        resources: { memory: '128Mi', cpu: 0.5, pids: 100, tmpSize: '8Mi', outputsSize: '4Mi' },
        command: ['sleep', '2'],
      });
      const run = sandbox.run({});
      // Look at the container while it runs.
      const deadline = Date.now() + 15_000;
      while (!inspected && Date.now() < deadline) {
        // Containers of earlier runs may still be on their way out: pick this run's by command.
        const found = (
          await testDocker.listContainers({
            filters: { label: ['flyte.sandbox=1', `flyte.sandbox.owner-pid=${process.pid}`] },
          })
        ).find((c) => c.Command.endsWith('sleep 2'));
        if (found) inspected = await testDocker.getContainer(found.Id).inspect();
        else await new Promise((r) => setTimeout(r, 50));
      }
      await run;
      const host = inspected?.HostConfig;
      expect(host?.Memory).toBe(128 * 1024 * 1024);
      expect(host?.MemorySwap).toBe(128 * 1024 * 1024);
      expect(host?.NanoCpus).toBe(500_000_000);
      expect(host?.PidsLimit).toBe(100);
      expect(host?.CapDrop).toEqual(['ALL']);
      expect(host?.SecurityOpt).toEqual(['no-new-privileges']);
      expect(host?.ReadonlyRootfs).toBe(true);
      expect(host?.NetworkMode).toBe('none');
      expect(host?.Privileged).toBe(false);
      expect(host?.Binds ?? []).toEqual([]);
      expect(inspected?.Mounts).toEqual([]);
      expect(host?.Tmpfs?.['/tmp']).toContain('size=8192k');
      expect(host?.Tmpfs?.['/var/outputs']).toContain('size=4096k');
      expect(host?.ShmSize).toBe(8 * 1024 * 1024);
      expect(inspected?.Config.User).toBe('1000:1000');
    });

    it('keeps a fork bomb inside the pids limit', async () => {
      const sandbox = createSandbox({
        name: 'py.forkbomb',
        ...base,
        resources: { pids: 64 },
        timeout: 60_000,
        code: [
          'import os, signal, time',
          'pids = []',
          'try:',
          '    while True:',
          '        pid = os.fork()',
          '        if pid == 0:',
          '            time.sleep(30)',
          '            os._exit(0)',
          '        pids.append(pid)',
          'except OSError as error:',
          '    refused = type(error).__name__',
          'children = len(pids)',
          'for pid in pids:',
          '    os.kill(pid, signal.SIGKILL)',
          '    os.waitpid(pid, 0)',
        ].join('\n'),
        outputs: z.object({ children: z.number().int(), refused: z.string() }),
      });
      const out = await sandbox.run({});
      expect(out.refused).toBe('BlockingIOError');
      expect(out.children).toBeGreaterThan(10);
      expect(out.children).toBeLessThan(64);
    });

    it('has no network: an egress attempt fails; network "host" is an explicit opt-in', async () => {
      const probe = [
        'import socket',
        'try:',
        '    socket.create_connection(("192.0.2.1", 80), timeout=3)',
        '    outcome = "connected"',
        'except OSError as error:',
        '    outcome = type(error).__name__ + ": " + str(error)',
        'interfaces = sorted(n for _, n in socket.if_nameindex())',
      ].join('\n');
      const outputs = z.object({ outcome: z.string(), interfaces: z.array(z.string()) });
      const none = createSandbox({ name: 'py.net', ...base, code: probe, outputs });
      const closed = await none.run({});
      expect(closed.outcome).toMatch(/unreachable/i);
      expect(closed.interfaces).toEqual(['lo']);
      const host = createSandbox({
        name: 'py.nethost',
        ...base,
        network: 'host',
        code: 'import socket\ninterfaces = sorted(n for _, n in socket.if_nameindex())',
        outputs: z.object({ interfaces: z.array(z.string()) }),
      });
      expect((await host.run({})).interfaces.length).toBeGreaterThan(1);
    });

    it('gives secrets to the process only, masked in output and errors, absent from the template', async () => {
      const secret = 's3cr3t-Value-42';
      const sandbox = createSandbox({
        name: 'py.secret',
        ...base,
        secrets: { API_TOKEN: secret },
        env: { PLAIN: 'visible' },
        code: 'import os, sys\nseen = len(os.environ["API_TOKEN"]) == 15\nprint("token:", os.environ["API_TOKEN"], os.environ["PLAIN"])\nprint(os.environ["API_TOKEN"], file=sys.stderr)',
        outputs: z.object({ seen: z.boolean() }),
      });
      const lines: string[] = [];
      const out = await sandbox.run({}, { onOutput: (_stream, text) => lines.push(text) });
      expect(out.seen).toBe(true);
      expect(out.stdout).toBe('token: *** visible\n');
      expect(out.stderr).toBe('***\n');
      expect(lines.join('')).not.toContain(secret);
      const failing = createSandbox({
        name: 'py.secretfail',
        ...base,
        secrets: { API_TOKEN: secret },
        code: 'import os\nraise SystemExit("leaked " + os.environ["API_TOKEN"])',
      });
      const error = (await failing.run({}).catch((e: unknown) => e)) as SandboxExitError;
      expect(error).toBeInstanceOf(SandboxExitError);
      expect(error.message).toContain('leaked ***');
      expect(JSON.stringify({ ...error, message: error.message })).not.toContain(secret);
      const template = sandbox.toTaskTemplate({ project: 'p', domain: 'd', version: 'v1' });
      expect(
        JSON.stringify(template, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
      ).not.toContain(secret);
    });
  });

  it('keeps secret values out of the container configuration and the input folder', async () => {
    const secret = 'multi\nline "secret" $(x) ✓';
    const sandbox = createSandbox({
      name: 'py.secretconfig',
      ...base,
      secrets: { API_TOKEN: secret },
      code: 'import os, time\nseen = os.environ["API_TOKEN"]\nfiles_left = os.path.exists("/var/inputs/.flyte-secrets")\ntime.sleep(1.5) # secret-config-test',
      outputs: z.object({ seen: z.string(), files_left: z.boolean() }),
    });
    const run = sandbox.run({});
    let config = '';
    const deadline = Date.now() + 15_000;
    while (!config && Date.now() < deadline) {
      const found = (
        await testDocker.listContainers({
          filters: { label: ['flyte.sandbox=1', `flyte.sandbox.owner-pid=${process.pid}`] },
        })
      ).find((c) => c.Command.includes('secret-config-test'));
      if (found) config = JSON.stringify(await testDocker.getContainer(found.Id).inspect());
      else await new Promise((r) => setTimeout(r, 50));
    }
    const out = await run;
    expect(config).toContain('API_TOKEN');
    expect(config).not.toContain('line \\"secret\\"');
    expect(out.files_left).toBe(false);
    // The value arrives intact (no shell parsing), but is masked in the report.
    expect(out.seen).toBe(secret);
  });

  describe('limits on the host side', () => {
    it('kills and removes the container on timeout', async () => {
      const sandbox = createSandbox({
        name: 'py.slow',
        ...base,
        // The timeout counts the container's start too: room for a slow engine.
        timeout: 8000,
        code: 'import time\nprint("started", flush=True)\ntime.sleep(60)',
      });
      const started = Date.now();
      const error = (await sandbox.run({}).catch((e: unknown) => e)) as SandboxTimeoutError;
      expect(error).toBeInstanceOf(SandboxTimeoutError);
      expect(error.result.timedOut).toBe(true);
      expect(error.result.stdout).toBe('started\n');
      // Well before the code's own 60 s.
      expect(Date.now() - started).toBeLessThan(40_000);
      await expectNoContainersLeft();
    });

    it('kills and removes the container when the AbortSignal fires', async () => {
      const sandbox = createSandbox({
        name: 'py.abort',
        ...base,
        code: 'import time\ntime.sleep(60)',
      });
      const controller = new AbortController();
      const lines: string[] = [];
      const run = sandbox.run(
        {},
        { signal: controller.signal, onOutput: (_s, t) => lines.push(t) },
      );
      setTimeout(() => controller.abort(new Error('user cancelled')), 1500);
      const error = await run.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SandboxAbortedError);
      expect((error as Error).cause).toEqual(new Error('user cancelled'));
      await expectNoContainersLeft();
    });

    it('caps a flood of output, keeping head and tail, and streams it to onOutput', async () => {
      const sandbox = createSandbox({
        name: 'py.flood',
        ...base,
        outputCap: 64 * 1024,
        code: 'import sys\nprint("FIRST")\nfor i in range(200000):\n    print("x" * 50)\nprint("LAST")',
      });
      let streamed = 0;
      const out = await sandbox.run(
        {},
        {
          onOutput: (_s, text) => {
            streamed += text.length;
          },
        },
      );
      expect(out.truncated).toBe(true);
      expect(out.stdout.startsWith('FIRST\n')).toBe(true);
      expect(out.stdout.endsWith('LAST\n')).toBe(true);
      expect(out.stdout).toContain('output truncated');
      expect(out.stdout.length).toBeLessThan(70 * 1024);
      expect(streamed).toBeGreaterThan(10_000_000);
    });

    it('caps output files', async () => {
      const sandbox = createSandbox({
        name: 'py.bigfile',
        ...base,
        resources: { outputsSize: '1Mi' },
        autoIo: false,
        code: 'open("/var/outputs/blob", "w").write("y" * 4 * 1024 * 1024)',
        outputs: z.object({ blob: z.string() }),
      });
      const error = (await sandbox.run({}).catch((e: unknown) => e)) as SandboxExitError;
      expect(error).toBeInstanceOf(SandboxExitError);
      expect(error.message).toMatch(/No space left on device/);
    });

    it('reports OOM', async () => {
      const sandbox = createSandbox({
        name: 'py.oom',
        ...base,
        resources: { memory: '64Mi' },
        code: 'x = bytearray(512 * 1024 * 1024)',
      });
      const error = (await sandbox.run({}).catch((e: unknown) => e)) as SandboxExitError;
      expect(error).toBeInstanceOf(SandboxExitError);
      expect(error.result.oomKilled).toBe(true);
      expect(error.message).toMatch(/ran out of memory/);
    });

    it('raises DockerUnavailableError naming the socket when no engine answers', async () => {
      const sandbox = createSandbox({
        name: 'py.nodocker',
        ...base,
        code: 'pass',
        docker: new Docker({ socketPath: '/nonexistent/docker.sock' }),
      });
      const previous = process.env.DOCKER_HOST;
      process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
      try {
        const error = await sandbox.run({}).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DockerUnavailableError);
        expect((error as Error).message).toMatch(
          /unix:\/\/\/nonexistent\/docker.sock.*Start Docker/s,
        );
      } finally {
        if (previous === undefined) delete process.env.DOCKER_HOST;
        else process.env.DOCKER_HOST = previous;
      }
    });
  });

  describe('fixed defects', () => {
    it('streams outputs under the cap: a huge sparse file fails fast without host memory', async () => {
      const growth = await peakRssGrowth(async () => {
        // Undeclared: not sent at all, the run succeeds.
        const undeclared = createSandbox({
          name: 'sh.sparse-junk',
          ...base,
          resources: { outputsSize: '1Mi' },
          command: [
            'sh',
            '-c',
            'truncate -s 256M /var/outputs/junk && echo 7 > /var/outputs/answer',
          ],
          outputs: z.object({ answer: z.number().int() }),
        });
        expect((await undeclared.run({})).answer).toBe(7);
        // Declared: its size (as the tar header says) is over the cap at once.
        const declared = createSandbox({
          name: 'sh.sparse-blob',
          ...base,
          resources: { outputsSize: '1Mi' },
          command: ['sh', '-c', 'truncate -s 256M /var/outputs/blob'],
          outputs: z.object({ blob: fileRef() }),
        });
        const error = await declared.run({}).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SandboxOutputError);
        expect((error as Error).message).toMatch(
          /larger than the cap of 1048576 bytes \(at "blob"\)/,
        );
      });
      expect(growth).toBeLessThan(128 * 1024 * 1024);
      await expectNoContainersLeft();
    });

    it('javascript code mode: the driver names do not clash with the script or shadow inputs', async () => {
      const js = createSandbox({
        name: 'js.names',
        ...base,
        language: 'javascript',
        code: "const path = require('node:path');\nconst fs = require('node:fs');\nconst joined = path.join('a', manifest);\nconst seen = read + '/' + typeof fs.readFileSync;",
        inputs: z.object({ manifest: z.string(), read: z.string() }),
        outputs: z.object({ joined: z.string(), seen: z.string() }),
      });
      expect(await js.run({ manifest: 'b', read: 'r' })).toMatchObject({
        joined: 'a/b',
        seen: 'r/function',
      });
      const shadow = createSandbox({
        name: 'js.input-path',
        ...base,
        language: 'javascript',
        code: "const echo = path + '!';",
        inputs: z.object({ path: z.string() }),
        outputs: z.object({ echo: z.string() }),
      });
      expect((await shadow.run({ path: 'mine' })).echo).toBe('mine!');
    });

    it('python output printed before a timeout is kept and streamed while running', async () => {
      const sandbox = createSandbox({
        name: 'py.unbuffered',
        ...base,
        // The timeout counts the container's start too: room for a slow engine.
        timeout: 10_000,
        code: 'import time\nprint("started")\ntime.sleep(60)',
      });
      const lines: string[] = [];
      const error = (await sandbox
        .run({}, { onOutput: (_s, text) => lines.push(text) })
        .catch((e: unknown) => e)) as SandboxTimeoutError;
      expect(error).toBeInstanceOf(SandboxTimeoutError);
      expect(error.result.stdout).toBe('started\n');
      expect(lines).toEqual(['started\n']);
    });

    it('masks a secret printed across the head/tail cut of a capped output', async () => {
      const secret = 'SECRET-VALUE-0123';
      const sandbox = createSandbox({
        name: 'py.secret-cut',
        ...base,
        outputCap: 64,
        secrets: { TOKEN: secret },
        // The secret starts 4 bytes before the head's cut at byte 32.
        code: 'import os\nprint("a" * 28 + os.environ["TOKEN"] + "b" * 200)',
      });
      const { stdout, truncated } = await sandbox.run({});
      expect(truncated).toBe(true);
      for (let n = 4; n <= secret.length; n++) expect(stdout).not.toContain(secret.slice(0, n));
    });

    it('keeps hard-linked files of outputs', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sandbox-links-'));
      try {
        const sandbox = createSandbox({
          name: 'sh.hardlinks',
          ...base,
          command: [
            'sh',
            '-c',
            'mkdir /var/outputs/tree && echo hi > /var/outputs/tree/a && ln /var/outputs/tree/a /var/outputs/tree/b && echo 5 > /var/outputs/x && ln /var/outputs/x /var/outputs/y',
          ],
          outputs: z.object({ tree: dirRef(), x: z.number().int(), y: z.number().int() }),
        });
        const out = await sandbox.run({}, { outputDir: dir });
        expect(await readFile(join(out.tree.uri, 'b'), 'utf8')).toBe('hi\n');
        expect(out.y).toBe(5);
        // A scalar output linked to a file output (whose bytes went to the host, not memory).
        const toScalar = createSandbox({
          name: 'sh.hardlink-scalar',
          ...base,
          command: ['sh', '-c', 'echo hi > /var/outputs/a && ln /var/outputs/a /var/outputs/b'],
          outputs: z.object({ a: fileRef(), b: z.string() }),
        });
        expect((await toScalar.run({}, { outputDir: dir })).b).toBe('hi\n');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('leaves no temp folder behind when a run with file outputs fails', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sandbox-tmp-'));
      const previous = process.env.TMPDIR;
      process.env.TMPDIR = dir;
      try {
        const sandbox = createSandbox({
          name: 'sh.tmp-cleanup',
          ...base,
          command: ['sh', '-c', 'echo data > /var/outputs/f && echo nope > /var/outputs/n'],
          outputs: z.object({ f: fileRef(), n: z.number() }),
        });
        await expect(sandbox.run({})).rejects.toThrow(SandboxOutputError);
        expect(await readdir(dir)).toEqual([]);
      } finally {
        if (previous === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = previous;
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('reports the code exiting with 125 as its own exit code', async () => {
      const sandbox = createSandbox({
        name: 'py.exit125',
        ...base,
        code: 'import sys\nsys.exit(125)',
        inputs: z.object({ n: z.number() }),
      });
      const error = (await sandbox.run({ n: 1 }).catch((e: unknown) => e)) as SandboxExitError;
      expect(error).toBeInstanceOf(SandboxExitError);
      expect(error.message).toMatch(/exited with code 125/);
      expect(error.message).not.toMatch(/unpack/);
    });

    it('replaces a folder output from an earlier run in a reused outputDir', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sandbox-reuse-'));
      try {
        const first = createSandbox({
          name: 'sh.reuse1',
          ...base,
          command: ['sh', '-c', 'mkdir /var/outputs/tree && touch /var/outputs/tree/first'],
          outputs: z.object({ tree: dirRef() }),
        });
        const second = createSandbox({
          name: 'sh.reuse2',
          ...base,
          command: ['sh', '-c', 'mkdir /var/outputs/tree && touch /var/outputs/tree/second'],
          outputs: z.object({ tree: dirRef() }),
        });
        await first.run({}, { outputDir: dir });
        const out = await second.run({}, { outputDir: dir });
        expect(await readdir(out.tree.uri)).toEqual(['second']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('rejects on timeout, and close() resolves, only once the container is gone', async () => {
      // Every container the runs create is recorded, running or not (the timeout may come
      // while one is still starting).
      const slowDocker = recordingDocker();
      const slow = createSandbox({
        name: 'sh.gone-timeout',
        ...base,
        // Room for the container to be created (the timeout counts the engine's work too).
        timeout: 5000,
        command: ['sh', '-c', 'sleep 60'],
        docker: slowDocker.docker,
      });
      await expect(slow.run({})).rejects.toThrow(SandboxTimeoutError);
      expect(slowDocker.created).toHaveLength(1);
      expect(await exists(slowDocker.created[0] as string)).toBe(false);
      const quickDocker = recordingDocker();
      const quick = createSandbox({
        name: 'sh.gone-close',
        ...base,
        command: ['sh', '-c', 'sleep 1'],
        docker: quickDocker.docker,
      });
      await quick.run({});
      await quick.close();
      expect(quickDocker.created).toHaveLength(1);
      expect(await exists(quickDocker.created[0] as string)).toBe(false);
    });

    it('a run aborted while queued rejects with SandboxAbortedError', async () => {
      const docker = new Docker();
      const ping = docker.ping.bind(docker);
      let pings = 0;
      docker.ping = (async () => {
        const answer = await ping();
        pings++;
        return answer;
      }) as never;
      const sandbox = createSandbox({
        name: 'sh.queued-abort',
        ...base,
        concurrency: 1,
        command: ['sh', '-c', 'echo started; sleep 60'],
        docker,
      });
      // The first run holds the only slot until it is aborted itself.
      const holding = new AbortController();
      let started: () => void = () => undefined;
      const codeStarted = new Promise<void>((resolve) => {
        started = resolve;
      });
      const first = sandbox
        .run({}, { signal: holding.signal, onOutput: () => started() })
        .catch((e: unknown) => e);
      await codeStarted;
      const controller = new AbortController();
      const queued = sandbox.run({}, { signal: controller.signal }).catch((e: unknown) => e);
      // Past its engine check (the image is known by now), nothing but the queue is left.
      while (pings < 2) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 500));
      controller.abort();
      const error = await queued;
      expect(error).toBeInstanceOf(SandboxAbortedError);
      expect((error as Error).message).toMatch(/still waiting for a free slot \(concurrency 1\)/);
      holding.abort();
      expect(await first).toBeInstanceOf(SandboxAbortedError);
    });

    it('a run stopped while its container is created: close() waits for that container, the slot too', async () => {
      const docker = new Docker();
      const create = docker.createContainer.bind(docker);
      const controller = new AbortController();
      let calls = 0;
      let creating = 0;
      let mostCreating = 0;
      let lateId: string | undefined;
      // The first creation is stopped while the engine works on it, and finishes 1.5 s later.
      docker.createContainer = (async (options: Docker.ContainerCreateOptions) => {
        const first = ++calls === 1;
        creating++;
        mostCreating = Math.max(mostCreating, creating);
        try {
          if (!first) return await create(options);
          controller.abort(new Error('stopped while creating'));
          await new Promise((r) => setTimeout(r, 1500));
          const container = await create(options);
          lateId = container.id;
          return container;
        } finally {
          creating--;
        }
      }) as never;
      const sandbox = createSandbox({
        name: 'sh.stop-creating',
        ...base,
        concurrency: 1,
        command: ['true'],
        docker,
      });
      const stopped = sandbox.run({}, { signal: controller.signal });
      const queued = sandbox.run({});
      expect(await stopped.catch((e: unknown) => e)).toBeInstanceOf(SandboxAbortedError);
      await queued;
      await sandbox.close();
      expect(lateId).toBeDefined();
      expect(await exists(lateId as string)).toBe(false);
      // The queued run got the slot only once the stopped run's container was settled.
      expect(mostCreating).toBe(1);
    });

    it('close() called right after a stop waits for a container still being created', async () => {
      const docker = new Docker();
      const create = docker.createContainer.bind(docker);
      const controller = new AbortController();
      let creationStarted = false;
      let lateId: string | undefined;
      docker.createContainer = (async (options: Docker.ContainerCreateOptions) => {
        creationStarted = true;
        await new Promise((r) => setTimeout(r, 1000));
        const container = await create(options);
        lateId = container.id;
        return container;
      }) as never;
      const sandbox = createSandbox({
        name: 'sh.close-after-stop',
        ...base,
        command: ['sleep', '30'],
        docker,
      });
      const run = sandbox.run({}, { signal: controller.signal }).catch((e: unknown) => e);
      await vi.waitFor(() => expect(creationStarted).toBe(true), { timeout: 20_000 });
      controller.abort(new Error('stopped'));
      await sandbox.close();
      // close() did not return before the late container existed and was removed.
      expect(lateId).toBeDefined();
      expect(await exists(lateId as string)).toBe(false);
      expect(await run).toBeInstanceOf(SandboxAbortedError);
    });

    it('several MB of outputs wait for the host without piling up drain listeners', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      const dir = await mkdtemp(join(tmpdir(), 'sandbox-drain-'));
      try {
        const sandbox = createSandbox({
          name: 'sh.drain',
          ...base,
          resources: { outputsSize: '64Mi' },
          command: [
            'sh',
            '-c',
            'mkdir /var/outputs/tree && for i in 1 2 3 4 5 6 7 8; do head -c 6M /dev/urandom > /var/outputs/tree/$i; done',
          ],
          outputs: z.object({ tree: dirRef() }),
        });
        const out = await sandbox.run({}, { outputDir: dir });
        expect(await readdir(out.tree.uri)).toHaveLength(8);
        // Warnings are emitted on a later tick.
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        process.off('warning', onWarning);
        await rm(dir, { recursive: true, force: true });
      }
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    });

    it('durationMs counts the run itself, not its wait in the queue', async () => {
      const sandbox = createSandbox({
        name: 'sh.duration',
        ...base,
        concurrency: 1,
        command: ['sleep', '3'],
      });
      const [first, second] = await Promise.all([sandbox.run({}), sandbox.run({})]);
      expect(first.durationMs).toBeGreaterThanOrEqual(3000);
      // Counted from the call, the second would take both sleeps (6 s or more).
      expect(second.durationMs).toBeGreaterThanOrEqual(3000);
      expect(second.durationMs).toBeLessThan(6000);
    });

    it('/dev/shm is writable for multiprocessing but only as large as /tmp', async () => {
      const sandbox = createSandbox({
        name: 'py.shm',
        ...base,
        resources: { tmpSize: '8Mi' },
        code: [
          'import multiprocessing, os',
          'lock = multiprocessing.Lock()',
          'with lock:',
          '    locked = True',
          'st = os.statvfs("/dev/shm")',
          'shm_kib = st.f_blocks * st.f_frsize // 1024',
        ].join('\n'),
        outputs: z.object({ locked: z.boolean(), shm_kib: z.number().int() }),
      });
      expect(await sandbox.run({})).toMatchObject({ locked: true, shm_kib: 8192 });
    });
  });
});
