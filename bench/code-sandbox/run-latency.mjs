// Latency of one small code-mode run (`result = x * 2` in python on flyte-sandbox/base:bookworm):
// @flyte/sandbox-code without and with a warm pool, against the anchor, the Docker CLI's
// `docker run --rm --network none <image> python3 -c ...` (what flyte-sdk's local path amounts to).
//
// Run after `pnpm --filter @flyte/sandbox-code build`:  node bench/code-sandbox/run-latency.mjs [runs] [image]
// Needs a Docker engine, the docker CLI and the image flyte-sandbox/base:bookworm. Sends no
// traffic anywhere: every container has network mode none.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const require = createRequire(new URL('../../packages/sandbox-code/package.json', import.meta.url));
const { z } = require('zod');
const { createSandbox } = await import('../../packages/sandbox-code/dist/index.js');

const IMAGE = process.argv[3] ?? 'flyte-sandbox/base:bookworm';
const RUNS = Number(process.argv[2] ?? 20);
const WARMUP = 2;

function percentile(sorted, p) {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

// The three subjects take turns, run by run, so a change in machine load hits them alike.
async function measureInterleaved(subjects) {
  for (let i = 0; i < WARMUP; i++) for (const subject of subjects) await subject.once(i);
  const times = subjects.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [index, subject] of subjects.entries()) {
      await subject.before?.();
      const start = performance.now();
      await subject.once(i);
      times[index].push(performance.now() - start);
    }
  }
  return subjects.map((subject, index) => {
    const sorted = times[index].sort((a, b) => a - b);
    return { label: subject.label, p50: percentile(sorted, 50), p90: percentile(sorted, 90) };
  });
}

const spec = {
  baseImage: IMAGE,
  code: 'result = x * 2',
  inputs: z.object({ x: z.number().int() }),
  outputs: z.object({ result: z.number().int() }),
};

const check = (got, i, who) => {
  if (got !== i * 2) throw new Error(`${who} gave ${got} for x = ${i}`);
};
const cold = createSandbox({ name: 'bench.cold', ...spec });
const pooled = createSandbox({ name: 'bench.pool', ...spec, pool: { size: 2 } });
let rows;
try {
  await pooled.warmUp();
  rows = await measureInterleaved([
    {
      label: 'docker run --rm --network none (CLI)',
      once: async (i) => {
        const { stdout } = await exec(
          'docker',
          [
            'run',
            '--rm',
            '--network',
            'none',
            IMAGE,
            'python3',
            '-c',
            `x = ${i}\nresult = x * 2\nprint(result)`,
          ],
          { timeout: 60_000 },
        );
        check(Number(stdout), i, 'the CLI');
      },
    },
    {
      label: 'sandbox, no pool',
      once: async (i) => check((await cold.run({ x: i })).result, i, 'sandbox'),
    },
    {
      label: 'sandbox, warm pool (size 2)',
      // Not timed: wait until the pool has refilled, so each timed run meets a warm container
      // (the latency a caller sees; back-to-back throughput is bounded by container starts).
      before: () => pooled.warmUp(),
      once: async (i) => check((await pooled.run({ x: i })).result, i, 'pooled sandbox'),
    },
  ]);
} finally {
  await pooled.close();
  await cold.close();
}
const [cli, noPool, pool] = rows;

const cpu = cpus();
console.log(`machine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
console.log(
  `image: ${IMAGE}; ${RUNS} measured runs each after ${WARMUP} warm-up runs, one at a time, the subjects taking turns`,
);
console.log('pool: refilled between timed runs (untimed), so each run meets a warm container\n');
console.log('| subject | p50 ms | p90 ms | p50 vs CLI | p90 vs CLI | target |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [row, target] of [
  [cli, ''],
  [noPool, '<= 1.0x'],
  [pool, '<= 0.35x'],
]) {
  const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
  console.log(
    `| ${row.label} | ${row.p50.toFixed(0)} | ${row.p90.toFixed(0)} | ${ratio(row.p50, cli.p50)} | ${ratio(row.p90, cli.p90)} | ${target} |`,
  );
}
