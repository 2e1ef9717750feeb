import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NondeterminismError, OrchestratorError } from './errors';
import { createJournal, type Journal } from './journal';
import { orchestrateLocal } from './orchestrator';

const exec = promisify(execFile);
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function counter() {
  const calls: string[] = [];
  const tasks = {
    double: async (x: number) => {
      calls.push(`double(${x})`);
      return x * 2;
    },
    fail: async (x: number) => {
      calls.push(`fail(${x})`);
      throw new TypeError(`no ${x}`);
    },
  };
  return { calls, tasks };
}

const source = `
  const a = await double(x);
  const [b, c] = await Promise.all([double(a), double(a + 1)]);
  const e = await fail(c).catch((err) => err.message);
  ({ a, b, c, e })
`;

describe('durable journal', () => {
  it('records every host call, in order, as plain JSON', async () => {
    const { calls, tasks } = counter();
    const journal = createJournal();
    const output = await orchestrateLocal(source, { inputs: { x: 1 }, tasks, journal });
    expect(output).toEqual({ a: 2, b: 4, c: 6, e: 'Task "fail" failed: TypeError: no 6' });
    expect(calls).toHaveLength(4);
    const plain = JSON.parse(JSON.stringify(journal)) as Journal;
    expect(plain).toEqual(journal);
    expect([...journal.calls].sort((l, r) => l.sequence - r.sequence)).toEqual([
      { sequence: 0, task: 'double', args: '[1]', result: '2' },
      { sequence: 1, task: 'double', args: '[2]', result: '4' },
      { sequence: 2, task: 'double', args: '[3]', result: '6' },
      { sequence: 3, task: 'fail', args: '[6]', error: { name: 'TypeError', message: 'no 6' } },
    ]);
  });

  it('replays a recorded journal without calling the tasks', async () => {
    const first = counter();
    const journal = createJournal();
    const output = await orchestrateLocal(source, {
      inputs: { x: 1 },
      tasks: first.tasks,
      journal,
    });
    const replay = counter();
    const copy = JSON.parse(JSON.stringify(journal)) as Journal;
    expect(
      await orchestrateLocal(source, { inputs: { x: 1 }, tasks: replay.tasks, journal: copy }),
    ).toEqual(output);
    expect(replay.calls).toEqual([]);
  });

  it('continues live after the recorded calls', async () => {
    const journal: Journal = {
      version: 1,
      calls: [{ sequence: 0, task: 'double', args: '[1]', result: '100' }],
    };
    const { calls, tasks } = counter();
    const output = await orchestrateLocal(source, { inputs: { x: 1 }, tasks, journal });
    expect(output).toMatchObject({ a: 100, b: 200, c: 202 });
    expect(calls).toEqual(['double(100)', 'double(101)', 'fail(202)']);
    expect(journal.calls).toHaveLength(4);
  });

  it('raises NondeterminismError when a call differs from the journal', async () => {
    const journal: Journal = {
      version: 1,
      calls: [{ sequence: 0, task: 'double', args: '[5]', result: '10' }],
    };
    const { calls, tasks } = counter();
    const error = await orchestrateLocal(source, { inputs: { x: 1 }, tasks, journal }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NondeterminismError);
    expect((error as Error).message).toContain(
      'at call #0: the journal recorded double(5), this run made double(1)',
    );
    expect(calls).toEqual([]);
  });

  it('raises NondeterminismError when the inputs differ from the journal', async () => {
    const journal = createJournal();
    await orchestrateLocal(source, { inputs: { x: 1 }, tasks: counter().tasks, journal });
    await expect(
      orchestrateLocal(source, { inputs: { x: 2 }, tasks: counter().tasks, journal }),
    ).rejects.toBeInstanceOf(NondeterminismError);
  });

  it('replays a recorded failure as a failure', async () => {
    const journal: Journal = {
      version: 1,
      calls: [
        { sequence: 0, task: 'double', args: '[1]', error: { name: 'Error', message: 'recorded' } },
      ],
    };
    const error = await orchestrateLocal('await double(1)', {
      tasks: counter().tasks,
      journal,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrchestratorError);
    expect((error as OrchestratorError).cause).toMatchObject({ message: 'recorded' });
  });

  it('a run aborted after three of five calls resumes in a new process; every task ran once', async () => {
    const child = join(packageDir, 'src', '__fixtures__', 'durable-child.mjs');
    expect(existsSync(join(packageDir, 'dist', 'index.js')), 'run `pnpm build` first').toBe(true);
    const work = await mkdtemp(join(tmpdir(), 'flyte-journal-'));
    try {
      const journalFile = join(work, 'journal.json');
      const logFile = join(work, 'log.txt');
      const first = await exec(process.execPath, [child, 'first', journalFile, logFile], {
        timeout: 30_000,
      });
      expect(JSON.parse(first.stdout)).toEqual({ error: 'stopped after step 3' });
      const recorded = JSON.parse(await readFile(journalFile, 'utf8')) as Journal;
      expect(recorded.calls.map((c) => c.task)).toEqual(['step', 'step', 'step']);
      const second = await exec(process.execPath, [child, 'resume', journalFile, logFile], {
        timeout: 30_000,
      });
      expect(JSON.parse(second.stdout)).toEqual({ output: 150 });
      const log = (await readFile(logFile, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => line.split(' '));
      expect(log.map(([, , step]) => Number(step))).toEqual([1, 2, 3, 4, 5]);
      const pids = new Set(log.map(([pid]) => pid));
      expect(pids.size).toBe(2);
      expect(log.slice(0, 3).every(([pid]) => pid === log[0]?.[0])).toBe(true);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 60_000);
});
