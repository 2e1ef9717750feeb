// Running connector-backed tasks

// --- For connector authors and servers ---------------------------------------------------------
export {
  AsyncConnector,
  type ConnectorSecrets,
  type CreateParams,
  type GetLogsParams,
  type GetMetricsParams,
  type LogLink,
  type LogPage,
  type MetricResult,
  type Resource,
  type ResourceMeta,
  type ResourceParams,
} from './async-connector';
export { type BackoffBounds, backoffDelay } from './backoff';
export {
  type AnyConnector,
  ConnectorRegistry,
  defaultRegistry,
  type RegisterOptions,
} from './connector-registry';
// The connector service (what a Flyte 2 cluster talks to)
export {
  type ConnectorService,
  type ConnectorServiceOptions,
  createConnectorService,
  toConnectError,
} from './connector-service';
export {
  AsyncConnectorExecutorMixin,
  ConnectorTask,
  type ConnectorTaskBase,
  type ConnectorTaskClass,
  type ConnectorTaskOptions,
} from './connector-task';
export {
  ConnectorAbortedError,
  ConnectorCliError,
  ConnectorNotFoundError,
  ConnectorTaskFailedError,
  ConnectorTimeoutError,
  DuplicateConnectorError,
  InvalidResourceMetaError,
  MissingSecretError,
  TransientConnectorError,
} from './errors';
// In-memory connector for examples and benchmarks (also in `@flyte/connectors/testing`).
export {
  type FakeJob,
  FakeJobConnector,
  type FakeJobConnectorOptions,
  type FakeJobMeta,
  type FakeJobOutcome,
} from './fake-job-connector';
export {
  type HealthCheckRequest,
  HealthCheckRequestSchema,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthService,
  ServingStatus,
  ServingStatusSchema,
} from './health';
export {
  inputsSchemaOf,
  outputsSchemaOf,
  schemaOfLiteralType,
  schemaOfValue,
} from './interface-schemas';
export { decodeResourceMeta, encodeResourceMeta } from './resource-meta';
export {
  ConnectorRun,
  type ConnectorRunDefaults,
  type ConnectorTaskEvent,
  type ConnectorTaskLike,
  isTransientError,
  type RunConnectorTaskOptions,
  runConnectorTask,
  startConnectorTask,
} from './run-connector-task';
export { REDACTED, resolveSecrets, SecretRedactor, type SecretSources } from './secrets';
export { ConnectorServiceMetrics } from './service-metrics';
export {
  type ConnectorStateStore,
  FileStateStore,
  MemoryStateStore,
  type StoredConnectorRun,
} from './state-store';
