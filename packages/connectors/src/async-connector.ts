import type { JsonObject } from '@bufbuild/protobuf';
import type { Phase } from '@flyte/idl';
import type { TaskExecutionMetadata } from '@flyte/idl/connector';
import type { TaskTemplate } from '@flyte/idl/core';
import type { z } from 'zod';
import { decodeResourceMeta, encodeResourceMeta } from './resource-meta';

/**
 * The metadata a connector keeps about one external job (a job id, a region, a query handle).
 * It must be a JSON object: it travels as UTF-8 JSON bytes, the encoding Python connectors use.
 */
export type ResourceMeta = { [key: string]: unknown };

/** A link to an external job's logs or console, shown to the user as soon as it is known. */
export interface LogLink {
  /** What the link shows, for example `"BigQuery console"`. */
  name: string;
  uri: string;
}

/** What a connector reports about an external job on each `get`. */
export interface Resource {
  /** Where the job is; terminal phases stop the polling. */
  phase: Phase;
  /** A human-readable status, shown on failure. Never put a secret here. */
  message?: string | undefined;
  logLinks?: readonly LogLink[] | undefined;
  /** The task's outputs as native values, by output name; set when the job succeeded. */
  outputs?: Record<string, unknown> | undefined;
  /** Extra, connector-specific information (a `google.protobuf.Struct` on the wire). */
  customInfo?: JsonObject | undefined;
  /**
   * A poll hint: how long to wait before the next `get`, in milliseconds (for example the
   * service's estimate of the remaining time). Clamped to the executor's poll interval bounds.
   */
  nextPollAfterMs?: number | undefined;
}

/** Secrets passed to a connector, by name. Never log them; never put them in a message. */
export type ConnectorSecrets = Readonly<Record<string, string>>;

/** What {@link AsyncConnector.create} receives. */
export interface CreateParams {
  /** The task's flyteidl2 template: type, interface, `custom` config, `sql`... */
  taskTemplate: TaskTemplate;
  /** The task's inputs as native values, checked against its interface. */
  inputs: Record<string, unknown>;
  /** Where the task's outputs should be written, when the job writes files (a URI prefix). */
  outputPrefix: string;
  /** Who runs the task (execution id, namespace, labels); set when Flyte calls the connector. */
  taskExecutionMetadata?: TaskExecutionMetadata | undefined;
  secrets: ConnectorSecrets;
  /** Aborted when the caller gives up (deadline, cancellation); stop waiting when it fires. */
  signal: AbortSignal;
}

/** What {@link AsyncConnector.get} and {@link AsyncConnector.delete} receive. */
export interface ResourceParams<M extends ResourceMeta> {
  /** The metadata `create` returned, decoded and checked against the connector's schema. */
  resourceMeta: M;
  secrets: ConnectorSecrets;
  signal: AbortSignal;
}

/** What {@link AsyncConnector.getMetrics} receives. */
export interface GetMetricsParams<M extends ResourceMeta> extends ResourceParams<M> {
  /** Metric queries, in the connector's own language. */
  queries: readonly string[];
  startTime?: Date | undefined;
  endTime?: Date | undefined;
  /** Resolution of the series, in milliseconds. */
  stepMs?: number | undefined;
}

/** One metric series a connector returns (`flyteidl2.core.ExecutionMetricResult`). */
export interface MetricResult {
  metric: string;
  data: JsonObject;
}

/** What {@link AsyncConnector.getLogs} receives. */
export interface GetLogsParams<M extends ResourceMeta> extends ResourceParams<M> {
  /** How many lines the caller wants at most (0: no limit). */
  lines: number;
  /** The continuation token from a previous page, empty for the first page. */
  token: string;
}

/** One page of log lines. `token` continues after this page, when there is more. */
export interface LogPage {
  lines: readonly string[];
  token?: string | undefined;
}

/**
 * A connector to an external job system: Flyte (or the local executor) calls `create` once,
 * `get` until the phase is terminal, and `delete` to cancel. Subclass it, name the task type it
 * serves and give the zod schema of its metadata.
 *
 * @example
 * class SleepConnector extends AsyncConnector<{ jobId: string }> {
 *   readonly name = 'Sleep connector';
 *   readonly taskTypeName = 'sleep';
 *   readonly metadataSchema = z.object({ jobId: z.string() });
 *   async create() { return { jobId: await startJob() }; }
 *   async get({ resourceMeta }) { return { phase: await jobPhase(resourceMeta.jobId) }; }
 *   async delete({ resourceMeta }) { await cancelJob(resourceMeta.jobId); }
 * }
 */
export abstract class AsyncConnector<M extends ResourceMeta = ResourceMeta> {
  /** A human-readable name, unique per connector; `GetConnector` looks it up. */
  abstract readonly name: string;
  /** The task type this connector runs (`TaskTemplate.type`). */
  abstract readonly taskTypeName: string;
  /** The task type version this connector runs (`TaskTemplate.task_type_version`). */
  readonly taskTypeVersion: number = 0;
  /** The zod schema of the metadata; decoding checks bytes against it. */
  abstract readonly metadataSchema: z.ZodType<M>;

  /** Starts the external job and returns what is needed to find it again. */
  abstract create(params: CreateParams): Promise<M>;
  /** Reports the job's phase (and outputs once it succeeded). */
  abstract get(params: ResourceParams<M>): Promise<Resource>;
  /**
   * Cancels the job. Must be idempotent: deleting twice, or after the job finished, resolves.
   */
  abstract delete(params: ResourceParams<M>): Promise<void>;
  /** Optional: metrics of the job. */
  getMetrics?(params: GetMetricsParams<M>): Promise<readonly MetricResult[]>;
  /** Optional: the job's logs, page by page. */
  getLogs?(params: GetLogsParams<M>): AsyncIterable<LogPage>;

  /** Encodes metadata as UTF-8 JSON bytes (what travels as `resource_meta`). */
  encodeMeta(meta: M): Uint8Array {
    return encodeResourceMeta(meta, this.name);
  }

  /**
   * Decodes `resource_meta` bytes and checks them against {@link metadataSchema}.
   *
   * @throws InvalidResourceMetaError naming this connector when the bytes are not UTF-8 JSON or
   * do not fit the schema.
   */
  decodeMeta(bytes: Uint8Array): M {
    return decodeResourceMeta(bytes, this.metadataSchema, this.name);
  }
}
