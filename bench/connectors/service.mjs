// GetTask throughput and latency of the @flyte/connectors service against a bare connect-node
// unary server answering a GetTaskResponse of the same size, both measured in this run, over
// loopback with 64 concurrent callers on one HTTP/2 connection each.
// Run after `pnpm build`: node bench/connectors/service.mjs [--seconds 5] [--rounds 3] [--concurrency 64]
import { createServer } from 'node:http2';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const load = createRequire(join(here, '..', '..', 'packages', 'connectors', 'package.json'));
const { createConnectorService, ConnectorRegistry, AsyncConnector } = load('@flyte/connectors');
const { Phase } = load('@flyte/idl');
const { AsyncConnectorService, GetTaskResponseSchema } = load('@flyte/idl/connector');
const { create, toBinary } = load('@bufbuild/protobuf');
const { createClient } = load('@connectrpc/connect');
const { connectNodeAdapter, createGrpcTransport, Http2SessionManager } = load(
  '@connectrpc/connect-node',
);
const { z } = load('zod');

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);

const logLinks = [{ name: 'console', uri: 'https://jobs.invalid/job-1' }];
class InstantConnector extends AsyncConnector {
  name = 'Instant connector';
  taskTypeName = 'instant';
  metadataSchema = z.object({ jobId: z.string() });
  async create() {
    return { jobId: 'job-1' };
  }
  async get() {
    return { phase: Phase.RUNNING, message: 'running', logLinks };
  }
  async delete() {}
}

// The same response the service produces, answered by a bare connect-node handler.
const response = create(GetTaskResponseSchema, {
  resource: { phase: Phase.RUNNING, message: 'running', logLinks },
});
async function startBare() {
  const handler = connectNodeAdapter({
    grpc: true,
    connect: false,
    grpcWeb: false,
    routes: (router) =>
      router.service(AsyncConnectorService, {
        getTask: () => response,
      }),
  });
  const server = createServer({}, handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function startOurs() {
  const registry = new ConnectorRegistry().register(new InstantConnector());
  const service = await createConnectorService(registry, {
    port: 0,
    host: '127.0.0.1',
    metricsPort: 0,
  });
  return { port: service.port, close: () => service.close() };
}

const request = {
  resourceMeta: new TextEncoder().encode('{"jobId":"job-1"}'),
  taskCategory: { name: 'instant', version: 0 },
};

async function measure(start) {
  const server = await start();
  const baseUrl = `http://127.0.0.1:${server.port}`;
  const sessionManager = new Http2SessionManager(baseUrl);
  const client = createClient(
    AsyncConnectorService,
    createGrpcTransport({ baseUrl, sessionManager }),
  );
  try {
    // Warm-up: connections, JIT.
    const warmEnd = performance.now() + 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < warmEnd) await client.getTask(request);
      }),
    );
    const latencies = [];
    const end = performance.now() + SECONDS * 1000;
    const cpu = process.cpuUsage();
    const began = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const t = performance.now();
          const r = await client.getTask(request);
          latencies.push(performance.now() - t);
          if (r.resource?.phase !== Phase.RUNNING) throw new Error('unexpected response');
        }
      }),
    );
    const elapsed = (performance.now() - began) / 1000;
    const used = process.cpuUsage(cpu);
    latencies.sort((a, b) => a - b);
    const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return {
      rps: latencies.length / elapsed,
      p50: at(0.5),
      p99: at(0.99),
      calls: latencies.length,
      cpuUs: (used.user + used.system) / latencies.length,
    };
  } finally {
    sessionManager.abort();
    await server.close();
  }
}

console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, Node ${process.version}`);
console.log(
  `GetTask, ${CONCURRENCY} concurrent callers, ${SECONDS} s per measurement, ${ROUNDS} rounds alternating`,
);
console.log(
  `response size: ${toBinary(GetTaskResponseSchema, response).byteLength} bytes (both servers)`,
);
const results = { bare: [], ours: [] };
for (let round = 0; round < ROUNDS; round++) {
  results.bare.push(await measure(startBare));
  results.ours.push(await measure(startOurs));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (rs) => ({
  rps: median(rs.map((r) => r.rps)),
  p50: median(rs.map((r) => r.p50)),
  p99: median(rs.map((r) => r.p99)),
  calls: rs.reduce((s, r) => s + r.calls, 0),
  cpuUs: median(rs.map((r) => r.cpuUs)),
});
const bare = summary(results.bare);
const ours = summary(results.ours);
const row = (name, r) =>
  `${name.padEnd(34)} ${r.rps.toFixed(0).padStart(8)} calls/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms   CPU ${r.cpuUs.toFixed(0).padStart(4)} us/call (client + server)   (${r.calls} calls)`;
console.log(row('bare connect-node server (anchor)', bare));
console.log(row('@flyte/connectors service', ours));
console.log(
  `throughput ratio: ${(ours.rps / bare.rps).toFixed(2)} of the bare server (target >= 0.70); p50 x${(ours.p50 / bare.p50).toFixed(2)}, p99 x${(ours.p99 / bare.p99).toFixed(2)}`,
);
// On a shared machine throughput swings with other load; CPU per call swings much less.
console.log(
  `CPU per call: x${(ours.cpuUs / bare.cpuUs).toFixed(2)} of the bare server, so its throughput ceiling is ${(bare.cpuUs / ours.cpuUs).toFixed(2)} of the bare server's (load average now ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`,
);
