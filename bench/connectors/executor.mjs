// 10,000 concurrent runConnectorTask calls against FakeJobConnector (each job needs five polls),
// against the anchor measured in this same run: a bare loop calling the same connector's
// create/get with the same fixed waits, no executor (what flyte-sdk's mixin does, minus its
// fixed 3 s sleep, which would make the comparison meaningless). Reports total time, executor
// CPU overhead per poll and peak heap per in-flight task.
// Run after `pnpm build`: node --expose-gc bench/connectors/executor.mjs [--tasks 10000] [--interval 20]
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const load = createRequire(join(here, '..', '..', 'packages', 'connectors', 'package.json'));
const { ConnectorTask, FakeJobConnector, runConnectorTask } = load('@flyte/connectors');
const { isTerminalPhase } = load('@flyte/idl');
const { z } = load('zod');

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '10000' },
    interval: { type: 'string', default: '20' },
  },
});
const TASKS = Number(values.tasks);
const INTERVAL = Number(values.interval);
const POLLS = 5;

const task = new ConnectorTask({
  name: 'bench.fake',
  taskType: 'fake_job',
  inputs: z.object({ polls: z.number().int() }),
  outputs: z.object({ polls: z.number().int() }),
});
const template = task.toTaskTemplate({ project: 'local', domain: 'local', version: 'local' });

function heapSampler() {
  globalThis.gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 5);
  return () => {
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    return peak - base;
  };
}

async function measure(name, runOne) {
  globalThis.gc?.();
  const connector = new FakeJobConnector({ polls: POLLS });
  const stopHeap = heapSampler();
  const cpu = process.cpuUsage();
  const began = performance.now();
  const results = await Promise.all(Array.from({ length: TASKS }, () => runOne(connector)));
  const elapsed = performance.now() - began;
  const used = process.cpuUsage(cpu);
  const heap = stopHeap();
  if (results.some((r) => r.polls !== POLLS))
    throw new Error(`${name}: a job did not take ${POLLS} polls`);
  if (connector.calls.get !== TASKS * POLLS)
    throw new Error(`${name}: ${connector.calls.get} polls, expected ${TASKS * POLLS}`);
  return { elapsed, cpuMs: (used.user + used.system) / 1000, heap };
}

// The anchor: create, then get with a fixed wait until terminal. Nothing else.
const bare = (connector) =>
  (async () => {
    const signal = new AbortController().signal;
    const meta = await connector.create({
      taskTemplate: template,
      inputs: { polls: POLLS },
      outputPrefix: '',
      secrets: {},
      signal,
    });
    for (;;) {
      const resource = await connector.get({ resourceMeta: meta, secrets: {}, signal });
      if (isTerminalPhase(resource.phase)) return resource.outputs;
      await new Promise((resolve) => setTimeout(resolve, INTERVAL));
    }
  })();

// Fixed interval too (min = max), so both wait the same; the executor adds validation, events,
// abort wiring and backoff bookkeeping.
const ours = (connector) =>
  runConnectorTask(
    task,
    { polls: POLLS },
    { connector, minPollInterval: INTERVAL, maxPollInterval: INTERVAL, timeout: 600_000 },
  );

console.log(
  `machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, Node ${process.version}${globalThis.gc ? '' : ' (run with --expose-gc for steadier heap figures)'}`,
);
console.log(
  `${TASKS} concurrent runs, ${POLLS} polls each, ${INTERVAL} ms between polls; rounds alternate anchor / ours, median of 3`,
);
const rounds = { bare: [], ours: [] };
await measure('warm-up', ours);
for (let i = 0; i < 3; i++) {
  rounds.bare.push(await measure('bare', bare));
  rounds.ours.push(await measure('ours', ours));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[1];
const pick = (rs) => ({
  elapsed: median(rs.map((r) => r.elapsed)),
  cpuMs: median(rs.map((r) => r.cpuMs)),
  heap: median(rs.map((r) => r.heap)),
});
const b = pick(rounds.bare);
const o = pick(rounds.ours);
const polls = TASKS * POLLS;
const fmt = (name, r) =>
  `${name.padEnd(36)} total ${r.elapsed.toFixed(0).padStart(6)} ms   CPU ${r.cpuMs.toFixed(0).padStart(6)} ms (${((r.cpuMs * 1000) / polls).toFixed(1)} us/poll)   peak heap ${(r.heap / TASKS / 1024).toFixed(2)} KiB/task`;
console.log(fmt('bare create/get loop (anchor)', b));
console.log(fmt('runConnectorTask', o));
console.log(
  `ratios: total x${(o.elapsed / b.elapsed).toFixed(2)}, CPU x${(o.cpuMs / b.cpuMs).toFixed(2)}, heap x${(o.heap / b.heap).toFixed(2)}; executor overhead ${(((o.cpuMs - b.cpuMs) * 1000) / polls).toFixed(1)} us CPU per poll`,
);
console.log(
  `for scale: flyte-sdk's mixin sleeps a fixed 3 s between polls: ${POLLS} polls take >= ${(POLLS - 1) * 3} s per task`,
);
