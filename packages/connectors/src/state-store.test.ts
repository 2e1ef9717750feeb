import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { FileStateStore, type StoredConnectorRun } from './state-store';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const state: StoredConnectorRun = {
  taskType: 'fake_job',
  taskTypeVersion: 0,
  connector: 'Fake',
  resourceMeta: '{"jobId":"j"}',
  attempt: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
};

it('FileStateStore saves, loads and removes runs, one file each, leaving no temporary files', async () => {
  dir = await mkdtemp(join(tmpdir(), 'flyte-state-'));
  const store = new FileStateStore(join(dir, 'nested'));
  expect(await store.load('run/1')).toBeUndefined();
  await store.save('run/1', state);
  await store.save('run/1', { ...state, attempt: 1 });
  expect(await store.load('run/1')).toEqual({ ...state, attempt: 1 });
  expect(await readdir(join(dir, 'nested'))).toEqual(['run%2F1.json']);
  await store.remove('run/1');
  await store.remove('run/1');
  expect(await store.load('run/1')).toBeUndefined();
});

it('FileStateStore explains a corrupt state file', async () => {
  dir = await mkdtemp(join(tmpdir(), 'flyte-state-'));
  await writeFile(join(dir, 'r.json'), '{half');
  await expect(new FileStateStore(dir).load('r')).rejects.toThrow(
    /state file of run "r" .* is not JSON. Delete it/,
  );
  await expect(new FileStateStore(dir).save('', state)).rejects.toThrow(/non-empty runId/);
});
