import { setMaxListeners } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import {
  createServer as createHttp2Server,
  type Http2Server,
  type ServerHttp2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import {
  fromInputs,
  InvalidTaskIoError,
  LiteralConversionError,
  toOutputs,
  UnsupportedSchemaError,
} from '@flyte/idl';
import {
  AsyncConnectorService,
  type Connector,
  ConnectorMetadataService,
  GetTaskLogsResponseSchema,
  ResourceSchema,
  type TaskCategory,
} from '@flyte/idl/connector';
import type { Connection } from '@flyte/idl/core';
import { InputsSchema } from '@flyte/idl/task';
import type { ResourceMeta } from './async-connector';
import { afterDelay, MAX_TIMER_MS, raceAbort } from './backoff';
import type { AnyConnector, ConnectorRegistry } from './connector-registry';
import {
  ConnectorNotFoundError,
  InvalidResourceMetaError,
  refuseOption,
  UNBOUNDED_MS_RULE,
} from './errors';
import { HealthService, ServingStatus } from './health';
import { inputsSchemaOf, outputsSchemaOf } from './interface-schemas';
import { isTransientError } from './run-connector-task';
import { SecretRedactor } from './secrets';
import { ConnectorServiceMetrics } from './service-metrics';

/** Options of {@link createConnectorService}. */
export interface ConnectorServiceOptions {
  /** gRPC port; 0 picks a free one. Default 8000. */
  port?: number | undefined;
  /** Interface to listen on. Default `"0.0.0.0"` (a cluster reaches the pod); tests use `"127.0.0.1"`. */
  host?: string | undefined;
  /** Port of the Prometheus `/metrics` endpoint, on its own HTTP server; 0 picks a free one. None when unset. */
  metricsPort?: number | undefined;
  /**
   * Bound of one connector call when the caller sets no gRPC deadline, in milliseconds: a
   * connector that hangs is abandoned with `DEADLINE_EXCEEDED`. Default 60 000; `Infinity` for
   * no bound.
   */
  callTimeout?: number | undefined;
  /** Largest request accepted, in bytes; larger ones get `RESOURCE_EXHAUSTED`. Default 16 MiB. */
  readMaxBytes?: number | undefined;
  /** How long {@link ConnectorService.close} lets in-flight calls finish, in milliseconds. Default 10 000. */
  shutdownGrace?: number | undefined;
}

/** A running connector service. */
export interface ConnectorService {
  /** The gRPC port it listens on. */
  readonly port: number;
  /** The metrics port, when a metrics server runs. */
  readonly metricsPort: number | undefined;
  /** Its metrics (also served at `/metrics`). */
  readonly metrics: ConnectorServiceMetrics;
  /**
   * Stops accepting calls (health turns `NOT_SERVING`, connections get GOAWAY), lets in-flight
   * calls finish within `shutdownGrace`, then cancels what is left and closes everything.
   */
  close(): Promise<void>;
}

type Operation = 'create' | 'get' | 'delete' | 'get_metrics' | 'get_logs';

/**
 * The gRPC error a caller can act on, from an error a connector (or the conversion) threw.
 * `NOT_FOUND`: unknown task type or connector; `INVALID_ARGUMENT`: undecodable metadata or
 * inputs that do not fit; `UNAVAILABLE`: transient; `DEADLINE_EXCEEDED`: the call's deadline;
 * `UNKNOWN`: the connector failed without saying how; `INTERNAL`: a bug on our side.
 */
export function toConnectError(error: unknown, signal?: AbortSignal): ConnectError {
  if (error instanceof ConnectError) return error;
  if (signal?.aborted) {
    const reason = signal.reason;
    if (reason instanceof ConnectError) return reason;
    return new ConnectError(
      'The call passed its deadline before the connector answered.',
      Code.DeadlineExceeded,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  if (ConnectorNotFoundError.isInstance(error)) return new ConnectError(message, Code.NotFound);
  if (
    InvalidResourceMetaError.isInstance(error) ||
    LiteralConversionError.isInstance(error) ||
    InvalidTaskIoError.isInstance(error) ||
    UnsupportedSchemaError.isInstance(error)
  ) {
    return new ConnectError(message, Code.InvalidArgument);
  }
  // A TransientConnectorError or a network error.
  if (isTransientError(error)) return new ConnectError(message, Code.Unavailable);
  return new ConnectError(message, Code.Unknown);
}

const codeLabel = (code: Code) =>
  Code[code]?.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase() ?? String(code);

function secretsOf(connection: Connection | undefined): Record<string, string> {
  // Flyte passes a connection's secrets and configs; the connector gets both as `secrets`.
  return { ...connection?.configs, ...connection?.secrets };
}

/**
 * Serves a registry's connectors to a Flyte 2 cluster over gRPC (HTTP/2): flyteidl2's
 * `AsyncConnectorService` and `ConnectorMetadataService`, plus `grpc.health.v1.Health`, and
 * Prometheus metrics on a separate HTTP port.
 *
 * @example
 * const registry = new ConnectorRegistry().register(new MyConnector());
 * const service = await createConnectorService(registry, { port: 8000, metricsPort: 9090 });
 * process.once('SIGTERM', () => void service.close());
 */
export async function createConnectorService(
  registry: ConnectorRegistry,
  options: ConnectorServiceOptions = {},
): Promise<ConnectorService> {
  checkServiceOptions(options);
  const metrics = new ConnectorServiceMetrics();
  const callTimeout = options.callTimeout ?? 60_000;
  // Bounds the deletion of a job nobody will hear of, as a call is bounded (at most the longest
  // delay a Node timer takes: a longer one would fire at once).
  const deletionSignal = () => AbortSignal.timeout(Math.min(callTimeout, MAX_TIMER_MS));
  const shutdown = new AbortController();
  // Aborted as soon as close() starts: Watch streams report NOT_SERVING and end, so they do not
  // hold the shutdown for its whole grace period.
  const stopping = new AbortController();
  // connect links every call in flight to the shutdown signal (and Watch streams listen to
  // `stopping`): one listener per call, removed when it ends. Many concurrent calls are normal.
  setMaxListeners(Number.POSITIVE_INFINITY, shutdown.signal, stopping.signal);
  let status = ServingStatus.SERVING;

  const connectorFor = (category: TaskCategory | undefined, what: string): AnyConnector => {
    if (!category) {
      throw new ConnectError(
        `${what}.task_category is missing; set it to the task type and version the task was created with.`,
        Code.InvalidArgument,
      );
    }
    return registry.getConnector(category.name, category.version);
  };

  // One connector call, unary or streamed: its signal (the caller's deadline, else callTimeout)
  // and its metrics. `failed` maps an error to the status the caller gets, secrets redacted;
  // `end` records the latency and releases the signal.
  function beginCall(operation: Operation, type: string, context: HandlerContext) {
    const started = process.hrtime.bigint();
    const { signal, dispose } = callSignal(context, callTimeout);
    return {
      signal,
      succeeded: () => metrics.success.inc({ task_type: type, operation }),
      failed: (error: unknown, secrets: Record<string, string>): ConnectError => {
        const connectError = toConnectError(error, signal);
        const clean = new ConnectError(
          new SecretRedactor(secrets).text(connectError.rawMessage),
          connectError.code,
        );
        metrics.failure.inc({ task_type: type, operation, error_code: codeLabel(clean.code) });
        return clean;
      },
      end: () => {
        dispose();
        metrics.latency.observe(
          { task_type: type, operation },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      },
    };
  }

  // Runs one unary connector call, bounded by its signal even when the connector ignores it.
  async function instrument<T>(
    operation: Operation,
    type: string,
    context: HandlerContext,
    secrets: Record<string, string>,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const run = beginCall(operation, type, context);
    try {
      const result = await raceAbort(call(run.signal), run.signal);
      run.succeeded();
      return result;
    } catch (error) {
      throw run.failed(error, secrets);
    } finally {
      run.end();
    }
  }

  const routes = (router: ConnectRouter) => {
    router.service(AsyncConnectorService, {
      createTask: (request, context) => {
        const secrets = secretsOf(request.connection);
        return instrument(
          'create',
          request.template?.type ?? '',
          context,
          secrets,
          async (signal) => {
            const template = request.template;
            if (!template)
              throw new ConnectError(
                'CreateTaskRequest.template is missing; send the task template to run.',
                Code.InvalidArgument,
              );
            const connector = registry.getConnector(template.type, template.taskTypeVersion);
            let inputs: Record<string, unknown> = {};
            if (request.inputs) {
              metrics.inputBytes.observe(
                { task_type: template.type },
                toBinary(InputsSchema, request.inputs).byteLength,
              );
              inputs = fromInputs(request.inputs, { inputs: inputsSchemaOf(template.interface) });
            }
            const creating = connector.create({
              taskTemplate: template,
              inputs,
              outputPrefix: request.outputPrefix,
              taskExecutionMetadata: request.taskExecutionMetadata,
              secrets,
              signal,
            });
            // A job created after the caller gave up would be orphaned: the caller never learns its
            // metadata. Delete it (best effort).
            creating.then(
              (late) => {
                if (signal.aborted) {
                  void connector
                    .delete({ resourceMeta: late, secrets, signal: deletionSignal() })
                    .catch(() => {});
                }
              },
              () => {},
            );
            // instrument races the whole call against the signal.
            const meta = await creating;
            let resourceMeta: Uint8Array;
            try {
              resourceMeta = connector.encodeMeta(meta);
            } catch (cause) {
              // The caller could never name this job: delete it rather than leave it running.
              const deleted = await connector
                .delete({ resourceMeta: meta, secrets, signal: deletionSignal() })
                .then(
                  () => true,
                  () => false,
                );
              throw new ConnectError(
                `Connector "${connector.name}" created a job whose metadata cannot be encoded: ${(cause as Error).message.replace(/\.$/, '')}. ${deleted ? 'The job was deleted.' : 'Deleting it failed too: it may still be running.'}`,
                Code.Internal,
              );
            }
            return { resourceMeta };
          },
        );
      },
      getTask: (request, context) => {
        const secrets = secretsOf(request.connection);
        return instrument(
          'get',
          request.taskCategory?.name ?? '',
          context,
          secrets,
          async (signal) => {
            const connector = connectorFor(request.taskCategory, 'GetTaskRequest');
            const resourceMeta: ResourceMeta = connector.decodeMeta(request.resourceMeta);
            const resource = await connector.get({ resourceMeta, secrets, signal });
            let outputs: ReturnType<typeof toOutputs> | undefined;
            if (resource.outputs && Object.keys(resource.outputs).length > 0) {
              try {
                outputs = toOutputs(resource.outputs, {
                  outputs: outputsSchemaOf(resource.outputs),
                });
              } catch (cause) {
                throw new ConnectError(
                  `Connector "${connector.name}" returned outputs that cannot become flyteidl2 literals: ${(cause as Error).message}`,
                  Code.Internal,
                );
              }
            }
            // Flyte shows the message, links and custom info to users: no connection secret in them.
            const redactor = new SecretRedactor(secrets);
            return {
              resource: create(ResourceSchema, {
                phase: resource.phase,
                message: redactor.text(resource.message ?? ''),
                logLinks: (resource.logLinks ?? []).map((l) => ({
                  name: redactor.text(l.name),
                  uri: redactor.text(l.uri),
                })),
                ...(outputs ? { outputs } : {}),
                ...(resource.customInfo ? { customInfo: redactor.value(resource.customInfo) } : {}),
              }),
            };
          },
        );
      },
      deleteTask: (request, context) => {
        const secrets = secretsOf(request.connection);
        return instrument(
          'delete',
          request.taskCategory?.name ?? '',
          context,
          secrets,
          async (signal) => {
            const connector = connectorFor(request.taskCategory, 'DeleteTaskRequest');
            await connector.delete({
              resourceMeta: connector.decodeMeta(request.resourceMeta),
              secrets,
              signal,
            });
            return {};
          },
        );
      },
      getTaskMetrics: (request, context) =>
        instrument('get_metrics', request.taskCategory?.name ?? '', context, {}, async (signal) => {
          const connector = connectorFor(request.taskCategory, 'GetTaskMetricsRequest');
          if (!connector.getMetrics) {
            throw new ConnectError(
              `Connector "${connector.name}" does not report metrics.`,
              Code.Unimplemented,
            );
          }
          const results = await connector.getMetrics({
            resourceMeta: connector.decodeMeta(request.resourceMeta),
            queries: request.queries,
            startTime: request.startTime ? timestampDate(request.startTime) : undefined,
            endTime: request.endTime ? timestampDate(request.endTime) : undefined,
            stepMs: request.step
              ? Number(request.step.seconds) * 1000 + request.step.nanos / 1e6
              : undefined,
            secrets: {},
            signal,
          });
          return { results: results.map((r) => ({ metric: r.metric, data: r.data })) };
        }),
      getTaskLogs: async function* (request, context) {
        const run = beginCall('get_logs', request.taskCategory?.name ?? '', context);
        const { signal } = run;
        try {
          const connector = connectorFor(request.taskCategory, 'GetTaskLogsRequest');
          if (!connector.getLogs) {
            throw new ConnectError(
              `Connector "${connector.name}" does not serve logs.`,
              Code.Unimplemented,
            );
          }
          const pages = connector
            .getLogs({
              resourceMeta: connector.decodeMeta(request.resourceMeta),
              lines: Number(request.lines),
              token: request.token,
              secrets: {},
              signal,
            })
            [Symbol.asyncIterator]();
          // Each page is awaited against the call's bound, as unary calls are: a connector that
          // never yields is abandoned with DEADLINE_EXCEEDED.
          let exhausted = false;
          try {
            for (;;) {
              const next = await raceAbort(pages.next(), signal);
              if (next.done) break;
              const page = next.value;
              if (page.token)
                yield create(GetTaskLogsResponseSchema, {
                  part: { case: 'header', value: { token: page.token } },
                });
              yield create(GetTaskLogsResponseSchema, {
                part: { case: 'body', value: { results: [...page.lines] } },
              });
            }
            exhausted = true;
          } finally {
            // Left early (bound, cancel, error): ask the connector to stop, without waiting for a
            // stuck one to answer.
            if (!exhausted) void pages.return?.()?.catch(() => {});
          }
          run.succeeded();
        } catch (error) {
          throw run.failed(error, {});
        } finally {
          run.end();
        }
      },
    });
    router.service(ConnectorMetadataService, {
      getConnector: (request) => {
        try {
          return { connector: registry.getConnectorMetadata(request.name) };
        } catch (error) {
          throw toConnectError(error);
        }
      },
      listConnectors: () => ({ connectors: registry.listConnectors() satisfies Connector[] }),
    });
    router.service(HealthService, {
      check: (request) => {
        const known = [
          '',
          'grpc.health.v1.Health',
          AsyncConnectorService.typeName,
          ConnectorMetadataService.typeName,
        ];
        if (!known.includes(request.service)) {
          throw new ConnectError(
            `Unknown service "${request.service}"; this server serves ${known.slice(1).join(', ')}.`,
            Code.NotFound,
          );
        }
        return { status };
      },
      watch: async function* (_request, context) {
        yield { status };
        // Health changes once, on shutdown: report it, then end.
        let wake = () => {};
        try {
          await new Promise<void>((resolve) => {
            wake = resolve;
            if (context.signal.aborted || stopping.signal.aborted) resolve();
            context.signal.addEventListener('abort', wake, { once: true });
            stopping.signal.addEventListener('abort', wake, { once: true });
          });
        } finally {
          context.signal.removeEventListener('abort', wake);
          stopping.signal.removeEventListener('abort', wake);
        }
        if (!context.signal.aborted) yield { status: ServingStatus.NOT_SERVING };
      },
    });
  };

  const handler = connectNodeAdapter({
    routes,
    grpc: true,
    connect: false,
    grpcWeb: false,
    readMaxBytes: options.readMaxBytes ?? 16 * 1024 * 1024,
    shutdownSignal: shutdown.signal,
  });

  const server: Http2Server = createHttp2Server({}, handler);
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // A broken client connection must not crash the process.
    session.on('error', () => {});
  });
  server.on('sessionError', () => {});
  const host = options.host ?? '0.0.0.0';
  await listen(server, options.port ?? 8000, host);

  let metricsServer: HttpServer | undefined;
  if (options.metricsPort !== undefined) {
    metricsServer = createHttpServer((req, res) => {
      if (req.url?.split('?')[0] !== '/metrics') {
        res
          .writeHead(404, { 'content-type': 'text/plain' })
          .end('Not found: metrics are at /metrics\n');
        return;
      }
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    try {
      await listen(metricsServer, options.metricsPort, host);
    } catch (error) {
      server.close();
      throw error;
    }
  }

  let closing: Promise<void> | undefined;
  const grace = options.shutdownGrace ?? 10_000;
  return {
    port: (server.address() as AddressInfo).port,
    metricsPort: metricsServer ? (metricsServer.address() as AddressInfo).port : undefined,
    metrics,
    close() {
      closing ??= (async () => {
        status = ServingStatus.NOT_SERVING;
        stopping.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // GOAWAY: clients stop sending new calls; streams in flight go on.
        for (const session of sessions) session.close();
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          timer = setTimeout(() => resolve('expired'), grace);
        });
        try {
          if ((await Promise.race([closed, expired])) === 'expired') {
            shutdown.abort(
              new ConnectError('The connector service is shutting down.', Code.Unavailable),
            );
            for (const session of sessions) session.destroy();
            await closed;
          }
        } finally {
          clearTimeout(timer);
          shutdown.abort();
          if (metricsServer) {
            const m = metricsServer;
            m.closeAllConnections();
            await new Promise<void>((resolve) => m.close(() => resolve()));
          }
        }
      })();
      return closing;
    },
  };
}

/**
 * The signal a connector call gets: aborted when the caller cancels, when the call's deadline
 * passes, or after `bound` ms when the caller set no deadline. One timer per call, cleared by
 * `dispose` (AbortSignal.timeout would keep a timer alive for the whole bound after each call).
 */
function callSignal(
  context: HandlerContext,
  bound: number,
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(context.signal.reason);
  if (context.signal.aborted) onAbort();
  else context.signal.addEventListener('abort', onAbort, { once: true });
  const timeoutMs = context.timeoutMs() ?? bound;
  const cancel = afterDelay(timeoutMs, () =>
    controller.abort(
      new ConnectError(`The call did not finish within ${timeoutMs} ms.`, Code.DeadlineExceeded),
    ),
  );
  return {
    signal: controller.signal,
    dispose: () => {
      cancel();
      context.signal.removeEventListener('abort', onAbort);
    },
  };
}

/** Refuses option values the service could not honour (Node fires over-long timers at once). */
function checkServiceOptions(options: ConnectorServiceOptions): void {
  const refuse = (option: string, value: unknown, rule: string) =>
    refuseOption('invalid_service_options', 'createConnectorService', option, value, rule);
  const { callTimeout, shutdownGrace, readMaxBytes } = options;
  if (callTimeout !== undefined && !(callTimeout > 0)) {
    refuse('callTimeout', callTimeout, UNBOUNDED_MS_RULE);
  }
  if (shutdownGrace !== undefined && !(shutdownGrace >= 0 && shutdownGrace <= MAX_TIMER_MS)) {
    refuse('shutdownGrace', shutdownGrace, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`);
  }
  if (readMaxBytes !== undefined && !(Number.isInteger(readMaxBytes) && readMaxBytes > 0)) {
    refuse('readMaxBytes', readMaxBytes, 'a whole number of bytes above 0');
  }
}

function listen(server: HttpServer | Http2Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
