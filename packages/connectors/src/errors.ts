import { FlyteError, type FlyteErrorOptions, Phase } from '@flyte/idl';
import type { LogLink } from './async-connector';

/**
 * Throws the error of an option value that cannot work: `code` (`invalid_run_options`,
 * `invalid_service_options`), a message naming `subject`, the option, the rule and the value, and
 * `details` `{ option, value }`.
 */
export function refuseOption(
  code: string,
  subject: string,
  option: string,
  value: unknown,
  rule: string,
): never {
  throw new FlyteError(code, `${subject}: ${option} must be ${rule}, not ${String(value)}.`, {
    details: { option, value: String(value) },
  });
}

/** The rule of a bound in milliseconds that may be infinite. */
export const UNBOUNDED_MS_RULE = 'a number of milliseconds above 0 (Infinity for no bound)';

/**
 * No connector is registered for a task type and version, or under a name. The message lists
 * what is registered. `details`: `taskType`, `taskTypeVersion` or `name`, and `registered`.
 */
export class ConnectorNotFoundError extends FlyteError {
  constructor(message: string, details: Record<string, unknown>) {
    super('connector_not_found', message, { details });
  }
}

/** Two connectors claim the same task type and version, and `override` was not set. */
export class DuplicateConnectorError extends FlyteError {
  constructor(
    message: string,
    details: { taskType: string; taskTypeVersion: number; existing: string; incoming: string },
  ) {
    super('duplicate_connector', message, { details });
  }
}

/**
 * Resource metadata bytes could not be decoded for a connector: not UTF-8 JSON, or JSON that does
 * not fit the connector's metadata schema. `details.connector` names the connector.
 */
export class InvalidResourceMetaError extends FlyteError {
  constructor(
    message: string,
    details: { connector: string; issues?: string[] },
    options: Omit<FlyteErrorOptions, 'details'> = {},
  ) {
    super('invalid_resource_meta', message, { ...options, details });
  }
}

/**
 * The external job ended in a phase other than `SUCCEEDED` (`FAILED`, `ABORTED`, or
 * `RETRYABLE_FAILED` once the re-create budget is spent). Carries the phase, the connector's
 * message and the log links, so the caller can show where to look.
 */
export class ConnectorTaskFailedError extends FlyteError {
  /** The final phase the connector reported. */
  readonly phase: Phase;
  /** Links to the external job's logs, as reported by the connector. */
  readonly logLinks: readonly LogLink[];

  constructor(
    message: string,
    fields: {
      phase: Phase;
      connectorMessage: string;
      logLinks: readonly LogLink[];
      taskType: string;
      attempts: number;
    },
    options: Omit<FlyteErrorOptions, 'details'> = {},
  ) {
    super('connector_task_failed', message, {
      ...options,
      details: {
        phase: Phase[fields.phase] ?? String(fields.phase),
        connectorMessage: fields.connectorMessage,
        logLinks: fields.logLinks.map((l) => l.uri),
        taskType: fields.taskType,
        attempts: fields.attempts,
      },
    });
    this.phase = fields.phase;
    this.logLinks = fields.logLinks;
  }
}

/**
 * A failure worth retrying: throttling (HTTP 429), a dropped connection, a 503. A connector
 * throws it (or wraps a network error in it) to ask the executor to retry with backoff; the
 * connector service answers it with gRPC `UNAVAILABLE`.
 */
export class TransientConnectorError extends FlyteError {
  /** How long the connector suggests waiting before the retry, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: FlyteErrorOptions & { retryAfterMs?: number } = {}) {
    super('transient_connector_error', message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A connector task run passed its overall `timeout`; the external job was deleted. */
export class ConnectorTimeoutError extends FlyteError {
  constructor(message: string, details: { taskType: string; timeoutMs: number }) {
    super('connector_timeout', message, { details });
  }
}

/** A connector task run was aborted by its `AbortSignal`; the external job was deleted. */
export class ConnectorAbortedError extends FlyteError {
  constructor(
    message: string,
    details: { taskType: string },
    options: Omit<FlyteErrorOptions, 'details'> = {},
  ) {
    super('connector_aborted', message, { ...options, details });
  }
}

/** A secret named by a task could not be resolved (not in the map, not in the environment). */
export class MissingSecretError extends FlyteError {
  constructor(message: string, details: { secret: string; environmentVariable: string }) {
    super('missing_secret', message, { details });
  }
}

/** The CLI was given arguments it cannot use, or its modules could not be loaded. */
export class ConnectorCliError extends FlyteError {
  constructor(
    message: string,
    details: Record<string, unknown> = {},
    options: Omit<FlyteErrorOptions, 'details'> = {},
  ) {
    super('connector_cli', message, { ...options, details });
  }
}
