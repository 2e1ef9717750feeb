// Run by scripts/packaging.int.test.ts in an empty project where only the packed tarball (and
// what npm installs for it) is present: once with `lib` from `import`, once from `require`.
// Needs no Docker: it builds a sandbox's task template and parses a package manager message.
export default function smoke(lib, load) {
  const { z } = load('zod');
  const sandbox = lib.createSandbox({
    name: 'smoke.double',
    image: 'flyte-sandbox/base:bookworm',
    code: 'result = x * 2',
    inputs: z.object({ x: z.number().int() }),
    outputs: z.object({ result: z.number().int() }),
    secrets: { TOKEN: 'never-in-templates' },
  });
  const template = sandbox.toTaskTemplate({ project: 'p', domain: 'd', version: 'v1' });
  if (template.target.case !== 'container') throw new Error('not a container task');
  if (template.target.value.args.at(-1) !== 'result = x * 2') throw new Error('wrong program');
  if (JSON.stringify(template.target.value).includes('never-in-templates')) throw new Error('leak');
  if (lib.findMissingPackage('E: Unable to locate package nope')?.packageName !== 'nope') {
    throw new Error('apt message not understood');
  }
}
