// Starts the real connector service (gRPC over HTTP/2 on 127.0.0.1, metrics over HTTP) and calls it with a connect-node gRPC client.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { defineTask, fromOutputs, Phase, toInputs } from '@flyte/idl';
import { AsyncConnectorService, ConnectorMetadataService } from '@flyte/idl/connector';
import { LiteralSchema } from '@flyte/idl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Resource, ResourceParams } from './async-connector';
import { ConnectorRegistry } from './connector-registry';
import { type ConnectorService, createConnectorService } from './connector-service';
import { TransientConnectorError } from './errors';
import { FakeJobConnector, type FakeJobMeta } from './fake-job-connector';
import { HealthService, ServingStatus } from './health';
import { REDACTED } from './secrets';

const SECRET = 'tok-9f8e7d6c5b4a';

class TrickyConnector extends FakeJobConnector {
  override async get(params: ResourceParams<FakeJobMeta>): Promise<Resource> {
    const { jobId } = params.resourceMeta;
    if (jobId === 'throttled') throw new TransientConnectorError('HTTP 429 from the service');
    if (jobId === 'hang') return new Promise(() => {});
    if (jobId === 'bug')
      throw new TypeError(`cannot read x of undefined (token ${params.secrets.token})`);
    if (jobId === 'slow') {
      await new Promise((r) => setTimeout(r, 300));
      return { phase: Phase.RUNNING };
    }
    if (jobId === 'leaky')
      return {
        phase: Phase.FAILED,
        message: `auth failed for ${params.secrets.token}`,
        logLinks: [{ name: 'console', uri: `https://console.invalid/?t=${params.secrets.token}` }],
        customInfo: { request: { header: `Bearer ${params.secrets.token}` } },
      };
    return super.get(params);
  }

  override async create(params: Parameters<FakeJobConnector['create']>[0]) {
    const created = await super.create(params);
    // Metadata JSON cannot hold: encodeMeta throws after the job exists.
    if (params.inputs.note === 'unencodable') return { ...created, size: 10n } as typeof created;
    return created;
  }

  override async *getLogs(params: Parameters<FakeJobConnector['getLogs']>[0]) {
    if (params.resourceMeta.jobId === 'hang') await new Promise(() => {});
    yield* super.getLogs(params);
  }
}

const echo = defineTask({
  name: 'echo',
  taskType: 'fake_job',
  inputs: z.object({ polls: z.number().int(), note: z.string(), tags: z.array(z.string()) }),
  outputs: z.object({ polls: z.number().int() }),
  run: async () => ({ polls: 0 }),
});
const template = echo.toTaskTemplate({ project: 'p', domain: 'd', version: 'v' });
const category = { name: 'fake_job', version: 0 };
const meta = (jobId: string) => new TextEncoder().encode(JSON.stringify({ jobId }));

let service: ConnectorService;
let connector: TrickyConnector;
const transport = () => createGrpcTransport({ baseUrl: `http://127.0.0.1:${service.port}` });

async function codeOf(promise: Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

beforeAll(async () => {
  connector = new TrickyConnector({ polls: 2 });
  const registry = new ConnectorRegistry().register(connector);
  service = await createConnectorService(registry, {
    port: 0,
    metricsPort: 0,
    host: '127.0.0.1',
    callTimeout: 500,
    readMaxBytes: 64 * 1024,
    shutdownGrace: 2000,
  });
});
afterAll(async () => {
  await service?.close();
});

describe('AsyncConnectorService over gRPC', () => {
  it('CreateTask, GetTask until terminal, outputs as literals, DeleteTask', async () => {
    const client = createClient(AsyncConnectorService, transport());
    const created = await client.createTask({
      template,
      inputs: toInputs({ polls: 2, note: 'hi', tags: ['a', 'b'] }, echo.interface),
      outputPrefix: 's3://bucket/out',
      connection: { secrets: { token: SECRET } },
    });
    expect(JSON.parse(new TextDecoder().decode(created.resourceMeta))).toEqual({ jobId: 'job-1' });
    const job = connector.jobs.get('job-1');
    expect(job?.inputs).toEqual({ polls: 2, note: 'hi', tags: ['a', 'b'] });

    const first = await client.getTask({
      resourceMeta: created.resourceMeta,
      taskCategory: category,
    });
    expect(first.resource?.phase).toBe(Phase.QUEUED);
    expect(first.resource?.logLinks[0]?.uri).toBe('https://fake.invalid/jobs/job-1');
    const done = await client.getTask({
      resourceMeta: created.resourceMeta,
      taskCategory: category,
    });
    expect(done.resource?.phase).toBe(Phase.SUCCEEDED);
    const outputs = done.resource?.outputs;
    expect(outputs).toBeDefined();
    expect(
      fromOutputs(outputs as NonNullable<typeof outputs>, {
        outputs: z.object({ polls: z.number().int(), note: z.string(), tags: z.array(z.string()) }),
      }),
    ).toEqual({ polls: 2, note: 'hi', tags: ['a', 'b'] });

    await client.deleteTask({ resourceMeta: created.resourceMeta, taskCategory: category });
    await client.deleteTask({ resourceMeta: created.resourceMeta, taskCategory: category });
    expect(connector.jobs.get('job-1')?.deleteCalls).toBe(2);
  });

  it('GetTaskMetrics and the GetTaskLogs stream', async () => {
    const client = createClient(AsyncConnectorService, transport());
    const { resourceMeta } = await client.createTask({
      template,
      inputs: toInputs({ polls: 5, note: '', tags: [] }, echo.interface),
    });
    const metrics = await client.getTaskMetrics({
      resourceMeta,
      taskCategory: category,
      queries: ['cpu'],
    });
    expect(metrics.results[0]?.metric).toBe('cpu');
    const parts: string[] = [];
    for await (const part of client.getTaskLogs({ resourceMeta, taskCategory: category })) {
      parts.push(
        part.part.case === 'header'
          ? `header:${part.part.value.token}`
          : `body:${part.part.value?.results.length}`,
      );
    }
    expect(parts).toEqual(['header:page-2', 'body:1', 'body:2']);
  });

  it('answers with status codes a caller can act on', async () => {
    const client = createClient(AsyncConnectorService, transport());
    const unknownType = { ...template, type: 'no_such_type' };
    expect(await codeOf(client.createTask({ template: unknownType }))).toBe(Code.NotFound);
    expect(
      await codeOf(
        client.getTask({ resourceMeta: meta('x'), taskCategory: { name: 'nope', version: 0 } }),
      ),
    ).toBe(Code.NotFound);
    expect(
      await codeOf(
        client.getTask({
          resourceMeta: new Uint8Array([0xff, 0xfe, 0x00]),
          taskCategory: category,
        }),
      ),
    ).toBe(Code.InvalidArgument);
    expect(
      await codeOf(
        client.getTask({
          resourceMeta: new TextEncoder().encode('{"other":1}'),
          taskCategory: category,
        }),
      ),
    ).toBe(Code.InvalidArgument);
    // An input that is not in the interface, and one of the wrong type.
    const badInputs = toInputs({ polls: 1, note: 'x', tags: [] }, echo.interface);
    badInputs.literals[1] = {
      ...badInputs.literals[0],
      name: 'note',
    } as (typeof badInputs.literals)[number];
    expect(await codeOf(client.createTask({ template, inputs: badInputs }))).toBe(
      Code.InvalidArgument,
    );
    expect(
      await codeOf(client.getTask({ resourceMeta: meta('throttled'), taskCategory: category })),
    ).toBe(Code.Unavailable);
    expect(
      await codeOf(
        client.getTask({ resourceMeta: meta('slow'), taskCategory: category }, { timeoutMs: 50 }),
      ),
    ).toBe(Code.DeadlineExceeded);
    // A hanging connector is abandoned at the server's call bound.
    expect(
      await codeOf(client.getTask({ resourceMeta: meta('hang'), taskCategory: category })),
    ).toBe(Code.DeadlineExceeded);
    expect(await codeOf(client.getTask({ resourceMeta: meta('x') }))).toBe(Code.InvalidArgument);
    // A log stream that never yields is abandoned at the same bound.
    const hangingLogs = async () => {
      for await (const _ of client.getTaskLogs({
        resourceMeta: meta('hang'),
        taskCategory: category,
      })) {
        // nothing arrives
      }
    };
    expect(await codeOf(hangingLogs())).toBe(Code.DeadlineExceeded);
  });

  it('deletes a job whose metadata cannot be encoded, and says it is a connector bug', async () => {
    const client = createClient(AsyncConnectorService, transport());
    const before = connector.jobs.size;
    const error = await client
      .createTask({
        template,
        inputs: toInputs({ polls: 1, note: 'unencodable', tags: [] }, echo.interface),
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Internal);
    expect((error as ConnectError).rawMessage).toMatch(
      /created a job whose metadata cannot be encoded: .*BigInt.*\. The job was deleted\./,
    );
    const job = [...connector.jobs.values()][before];
    expect(job?.state).toBe('deleted');
  });

  it('never returns a connection secret in an error message', async () => {
    const client = createClient(AsyncConnectorService, transport());
    const error = await client
      .getTask({
        resourceMeta: meta('bug'),
        taskCategory: category,
        connection: { secrets: { token: SECRET } },
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unknown);
    expect((error as ConnectError).rawMessage).toContain('cannot read x of undefined');
    expect((error as ConnectError).rawMessage).not.toContain(SECRET);
  });

  it('never returns a connection secret in what a resource shows Flyte users', async () => {
    const client = createClient(AsyncConnectorService, transport());
    const { resource } = await client.getTask({
      resourceMeta: meta('leaky'),
      taskCategory: category,
      connection: { secrets: { token: SECRET } },
    });
    expect(resource?.message).toBe(`auth failed for ${REDACTED}`);
    expect(resource?.logLinks.map((l) => l.uri)).toEqual([
      `https://console.invalid/?t=${REDACTED}`,
    ]);
    expect(JSON.stringify(resource?.customInfo)).toContain(`Bearer ${REDACTED}`);
    expect(JSON.stringify(resource)).not.toContain(SECRET);
  });

  it('survives garbage bytes and oversized messages', async () => {
    // A gRPC frame whose payload is not a protobuf message.
    const http2 = await import('node:http2');
    const session = http2.connect(`http://127.0.0.1:${service.port}`);
    try {
      const status = await new Promise<string | undefined>((resolve, reject) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/flyteidl2.connector.AsyncConnectorService/GetTask',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        const payload = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
        const frame = Buffer.alloc(5 + payload.length);
        frame.writeUInt32BE(payload.length, 1);
        payload.copy(frame, 5);
        let grpcStatus: string | undefined;
        stream.on('response', (headers) => {
          grpcStatus ??= headers['grpc-status'] as string | undefined;
        });
        stream.on('trailers', (trailers) => {
          grpcStatus = trailers['grpc-status'] as string | undefined;
        });
        stream.on('close', () => resolve(grpcStatus));
        stream.on('error', reject);
        stream.resume();
        stream.end(frame);
      });
      // connect-es answers a request it cannot parse with INTERNAL, as grpc-go and grpc-java do
      // ("error unmarshalling request"); what matters is that the server stays up.
      expect(Number(status)).toBe(Code.Internal);
    } finally {
      session.close();
    }

    const client = createClient(AsyncConnectorService, transport());
    const huge = new Uint8Array(200 * 1024);
    expect(await codeOf(client.getTask({ resourceMeta: huge, taskCategory: category }))).toBe(
      Code.ResourceExhausted,
    );
    // Still serving.
    const health = createClient(HealthService, transport());
    expect((await health.check({})).status).toBe(ServingStatus.SERVING);
  });
});

describe('createConnectorService options', () => {
  it('refuses values it could not honour, and takes an Infinity callTimeout as no bound', async () => {
    const registry = new ConnectorRegistry().register(new TrickyConnector());
    for (const [option, value] of [
      ['callTimeout', 0],
      ['shutdownGrace', 2 ** 31],
      ['readMaxBytes', 1.5],
    ] as const) {
      await expect(
        createConnectorService(registry, { port: 0, host: '127.0.0.1', [option]: value }),
      ).rejects.toMatchObject({
        code: 'invalid_service_options',
        details: { option, value: String(value) },
      });
    }
    // The deletion of a job nobody will hear of is bounded too, and not fired at once when the
    // bound is longer than a Node timer takes.
    class SlowDelete extends TrickyConnector {
      override async delete(params: Parameters<FakeJobConnector['delete']>[0]) {
        await new Promise((r) => setTimeout(r, 50));
        params.signal.throwIfAborted();
        return super.delete(params);
      }
    }
    const long = await createConnectorService(new ConnectorRegistry().register(new SlowDelete()), {
      port: 0,
      host: '127.0.0.1',
      callTimeout: 30 * 24 * 3600 * 1000,
    });
    try {
      const client = createClient(
        AsyncConnectorService,
        createGrpcTransport({ baseUrl: `http://127.0.0.1:${long.port}` }),
      );
      const error = await client
        .createTask({
          template,
          inputs: toInputs({ polls: 1, note: 'unencodable', tags: [] }, echo.interface),
        })
        .catch((e: unknown) => ConnectError.from(e));
      expect((error as ConnectError).rawMessage).toMatch(/[^.]\. The job was deleted\.$/);
    } finally {
      await long.close();
    }
    const unbounded = await createConnectorService(registry, {
      port: 0,
      host: '127.0.0.1',
      callTimeout: Number.POSITIVE_INFINITY,
    });
    try {
      const client = createClient(
        AsyncConnectorService,
        createGrpcTransport({ baseUrl: `http://127.0.0.1:${unbounded.port}` }),
      );
      const { resource } = await client.getTask({
        resourceMeta: meta('slow'),
        taskCategory: category,
      });
      expect(resource?.phase).toBe(Phase.RUNNING);
    } finally {
      await unbounded.close();
    }
  });
});

describe('ConnectorMetadataService, health and metrics', () => {
  it('lists connectors with their task categories and finds one by name', async () => {
    const client = createClient(ConnectorMetadataService, transport());
    const { connectors } = await client.listConnectors({});
    expect(
      connectors.map((c) => [
        c.name,
        c.supportedTaskCategories.map((t) => `${t.name}@${t.version}`),
      ]),
    ).toEqual([['Fake job connector', ['fake_job@0']]]);
    expect((await client.getConnector({ name: 'Fake job connector' })).connector?.name).toBe(
      'Fake job connector',
    );
    expect(await codeOf(client.getConnector({ name: 'missing' }))).toBe(Code.NotFound);
  });

  it('health answers SERVING for both services', async () => {
    const health = createClient(HealthService, transport());
    for (const service of [
      '',
      'flyteidl2.connector.AsyncConnectorService',
      'flyteidl2.connector.ConnectorMetadataService',
    ]) {
      expect((await health.check({ service })).status).toBe(ServingStatus.SERVING);
    }
    expect(await codeOf(health.check({ service: 'other.Service' }))).toBe(Code.NotFound);
  });

  it('exposes the Python metric names on the metrics port', async () => {
    const client = createClient(AsyncConnectorService, transport());
    await client
      .getTask({ resourceMeta: meta('throttled'), taskCategory: category })
      .catch(() => {});
    // The log stream is counted like the unary calls: one that ends, one that fails.
    const { resourceMeta } = await client.createTask({
      template,
      inputs: toInputs({ polls: 1, note: '', tags: [] }, echo.interface),
    });
    for await (const _ of client.getTaskLogs({ resourceMeta, taskCategory: category })) {
      // drained
    }
    const unknownJob = async () => {
      for await (const _ of client.getTaskLogs({
        resourceMeta: meta('nope'),
        taskCategory: category,
      })) {
        // nothing arrives
      }
    };
    expect(await codeOf(unknownJob())).toBe(Code.Unknown);
    const response = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(
      /flyte_connector_requests_success_total\{task_type="fake_job",operation="create"\} \d+/,
    );
    expect(text).toContain(
      'flyte_connector_requests_failure_total{task_type="fake_job",operation="get",error_code="unavailable"}',
    );
    expect(text).toMatch(
      /flyte_connector_request_latency_seconds_count\{task_type="fake_job",operation="get"\} \d+/,
    );
    expect(text).toMatch(/flyte_connector_input_literal_bytes_sum\{task_type="fake_job"\} \d+/);
    expect(text).toMatch(
      /flyte_connector_requests_success_total\{task_type="fake_job",operation="get_logs"\} [1-9]/,
    );
    expect(text).toContain(
      'flyte_connector_requests_failure_total{task_type="fake_job",operation="get_logs",error_code="unknown"} 1',
    );
    expect(text).toMatch(
      /flyte_connector_request_latency_seconds_count\{task_type="fake_job",operation="get_logs"\} [2-9]/,
    );
    expect(text).not.toContain(SECRET);
    expect((await fetch(`http://127.0.0.1:${service.metricsPort}/other`)).status).toBe(404);
  });
});

describe('shutdown', () => {
  it('finishes in-flight calls, refuses new ones, and closes', async () => {
    const slow = new TrickyConnector();
    const own = await createConnectorService(new ConnectorRegistry().register(slow), {
      port: 0,
      host: '127.0.0.1',
      shutdownGrace: 5000,
    });
    const client = createClient(
      AsyncConnectorService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${own.port}` }),
    );
    const health = createClient(
      HealthService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${own.port}` }),
    );
    const statuses: ServingStatus[] = [];
    const watching = (async () => {
      for await (const update of health.watch({})) statuses.push(update.status);
    })();
    await expect.poll(() => statuses).toEqual([ServingStatus.SERVING]);
    const inFlight = client.getTask({ resourceMeta: meta('slow'), taskCategory: category });
    await new Promise((r) => setTimeout(r, 50));
    const closed = own.close();
    await expect(inFlight).resolves.toMatchObject({ resource: { phase: Phase.RUNNING } });
    await closed;
    await watching;
    expect(statuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    const after = createClient(
      AsyncConnectorService,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${own.port}` }),
    );
    expect(await codeOf(after.getTask({ resourceMeta: meta('x'), taskCategory: category }))).toBe(
      Code.Unavailable,
    );
  });
});

// Keep the literal helpers honest: a value decoded by the service matches what idl encodes.
it('literal bytes survive the wire', () => {
  const literal = toInputs({ polls: 1, note: 'n', tags: [] }, echo.interface).literals[0]?.value;
  expect(literal && fromBinary(LiteralSchema, toBinary(LiteralSchema, literal))).toEqual(literal);
  expect(create(LiteralSchema)).toBeDefined();
});
