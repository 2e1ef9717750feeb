import { FlyteError, Phase } from '@flyte/idl';
import { z } from 'zod';
import {
  AsyncConnector,
  type CreateParams,
  type LogPage,
  type MetricResult,
  type Resource,
  type ResourceParams,
} from './async-connector';
import { TransientConnectorError } from './errors';

const fakeJobMeta = z.object({ jobId: z.string().min(1) });

/** The metadata of a {@link FakeJobConnector} job. */
export type FakeJobMeta = z.infer<typeof fakeJobMeta>;

/** How a fake job ends. */
export type FakeJobOutcome = 'succeed' | 'fail' | 'retryable';

/** Options of {@link FakeJobConnector}. */
export interface FakeJobConnectorOptions {
  /** Default `"fake_job"`. */
  taskTypeName?: string;
  /** Default `"Fake job connector"`. */
  name?: string;
  /** How many `get` calls a job needs before it is terminal (an input `polls` overrides it). Default 5. */
  polls?: number;
  /** How jobs end (an input `outcome` overrides it). Default `succeed`. */
  outcome?: FakeJobOutcome;
  /** Every n-th `get` throws a {@link TransientConnectorError} first. Default: never. */
  transientEvery?: number;
  /** A poll hint returned with every running phase, in milliseconds. */
  nextPollAfterMs?: number;
}

/** One job of a {@link FakeJobConnector}, as a test inspects it. */
export interface FakeJob {
  id: string;
  inputs: Record<string, unknown>;
  polls: number;
  pollsNeeded: number;
  outcome: FakeJobOutcome;
  /** `running`, then `succeeded` / `failed` / `retryable`, or `deleted` when deleted while running. */
  state: 'running' | 'succeeded' | 'failed' | 'retryable' | 'deleted';
  deleteCalls: number;
}

/**
 * An in-memory connector whose jobs finish after a set number of polls: for examples, tests and
 * benchmarks. Outputs echo the inputs (`{ ...inputs, polls }`). Every call is counted, so tests
 * can check that `delete` ran exactly once or that a re-attach created nothing.
 */
export class FakeJobConnector extends AsyncConnector<FakeJobMeta> {
  readonly name: string;
  readonly taskTypeName: string;
  readonly metadataSchema = fakeJobMeta;
  /** Every job created, by id. */
  readonly jobs = new Map<string, FakeJob>();
  /** Call counts by method. */
  readonly calls = { create: 0, get: 0, delete: 0 };
  readonly #options: FakeJobConnectorOptions;
  #next = 0;

  /** @param options - Poll count, outcome, transient failures and poll hint. */
  constructor(options: FakeJobConnectorOptions = {}) {
    super();
    this.name = options.name ?? 'Fake job connector';
    this.taskTypeName = options.taskTypeName ?? 'fake_job';
    this.#options = options;
  }

  async create({ inputs, signal }: CreateParams): Promise<FakeJobMeta> {
    signal.throwIfAborted();
    this.calls.create++;
    const id = `job-${++this.#next}`;
    const polls = typeof inputs.polls === 'number' ? inputs.polls : (this.#options.polls ?? 5);
    const outcome = (['succeed', 'fail', 'retryable'] as const).find((o) => o === inputs.outcome);
    this.jobs.set(id, {
      id,
      inputs,
      polls: 0,
      pollsNeeded: polls,
      outcome: outcome ?? this.#options.outcome ?? 'succeed',
      state: 'running',
      deleteCalls: 0,
    });
    return { jobId: id };
  }

  async get({ resourceMeta }: ResourceParams<FakeJobMeta>): Promise<Resource> {
    this.calls.get++;
    const every = this.#options.transientEvery;
    if (every && this.calls.get % every === 0) {
      throw new TransientConnectorError(
        `Fake job service is throttling (call ${this.calls.get}); retry later.`,
      );
    }
    const job = this.#job(resourceMeta.jobId);
    if (job.state === 'running') {
      job.polls++;
      if (job.polls >= job.pollsNeeded) {
        job.state =
          job.outcome === 'succeed' ? 'succeeded' : job.outcome === 'fail' ? 'failed' : 'retryable';
      }
    }
    const logLinks = [{ name: 'Fake console', uri: `https://fake.invalid/jobs/${job.id}` }];
    switch (job.state) {
      case 'running':
        return {
          phase: job.polls === 1 ? Phase.QUEUED : Phase.RUNNING,
          logLinks,
          ...(this.#options.nextPollAfterMs === undefined
            ? {}
            : { nextPollAfterMs: this.#options.nextPollAfterMs }),
        };
      case 'succeeded':
        return { phase: Phase.SUCCEEDED, logLinks, outputs: { ...job.inputs, polls: job.polls } };
      case 'failed':
        return {
          phase: Phase.FAILED,
          message: `Job ${job.id} failed after ${job.polls} polls.`,
          logLinks,
        };
      case 'retryable':
        return {
          phase: Phase.RETRYABLE_FAILED,
          message: `Job ${job.id} lost its worker.`,
          logLinks,
        };
      case 'deleted':
        return { phase: Phase.ABORTED, message: `Job ${job.id} was deleted.`, logLinks };
    }
  }

  async delete({ resourceMeta }: ResourceParams<FakeJobMeta>): Promise<void> {
    this.calls.delete++;
    const job = this.#job(resourceMeta.jobId);
    job.deleteCalls++;
    if (job.state === 'running') job.state = 'deleted';
  }

  override async getMetrics({
    resourceMeta,
    queries,
  }: ResourceParams<FakeJobMeta> & { queries: readonly string[] }): Promise<MetricResult[]> {
    const job = this.#job(resourceMeta.jobId);
    return queries.map((metric) => ({ metric, data: { polls: job.polls } }));
  }

  override async *getLogs({ resourceMeta }: ResourceParams<FakeJobMeta>): AsyncIterable<LogPage> {
    const job = this.#job(resourceMeta.jobId);
    yield { lines: [`job ${job.id} created`], token: 'page-2' };
    yield { lines: [`job ${job.id} polled ${job.polls} times`, `job ${job.id} is ${job.state}`] };
  }

  #job(id: string): FakeJob {
    const job = this.jobs.get(id);
    if (!job) {
      throw new FlyteError(
        'fake_job_not_found',
        `Fake job "${id}" does not exist in this FakeJobConnector (jobs live in memory: was it created by another process?).`,
        { details: { jobId: id } },
      );
    }
    return job;
  }
}
