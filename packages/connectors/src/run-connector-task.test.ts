import { createTaskTemplate, Phase, type TaskTemplateContext } from '@flyte/idl';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AsyncConnector, Resource } from './async-connector';
import { ConnectorRegistry } from './connector-registry';
import { AsyncConnectorExecutorMixin, ConnectorTask } from './connector-task';
import {
  ConnectorAbortedError,
  ConnectorNotFoundError,
  ConnectorTaskFailedError,
  ConnectorTimeoutError,
  MissingSecretError,
  TransientConnectorError,
} from './errors';
import { FakeJobConnector } from './fake-job-connector';
import {
  type ConnectorTaskEvent,
  isTransientError,
  type RunConnectorTaskOptions,
  runConnectorTask,
  startConnectorTask,
} from './run-connector-task';
import { REDACTED } from './secrets';
import { MemoryStateStore } from './state-store';

const fast = { minPollInterval: 1, maxPollInterval: 4 };

function fakeTask(
  connector: AsyncConnector<{ jobId: string }> = new FakeJobConnector(),
  defaults: RunConnectorTaskOptions = {},
) {
  return new ConnectorTask({
    name: 'test.fake',
    taskType: connector.taskTypeName,
    inputs: z.object({ polls: z.number().int(), outcome: z.string().optional() }),
    outputs: z.object({ polls: z.number().int() }),
    runDefaults: { connector, ...fast, ...defaults },
  });
}

/** A connector whose `get` answers once, then fails for good (an expired credential, say). */
class FailsAfterFirstPoll extends FakeJobConnector {
  override async get(params: Parameters<FakeJobConnector['get']>[0]): Promise<Resource> {
    if (this.calls.get >= 1) {
      this.calls.get++;
      throw new Error('HTTP 401: credential expired');
    }
    return super.get(params);
  }
}

/** Which of `promise` and a `ms` wait comes first. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    new Promise<'pending'>((resolve) => {
      timer = setTimeout(() => resolve('pending'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** What a run saves for the job `meta` of its attempt `attempt`, as the executor saves it. */
function savedRun(connector: FakeJobConnector, meta: { jobId: string }, attempt: number) {
  return {
    taskType: 'fake_job',
    taskTypeVersion: 0,
    connector: connector.name,
    resourceMeta: JSON.stringify(meta),
    attempt,
    createdAt: new Date().toISOString(),
  };
}

/** A job made directly through the connector, as a run that crashed after `create` left it. */
function createJob(connector: FakeJobConnector, polls: number) {
  return connector.create({
    taskTemplate: fakeTask(connector).toTaskTemplate({ project: 'p', domain: 'd', version: 'v' }),
    inputs: { polls },
    outputPrefix: '',
    secrets: {},
    signal: new AbortController().signal,
  });
}

describe('runConnectorTask', () => {
  it('creates, polls until terminal and returns checked outputs', async () => {
    const connector = new FakeJobConnector();
    const events: ConnectorTaskEvent[] = [];
    const out = await fakeTask(connector).run({ polls: 5 }, { onEvent: (e) => events.push(e) });
    expect(out).toEqual({ polls: 5 });
    expect(connector.calls).toEqual({ create: 1, get: 5, delete: 0 });
    expect(events.map((e) => e.type)).toEqual([
      'created',
      'phase',
      'logLinks',
      'phase',
      'phase',
      'done',
    ]);
    expect(events.filter((e) => e.type === 'phase').map((e) => e.phaseName)).toEqual([
      'QUEUED',
      'RUNNING',
      'SUCCEEDED',
    ]);
  });

  it('surfaces log links with the first poll, before the job ends', async () => {
    const run = startConnectorTask(fakeTask(), { polls: 3 });
    const seen: string[] = [];
    for await (const event of run) {
      seen.push(event.type);
      if (event.type === 'logLinks') {
        expect(seen).not.toContain('done');
        expect(event.logLinks[0]?.uri).toMatch(/^https:\/\/fake\.invalid\/jobs\/job-1$/);
      }
    }
    expect(seen.at(-1)).toBe('done');
    await expect(run.result).resolves.toEqual({ polls: 3 });
  });

  it('several iterators over one run each see every event', async () => {
    const run = startConnectorTask(fakeTask(), { polls: 3 });
    const collect = async (): Promise<string[]> => {
      const seen: string[] = [];
      for await (const event of run) seen.push(event.type);
      return seen;
    };
    const [first, second] = await Promise.all([collect(), collect()]);
    expect(first.at(-1)).toBe('done');
    expect(second).toEqual(first);
  });

  it('finds the connector in a registry by task type and says what is registered', async () => {
    const registry = new ConnectorRegistry().register(new FakeJobConnector());
    const task = new ConnectorTask({
      name: 't',
      taskType: 'fake_job',
      inputs: z.object({ polls: z.number() }),
      outputs: z.object({ polls: z.number() }),
    });
    await expect(runConnectorTask(task, { polls: 1 }, { registry, ...fast })).resolves.toEqual({
      polls: 1,
    });
    const other = new ConnectorTask({ ...task.interface, name: 'u', taskType: 'nope' });
    await expect(runConnectorTask(other, { polls: 1 }, { registry })).rejects.toThrow(
      /No connector for task type "nope" version 0. Registered: fake_job@v0/,
    );
    await expect(runConnectorTask(other, { polls: 1 }, { registry })).rejects.toBeInstanceOf(
      ConnectorNotFoundError,
    );
  });

  it('fails with phase, message and log links when the job fails', async () => {
    const error = await fakeTask()
      .run({ polls: 2, outcome: 'fail' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorTaskFailedError);
    const failed = error as ConnectorTaskFailedError;
    expect(failed.phase).toBe(Phase.FAILED);
    expect(failed.logLinks).toHaveLength(1);
    expect(failed.message).toMatch(
      /ended FAILED: Job job-1 failed after 2 polls\. Logs: https:\/\/fake/,
    );
  });

  it('re-creates a RETRYABLE_FAILED job up to `retries` times', async () => {
    const connector = new FakeJobConnector();
    const events: ConnectorTaskEvent[] = [];
    const error = await fakeTask(connector)
      .run({ polls: 1, outcome: 'retryable' }, { retries: 2, onEvent: (e) => events.push(e) })
      .catch((e: unknown) => e);
    expect(connector.calls.create).toBe(3);
    expect((error as ConnectorTaskFailedError).phase).toBe(Phase.RETRYABLE_FAILED);
    expect(events.filter((e) => e.type === 'retry' && e.reason === 'recreate')).toHaveLength(2);
  });

  it('retries transient get failures within the budget, then gives up', async () => {
    const flaky = new FakeJobConnector({ transientEvery: 2 });
    const events: ConnectorTaskEvent[] = [];
    await expect(
      fakeTask(flaky).run({ polls: 3 }, { onEvent: (e) => events.push(e) }),
    ).resolves.toEqual({
      polls: 3,
    });
    expect(
      events.filter((e) => e.type === 'retry' && e.reason === 'transient').length,
    ).toBeGreaterThan(0);

    const broken = new FakeJobConnector({ transientEvery: 1 });
    await expect(
      fakeTask(broken).run({ polls: 3 }, { transientRetries: 3 }),
    ).rejects.toBeInstanceOf(TransientConnectorError);
    expect(broken.calls.get).toBe(4);
  });

  it('treats socket errors as transient and fails at once on permanent errors', async () => {
    expect(isTransientError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(
      isTransientError(
        new TypeError('fetch failed', {
          cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
        }),
      ),
    ).toBe(true);
    expect(isTransientError(new Error('syntax error in SQL'))).toBe(false);

    let gets = 0;
    class Broken extends FakeJobConnector {
      override async get(): Promise<Resource> {
        gets++;
        throw new Error('permission denied');
      }
    }
    await expect(fakeTask(new Broken()).run({ polls: 1 })).rejects.toThrow('permission denied');
    expect(gets).toBe(1);
  });

  it('aborting deletes the job exactly once and rejects with ConnectorAbortedError', async () => {
    const connector = new FakeJobConnector();
    const controller = new AbortController();
    const run = startConnectorTask(
      fakeTask(connector),
      { polls: 1000 },
      { signal: controller.signal },
    );
    for await (const event of run) {
      if (event.type === 'phase' && event.phaseName === 'RUNNING') controller.abort();
    }
    await expect(run.result).rejects.toBeInstanceOf(ConnectorAbortedError);
    expect(connector.calls.delete).toBe(1);
    expect(connector.jobs.get('job-1')?.state).toBe('deleted');
  });

  it('the timeout deletes the job once and rejects with ConnectorTimeoutError', async () => {
    const connector = new FakeJobConnector();
    const started = performance.now();
    const error = await fakeTask(connector)
      .run({ polls: 1e9 }, { timeout: 50 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorTimeoutError);
    expect((error as Error).message).toMatch(/did not finish within 50 ms/);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(connector.calls.delete).toBe(1);
  });

  it('deletes a job it gives up on, unless a state store keeps it for a rerun', async () => {
    const connector = new FailsAfterFirstPoll();
    const events: ConnectorTaskEvent[] = [];
    await expect(
      fakeTask(connector).run({ polls: 100 }, { onEvent: (e) => events.push(e) }),
    ).rejects.toThrow('credential expired');
    expect(connector.jobs.get('job-1')?.state).toBe('deleted');
    // The job was RUNNING when the run failed; the run itself ends FAILED.
    expect(events.at(-1)).toMatchObject({ type: 'done', phaseName: 'FAILED' });

    const kept = new FailsAfterFirstPoll();
    const store = new MemoryStateStore();
    await expect(
      fakeTask(kept).run({ polls: 100 }, { stateStore: store, runId: 'r' }),
    ).rejects.toThrow('credential expired');
    expect(kept.jobs.get('job-1')?.state).toBe('running');
    expect(kept.calls.delete).toBe(0);
    expect(await store.load('r')).toMatchObject({ resourceMeta: '{"jobId":"job-1"}' });
  });

  it('deletes a job whose record cannot be saved, and bounds every state-store call', async () => {
    const failing = new FakeJobConnector();
    const full = new MemoryStateStore();
    full.save = async () => {
      throw new Error('disk full');
    };
    await expect(
      fakeTask(failing).run({ polls: 100 }, { stateStore: full, runId: 'r' }),
    ).rejects.toThrow('disk full');
    expect(failing.jobs.get('job-1')?.state).toBe('deleted');

    const hanging = new FakeJobConnector();
    const stuck = new MemoryStateStore();
    stuck.save = () => new Promise(() => {});
    const run = fakeTask(hanging).run(
      { polls: 100 },
      // The clean-up waits for the save in flight, within deleteTimeout.
      { stateStore: stuck, runId: 'r', timeout: 50, deleteTimeout: 100 },
    );
    expect(await settlesWithin(run, 2000)).toBe('settled');
    await expect(run).rejects.toBeInstanceOf(ConnectorTimeoutError);
    expect(hanging.jobs.get('job-1')?.state).toBe('deleted');

    // A save that lands after the timeout does not leave a record of the deleted job behind.
    const late = new FakeJobConnector();
    const slow = new MemoryStateStore();
    const save = slow.save.bind(slow);
    slow.save = async (id, state) => {
      await new Promise((r) => setTimeout(r, 100));
      await save(id, state);
    };
    await expect(
      fakeTask(late).run({ polls: 100 }, { stateStore: slow, runId: 'r', timeout: 20 }),
    ).rejects.toBeInstanceOf(ConnectorTimeoutError);
    expect(late.jobs.get('job-1')?.state).toBe('deleted');
    await new Promise((r) => setTimeout(r, 150));
    expect(await slow.load('r')).toBeUndefined();

    const unreadable = new MemoryStateStore();
    unreadable.load = () => new Promise(() => {});
    const controller = new AbortController();
    const loading = fakeTask().run(
      { polls: 1 },
      { stateStore: unreadable, runId: 'r', signal: controller.signal },
    );
    controller.abort();
    expect(await settlesWithin(loading, 2000)).toBe('settled');
    await expect(loading).rejects.toBeInstanceOf(ConnectorAbortedError);
  });

  it('keeps the record of a job whose deletion failed, for a rerun to find', async () => {
    class Undeletable extends FakeJobConnector {
      override async delete(): Promise<void> {
        this.calls.delete++;
        throw new Error('HTTP 503: try again later');
      }
    }
    const connector = new Undeletable();
    const store = new MemoryStateStore();
    await expect(
      fakeTask(connector).run({ polls: 1e9 }, { stateStore: store, runId: 'r', timeout: 30 }),
    ).rejects.toBeInstanceOf(ConnectorTimeoutError);
    expect(connector.calls.delete).toBe(1);
    expect(connector.jobs.get('job-1')?.state).toBe('running');
    expect(await store.load('r')).toMatchObject({ resourceMeta: '{"jobId":"job-1"}' });
  });

  it('fails with its own error and phase, whatever happens while it cleans up', async () => {
    // The timeout passes while the job of a failed run is being deleted.
    class SlowDelete extends FailsAfterFirstPoll {
      override async delete(params: Parameters<FakeJobConnector['delete']>[0]) {
        await new Promise((r) => setTimeout(r, 200));
        return super.delete(params);
      }
    }
    const events: ConnectorTaskEvent[] = [];
    const error = await fakeTask(new SlowDelete())
      .run({ polls: 100 }, { timeout: 100, onEvent: (e) => events.push(e) })
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain('credential expired');
    expect(events.at(-1)).toMatchObject({ type: 'done', phaseName: 'FAILED' });

    // A job that succeeded with outputs that do not fit: the run failed.
    class BadOutputs extends FakeJobConnector {
      override async get(params: Parameters<FakeJobConnector['get']>[0]): Promise<Resource> {
        const resource = await super.get(params);
        return resource.phase === Phase.SUCCEEDED
          ? { ...resource, outputs: { polls: 'x' } }
          : resource;
      }
    }
    const bad: ConnectorTaskEvent[] = [];
    await expect(
      fakeTask(new BadOutputs()).run({ polls: 1 }, { onEvent: (e) => bad.push(e) }),
    ).rejects.toThrow();
    expect(bad.at(-1)).toMatchObject({ type: 'done', phaseName: 'FAILED' });

    // A job re-created after RETRYABLE_FAILED whose creation fails: no stale RETRYABLE_FAILED.
    class CreatesOnce extends FakeJobConnector {
      override async create(params: Parameters<FakeJobConnector['create']>[0]) {
        if (this.calls.create >= 1) throw new Error('quota exceeded');
        return super.create(params);
      }
    }
    const recreated: ConnectorTaskEvent[] = [];
    await expect(
      fakeTask(new CreatesOnce({ outcome: 'retryable' })).run(
        { polls: 1 },
        { retries: 1, onEvent: (e) => recreated.push(e) },
      ),
    ).rejects.toThrow('quota exceeded');
    expect(recreated.at(-1)).toMatchObject({ type: 'done', phaseName: 'FAILED' });
  });

  it('a durable run that times out deletes its job and its saved run', async () => {
    const connector = new FakeJobConnector();
    const store = new MemoryStateStore();
    await expect(
      fakeTask(connector).run({ polls: 1e9 }, { stateStore: store, runId: 'r', timeout: 30 }),
    ).rejects.toBeInstanceOf(ConnectorTimeoutError);
    expect(connector.jobs.get('job-1')?.state).toBe('deleted');
    // A rerun with the same runId starts afresh instead of re-attaching to the deleted job.
    expect(await store.load('r')).toBeUndefined();
  });

  it('refuses option values that would misbehave, and keeps a default an option leaves undefined', async () => {
    const connector = new FakeJobConnector();
    for (const [option, value] of [
      ['timeout', 0],
      ['timeout', Number.NaN],
      ['minPollInterval', 0],
      ['maxPollInterval', 2 ** 31],
      ['deleteTimeout', Number.POSITIVE_INFINITY],
      ['retries', -1],
      ['transientRetries', 1.5],
    ] as const) {
      const run = startConnectorTask(fakeTask(connector), { polls: 1 }, { [option]: value });
      const events: ConnectorTaskEvent[] = [];
      for await (const event of run) events.push(event);
      await expect(run.result).rejects.toMatchObject({
        code: 'invalid_run_options',
        details: { option, value: String(value) },
      });
      expect(events.map((e) => e.type)).toEqual(['done']);
    }
    expect(connector.calls.create).toBe(0);

    // Infinity is no bound; a bound longer than a Node timer takes does not fire at once.
    await expect(
      fakeTask(connector).run({ polls: 3 }, { timeout: Number.POSITIVE_INFINITY }),
    ).resolves.toEqual({ polls: 3 });
    await expect(
      fakeTask(connector).run({ polls: 3 }, { timeout: 30 * 24 * 3600 * 1000 }),
    ).resolves.toEqual({ polls: 3 });

    const bounded = fakeTask(new FakeJobConnector(), { timeout: 50 });
    const run = bounded.run({ polls: 1e9 }, { timeout: undefined });
    expect(await settlesWithin(run, 2000)).toBe('settled');
    await expect(run).rejects.toBeInstanceOf(ConnectorTimeoutError);
  });

  it('a create that ignores the signal is deleted once it returns', async () => {
    class SlowCreate extends FakeJobConnector {
      override async create(params: Parameters<FakeJobConnector['create']>[0]) {
        await new Promise((r) => setTimeout(r, 100));
        return super.create({ ...params, signal: new AbortController().signal });
      }
    }
    const connector = new SlowCreate();
    const slowCreate = connector;
    await expect(fakeTask(slowCreate).run({ polls: 5 }, { timeout: 10 })).rejects.toBeInstanceOf(
      ConnectorTimeoutError,
    );
    await expect.poll(() => connector.calls.delete, { timeout: 2000 }).toBe(1);
    expect(connector.jobs.get('job-1')?.state).toBe('deleted');
  });

  it('backs off between polls and honours a poll hint within the bounds', async () => {
    const times: number[] = [];
    class Timed extends FakeJobConnector {
      override async get(params: Parameters<FakeJobConnector['get']>[0]): Promise<Resource> {
        times.push(performance.now());
        return super.get(params);
      }
    }
    await fakeTask(new Timed({ nextPollAfterMs: 1 })).run(
      { polls: 4 },
      { minPollInterval: 40, maxPollInterval: 60 },
    );
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    // The 1 ms hint is raised to the 40 ms floor.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(38);
  });

  it('re-attaches to a saved job instead of creating another', async () => {
    const connector = new FakeJobConnector();
    const store = new MemoryStateStore();
    await store.save('run-1', savedRun(connector, await createJob(connector, 2), 0));
    const events: ConnectorTaskEvent[] = [];
    await expect(
      fakeTask(connector).run(
        { polls: 2 },
        { stateStore: store, runId: 'run-1', onEvent: (e) => events.push(e) },
      ),
    ).resolves.toEqual({ polls: 2 });
    expect(connector.calls.create).toBe(1);
    expect(events[0]).toMatchObject({ type: 'created', reattached: true });
    expect(await store.load('run-1')).toBeUndefined();
  });

  it('counts the jobs made before a re-attach against `retries`', async () => {
    const connector = new FakeJobConnector({ outcome: 'retryable', polls: 1 });
    const store = new MemoryStateStore();
    // The run had made its first job and re-created it once (attempt 1) before it stopped.
    await store.save('r', savedRun(connector, await createJob(connector, 1), 1));
    await expect(
      fakeTask(connector).run({ polls: 1 }, { stateStore: store, runId: 'r', retries: 1 }),
    ).rejects.toBeInstanceOf(ConnectorTaskFailedError);
    expect(connector.calls.create).toBe(1);
  });

  it('refuses a saved run of another connector, or of the wrong shape, and creates nothing', async () => {
    const connector = new FakeJobConnector();
    const store = new MemoryStateStore();
    const saved = {
      taskType: 'fake_job',
      taskTypeVersion: 0,
      connector: 'SomeOtherConnector',
      resourceMeta: '{"jobId":"elsewhere"}',
      attempt: 0,
      createdAt: new Date().toISOString(),
    };
    await store.save('run-other', saved);
    const other = await fakeTask(connector)
      .run({ polls: 1 }, { stateStore: store, runId: 'run-other' })
      .catch((e: unknown) => e);
    expect(other).toMatchObject({ code: 'run_state_mismatch' });
    expect((other as Error).message).toContain(
      'by connector "SomeOtherConnector", not "fake_job" v0 by "Fake job connector"',
    );
    const hand = { ...saved, connector: connector.name, attempt: 'first' };
    await store.save('run-hand', hand as unknown as typeof saved);
    const malformed = await fakeTask(connector)
      .run({ polls: 1 }, { stateStore: store, runId: 'run-hand' })
      .catch((e: unknown) => e);
    expect(malformed).toMatchObject({ code: 'invalid_run_state' });
    expect((malformed as Error).message).toContain('state.attempt:');
    expect(connector.calls).toMatchObject({ create: 0, get: 0 });
    // Only what re-attaching reads is checked: a timestamp kept as a Date is fine, and a store
    // may answer null for a run it does not have.
    const dated = { ...saved, connector: connector.name, createdAt: new Date() };
    await store.save('run-dated', dated as unknown as typeof saved);
    const meta = await createJob(connector, 1);
    await store.save('run-dated', {
      ...(dated as unknown as typeof saved),
      resourceMeta: JSON.stringify(meta),
    });
    await expect(
      fakeTask(connector).run({ polls: 1 }, { stateStore: store, runId: 'run-dated' }),
    ).resolves.toEqual({ polls: 1 });
    // Re-attached to the job made above, not a new one.
    expect(connector.calls.create).toBe(1);
    // A store over a database, answering null for a run it does not have.
    const nullStore = {
      load: async () => null as never,
      save: async () => {},
      remove: async () => {},
    };
    await expect(
      fakeTask(connector).run({ polls: 1 }, { stateStore: nullStore, runId: 'run-null' }),
    ).resolves.toEqual({ polls: 1 });
    // The saved states are left for whoever must decide about their jobs.
    expect(await store.load('run-other')).toEqual(saved);
  });

  it('never lets a secret value reach an event or an error', async () => {
    const secret = 's3cr3t-token-value';
    class Leaky extends FakeJobConnector {
      override async get({ secrets }: Parameters<FakeJobConnector['get']>[0]): Promise<Resource> {
        if (this.calls.get++ === 0)
          return { phase: Phase.RUNNING, message: `authenticated with ${secrets.token}` };
        throw new Error(`401 for token ${secrets.token}`);
      }
    }
    const events: ConnectorTaskEvent[] = [];
    const error = (await fakeTask(new Leaky())
      .run(
        { polls: 2 },
        {
          secretEnv: { token: 'LEAKY_TOKEN' },
          env: { LEAKY_TOKEN: secret },
          onEvent: (e) => events.push(e),
        },
      )
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(`401 for token ${REDACTED}`);
    expect(error.stack).not.toContain(secret);
    const text = JSON.stringify(events, (_k, v) =>
      v instanceof Error ? `${v.message}${v.stack}` : v,
    );
    expect(text).not.toContain(secret);
    expect(text).toContain(`authenticated with ${REDACTED}`);
  });

  it('redacts the log links a failed job leaves on its error', async () => {
    const secret = 's3cr3t-token-value';
    class LinksWithToken extends FakeJobConnector {
      override async get({ secrets }: Parameters<FakeJobConnector['get']>[0]): Promise<Resource> {
        return {
          phase: Phase.FAILED,
          message: 'boom',
          logLinks: [{ name: 'console', uri: `https://console.invalid/?token=${secrets.token}` }],
        };
      }
    }
    const error = (await fakeTask(new LinksWithToken())
      .run({ polls: 1 }, { secrets: { token: secret } })
      .catch((e: unknown) => e)) as ConnectorTaskFailedError;
    expect(error).toBeInstanceOf(ConnectorTaskFailedError);
    expect(error.logLinks).toEqual([
      { name: 'console', uri: `https://console.invalid/?token=${REDACTED}` },
    ]);
    expect(JSON.stringify(error.details)).not.toContain(secret);
  });

  it('turns a thrown non-Error into an Error without the secret in it', async () => {
    const secret = 's3cr3t-token-value';
    class ThrowsText extends FakeJobConnector {
      override async get({ secrets }: Parameters<FakeJobConnector['get']>[0]): Promise<Resource> {
        throw `401 for token ${secrets.token}`;
      }
    }
    const events: ConnectorTaskEvent[] = [];
    const error = await fakeTask(new ThrowsText())
      .run(
        { polls: 1 },
        {
          secretEnv: { token: 'LEAKY_TOKEN' },
          env: { LEAKY_TOKEN: secret },
          onEvent: (e) => events.push(e),
        },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(`401 for token ${REDACTED}`);
    expect(events.at(-1)).toMatchObject({ type: 'done', error });
  });

  it('names a missing secret and its variable, never a value', async () => {
    await expect(
      fakeTask().run({ polls: 1 }, { secretEnv: { token: 'NOT_SET_ANYWHERE_123' }, env: {} }),
    ).rejects.toThrow(MissingSecretError);
  });

  it('rejects invalid inputs before creating anything', async () => {
    const connector = new FakeJobConnector();
    await expect(fakeTask(connector).run({ polls: 'x' as unknown as number })).rejects.toThrow(
      /invalid inputs: inputs.polls/,
    );
    expect(connector.calls.create).toBe(0);
  });
});

describe('AsyncConnectorExecutorMixin', () => {
  it('gives any task class the connector executor as its run', async () => {
    const connector = new FakeJobConnector();
    class PlainTask {
      readonly name = 'plain';
      readonly taskType = 'fake_job';
      readonly taskTypeVersion = 0;
      readonly interface = {
        inputs: z.object({ polls: z.number() }),
        outputs: z.object({ polls: z.number() }),
      };
      readonly runDefaults = { connector, minPollInterval: 1, maxPollInterval: 2 };
      toTaskTemplate(context: TaskTemplateContext) {
        return createTaskTemplate(this, context);
      }
    }
    const Executable = AsyncConnectorExecutorMixin(PlainTask);
    const task = new Executable();
    await expect(task.run({ polls: 2 })).resolves.toEqual({ polls: 2 });
    expect(task).toBeInstanceOf(PlainTask);
    expect(connector.calls.get).toBe(2);
  });
});
