// Run by scripts/packaging.int.test.ts in an empty project where only the packed tarball (and
// what npm installs for it) is present: once with `lib` from `import`, once from `require`.
export default async function smoke(lib, load) {
  const { z } = load('zod');
  const flow = lib.orchestrator({
    name: 'smoke.sum',
    inputs: { xs: z.array(z.number()) },
    output: z.number(),
    tasks: { double: async (x) => x * 2 },
    source: 'const d = await map(double, xs, { concurrency: 2 })\nd.reduce((a, b) => a + b, 0)',
  });
  if ((await flow.run({ xs: [1, 2, 3] })) !== 12) throw new Error('orchestrator run failed');
  // The worker script must be found next to the entry that was loaded (ESM or CJS).
  const viaWorker = await lib.orchestrateLocal('x * 2', { inputs: { x: 21 }, isolation: 'worker' });
  if (viaWorker !== 42) throw new Error('worker isolation failed');
  if (
    flow.toTaskTemplate({ project: 'p', domain: 'd', version: 'v' }).type !== 'sandboxed-javascript'
  ) {
    throw new Error('task template');
  }
  try {
    lib.orchestrator({ name: 'bad', inputs: {}, output: z.number(), source: 'eval("1")' });
    throw new Error('validation did not reject eval');
  } catch (error) {
    if (!lib.OrchestratorValidationError.isInstance(error)) throw error;
  }
}
