import { Counter, Registry, Summary } from 'prom-client';

/**
 * The connector service's Prometheus metrics, under the names (and label names) flyte-sdk's
 * Python connector service uses, so existing dashboards keep working. Each service has its
 * own prom-client `Registry`: two services in one process do not mix their numbers.
 */
export class ConnectorServiceMetrics {
  /** The registry to expose (`await registry.metrics()` is the text format). */
  readonly registry = new Registry();
  /** Calls that succeeded, by task type and operation (`create`, `get`, `delete`, `get_metrics`, `get_logs`). */
  readonly success = new Counter({
    name: 'flyte_connector_requests_success_total',
    help: 'Total number of successful requests',
    labelNames: ['task_type', 'operation'] as const,
    registers: [this.registry],
  });
  /** Calls that failed, with the gRPC code in snake case as `error_code` (`not_found`, `unavailable` ...). */
  readonly failure = new Counter({
    name: 'flyte_connector_requests_failure_total',
    help: 'Total number of failed requests',
    labelNames: ['task_type', 'operation', 'error_code'] as const,
    registers: [this.registry],
  });
  /** Time per call, in seconds. */
  readonly latency = new Summary({
    name: 'flyte_connector_request_latency_seconds',
    help: 'Time spent processing connector requests',
    labelNames: ['task_type', 'operation'] as const,
    // Python's prometheus_client Summary exports only _count and _sum; so do we (no quantiles).
    percentiles: [],
    registers: [this.registry],
  });
  /** Size of CreateTask's `inputs`, in bytes of protobuf. */
  readonly inputBytes = new Summary({
    name: 'flyte_connector_input_literal_bytes',
    help: 'Size of input literal',
    labelNames: ['task_type'] as const,
    percentiles: [],
    registers: [this.registry],
  });
}
