// Starts child Node processes running a durable connector run from the built package, and kills one with SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./__fixtures__/durable-run.mjs', import.meta.url));
const children: ChildProcess[] = [];
let work = '';

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  if (work) await rm(work, { recursive: true, force: true });
});

function start(runId: string, polls: number) {
  const child = spawn(process.execPath, [fixture, work, runId, String(polls)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return { child, lines, stderr: () => stderr };
}

it('a run killed with SIGKILL after create re-attaches on rerun and creates nothing new', {
  timeout: 30_000,
}, async () => {
  work = await mkdtemp(join(tmpdir(), 'flyte-durable-'));
  const first = start('run-42', 40);
  for await (const line of first.lines) {
    if (JSON.parse(line).type === 'created') break;
  }
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.once('exit', resolve));
  expect(first.child.signalCode).toBe('SIGKILL');
  const createdBefore = (await readFile(join(work, 'creates.log'), 'utf8')).trim().split('\n');
  expect(createdBefore).toHaveLength(1);

  const second = start('run-42', 40);
  const events: { type: string; reattached?: boolean; result?: unknown }[] = [];
  for await (const line of second.lines) events.push(JSON.parse(line));
  await new Promise((resolve) =>
    second.child.exitCode === null ? second.child.once('exit', resolve) : resolve(null),
  );
  expect(second.child.exitCode, second.stderr()).toBe(0);
  expect(events[0]).toEqual({ type: 'created', reattached: true });
  expect(events.at(-1)).toEqual({ type: 'result', result: { polls: 40 } });
  // The same job, polled by both processes: still exactly one create.
  expect((await readFile(join(work, 'creates.log'), 'utf8')).trim().split('\n')).toEqual(
    createdBefore,
  );
});
