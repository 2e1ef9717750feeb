// Benchmark: @flyte/sandbox-orchestration (QuickJS in WebAssembly) against @pydantic/monty 0.0.18
// (the in-process npm build of the Monty interpreter flyte-sdk's orchestration sandbox uses).
// Both run in this process, in this run; figures are reported as ratios against Monty.
//
//   cd packages/sandbox-orchestration && pnpm build && node ../../bench/orchestration/orchestration-vs-monty.mjs
//
// Not a test: nothing here runs in `npm test`. It makes no network traffic and stops by itself.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('../../packages/sandbox-orchestration/', import.meta.url));
const require = createRequire(packageDir);
// --dist=<path to another build's dist/index.js> compares builds on one machine.
const distArgument = process.argv.find((a) => a.startsWith('--dist='))?.slice('--dist='.length);
const distUrl = distArgument
  ? new URL(`file://${distArgument}`)
  : new URL('../../packages/sandbox-orchestration/dist/index.js', import.meta.url);
const { orchestrator, orchestrateLocal, validateOrchestratorSource } = await import(distUrl.href);
const { z } = require('zod');
const monty = await import(require.resolve('@pydantic/monty'));
const montyVersion = JSON.parse(
  readFileSync(join(dirname(require.resolve('@pydantic/monty')), 'package.json'), 'utf8'),
).version;

const quick = process.argv.includes('--quick');
const scale = quick ? 0.1 : 1;

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { p50: at(0.5), p90: at(0.9), mean, n: samples.length };
}

/** Per-iteration times in microseconds, after a warm-up. `fn` may return a promise. */
async function samples(fn, iterations, warmup) {
  for (let i = 0; i < warmup; i++) await fn(i);
  const times = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn(i);
    times[i] = (performance.now() - start) * 1000;
  }
  return times;
}

async function measure(fn, iterations, warmup) {
  return stats(await samples(fn, iterations, warmup));
}

/**
 * Measures several functions in alternating blocks, so that each sees the same machine load (this
 * VM's load moves by 2x within seconds); returns the stats of each over all its blocks.
 */
async function interleaved(fns, iterations, warmup, blocks = 5) {
  for (const fn of fns) for (let i = 0; i < warmup; i++) await fn(i);
  const all = fns.map(() => []);
  for (let block = 0; block < blocks; block++) {
    for (const [k, fn] of fns.entries()) {
      all[k].push(...(await samples(fn, Math.ceil(iterations / blocks), 0)));
    }
  }
  return all.map(stats);
}

const us = (n) => `${n.toFixed(1).padStart(8)} µs`;
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
function row(label, s) {
  console.log(
    `  ${label.padEnd(44)} p50 ${us(s.p50)}  p90 ${us(s.p90)}  mean ${us(s.mean)}  (n=${s.n})`,
  );
}

console.log('@flyte/sandbox-orchestration vs @pydantic/monty', montyVersion);
console.log(
  `machine: ${os.cpus()[0]?.model ?? 'unknown cpu'} x${os.cpus().length}, node ${process.version}, ${os.platform()} ${os.arch()}`,
);
console.log(quick ? 'mode: --quick (10% of the iterations)' : 'mode: full');
console.log(`build: ${fileURLToPath(distUrl)}`);

// 1. One run of a compiled `x * 2 + y`.
const inputs = { x: z.number(), y: z.number() };
const fresh = orchestrator({
  name: 'bench.fresh',
  inputs,
  output: z.number(),
  source: 'x * 2 + y',
});
const pooled = orchestrator({
  name: 'bench.pooled',
  inputs,
  output: z.number(),
  source: 'x * 2 + y',
  pool: { size: 1 },
});
const parsed = new monty.Monty('x * 2 + y', { inputs: ['x', 'y'] });
if (parsed.run({ inputs: { x: 3, y: 4 } }) !== 10 || (await pooled.run({ x: 3, y: 4 })) !== 10) {
  throw new Error('the engines disagree on x * 2 + y');
}
const runs = Math.round(20_000 * scale);
const freshRuns = Math.round(2_000 * scale);
// The first fresh runs of a process are slower: V8 compiles WebAssembly with its baseline compiler
// first and optimises QuickJS's parser and compiler only once they are hot. Shown, then left out
// of the steady-state figure, which is measured after a warm-up long enough for that tier-up.
const coldFresh = stats(
  await samples((i) => fresh.run({ x: i, y: 1 }), Math.round(200 * scale), 0),
);
const [montyRun, pooledRun] = await interleaved(
  [(i) => parsed.run({ inputs: { x: i, y: 1 } }), (i) => pooled.run({ x: i, y: 1 })],
  runs,
  runs / 10,
);
const freshRun = await measure((i) => fresh.run({ x: i, y: 1 }), freshRuns, freshRuns * 2);
console.log('\n1. one run of a compiled `x * 2 + y`');
row('Monty run() on a pre-parsed Monty (anchor)', montyRun);
row('orchestrator, pool: { size: 1 }', pooledRun);
row('orchestrator, fresh runtime + context', freshRun);
row('  the same, first 200 runs in the process', coldFresh);
console.log(
  `  pooled / Monty: p50 ${ratio(pooledRun.p50, montyRun.p50)}, mean ${ratio(pooledRun.mean, montyRun.mean)} (target <= 0.5x)`,
);
console.log(
  `  fresh / Monty:  p50 ${ratio(freshRun.p50, montyRun.p50)}; fresh p50 ${us(freshRun.p50).trim()} (target <= 250 µs)`,
);

// 2. Parse and run, one shot.
const oneShots = Math.round(2_000 * scale);
const montyOneShot = await measure(
  (i) => new monty.Monty('x * 2 + y', { inputs: ['x', 'y'] }).run({ inputs: { x: i, y: 1 } }),
  oneShots * 5,
  oneShots / 2,
);
const localOneShot = await measure(
  (i) => orchestrateLocal('x * 2 + y', { inputs: { x: i, y: 1 } }),
  oneShots,
  oneShots / 10,
);
console.log('\n2. parse and run, one shot');
row('new Monty(...).run() (anchor)', montyOneShot);
row('orchestrateLocal(source, { inputs })', localOneShot);
console.log(
  `  orchestrateLocal / Monty: p50 ${ratio(localOneShot.p50, montyOneShot.p50)}, mean ${ratio(localOneShot.mean, montyOneShot.mean)}`,
);

// 3. 1,000-way fan-out through map with concurrency 100 to a no-op async task.
const items = Array.from({ length: 1000 }, (_, i) => i);
const noop = async (x) => x;
const fanOut = orchestrator({
  name: 'bench.fan_out',
  inputs: { items: z.array(z.number()) },
  output: z.number(),
  tasks: { noop },
  source: 'const r = await map(noop, items, { concurrency: 100 })\nr.length',
});
const fanOutPooled = orchestrator({
  name: 'bench.fan_out_pooled',
  inputs: { items: z.array(z.number()) },
  output: z.number(),
  tasks: { noop },
  pool: { size: 1 },
  source: 'const r = await map(noop, items, { concurrency: 100 })\nr.length',
});
// The same fan-out in plain JavaScript, no sandbox: what the calls cost by themselves.
async function plainFanOut() {
  const results = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await noop(items[i]);
    }
  };
  await Promise.all(Array.from({ length: 100 }, lane));
  return results.length;
}
// Monty's JS runner resolves external calls one at a time (asyncio.gather is not supported by
// runMontyAsync in 0.0.18): its anchor is 1,000 sequential external calls.
const montyFanOutScript = new monty.Monty(
  'total = 0\nfor i in items:\n    total = total + noop(i)\ntotal',
  {
    inputs: ['items'],
    externalFunctions: ['noop'],
  },
);
const fanOuts = Math.round(200 * scale);
const plain = await measure(plainFanOut, fanOuts, fanOuts / 10);
const ours = await measure(() => fanOut.run({ items }), fanOuts, fanOuts / 10);
const oursPooled = await measure(() => fanOutPooled.run({ items }), fanOuts, fanOuts / 10);
const montyFanOut = await measure(
  () => monty.runMontyAsync(montyFanOutScript, { inputs: { items }, externalFunctions: { noop } }),
  fanOuts,
  fanOuts / 10,
);
console.log('\n3. 1,000 task calls to a no-op async task');
row('plain JavaScript, 100 lanes (no sandbox)', plain);
row('Monty runMontyAsync, sequential (anchor)', montyFanOut);
row('map(noop, items, { concurrency: 100 })', ours);
row('the same, pool: { size: 1 }', oursPooled);
const perCall = (s) => (s.p50 - plain.p50) / items.length;
console.log(
  `  host overhead per call (p50, minus plain JS): fresh ${perCall(ours).toFixed(2)} µs, pooled ${perCall(oursPooled).toFixed(2)} µs (target <= 20 µs)`,
);
console.log(
  `  per call vs Monty: ${ratio(ours.p50, montyFanOut.p50)} (Monty ${(montyFanOut.p50 / items.length).toFixed(2)} µs per call)`,
);
fanOutPooled.dispose();
pooled.dispose();

// 4. Validation of large sources against a plain acorn parse of the same source (the parse the
// validator does first, with the same options): the ratio must not grow with the size.
const { parse } = require('acorn');
console.log('\n4. validating a source of N async functions, against parsing it with acorn');
for (const functions of [250, 1000, 4000]) {
  const body = Array.from(
    { length: functions },
    (_, i) => `const f${i} = async (v) => {\n  const w = await add(v, ${i})\n  return w\n}`,
  );
  const source = `${body.join('\n')}\nawait f0(xs[0])`;
  const options = {
    ecmaVersion: 2024,
    sourceType: 'module',
    allowReturnOutsideFunction: true,
    allowAwaitOutsideFunction: true,
    locations: true,
  };
  const context = { name: 'bench.validate', inputs: ['xs'], tasks: ['add'] };
  const iterations = Math.max(3, Math.round((40_000 / functions) * scale));
  const [parsed, validated] = await interleaved(
    [() => parse(source, options), () => validateOrchestratorSource(source, context)],
    iterations,
    2,
  );
  row(`acorn parse, ${functions} functions (anchor)`, parsed);
  row(`validateOrchestratorSource, ${functions} functions`, validated);
  console.log(`  validate / parse: p50 ${ratio(validated.p50, parsed.p50)}`);
}
