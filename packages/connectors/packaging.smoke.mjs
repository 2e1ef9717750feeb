// Run by scripts/packaging.int.test.ts in an empty project where only the packed tarball (and
// what npm installs for it) is present: once with `lib` from `import`, once from `require`.
export default async function smoke(lib, load) {
  const { z } = load('zod');
  const { Phase } = load('@flyte/idl');
  class EchoConnector extends lib.AsyncConnector {
    name = 'Echo connector';
    taskTypeName = 'echo_job';
    metadataSchema = z.object({ id: z.string() });
    async create({ inputs }) {
      return { id: inputs.text };
    }
    async get({ resourceMeta }) {
      return { phase: Phase.SUCCEEDED, outputs: { text: resourceMeta.id } };
    }
    async delete() {}
  }
  const task = new lib.ConnectorTask({
    name: 'smoke.echo',
    taskType: 'echo_job',
    inputs: z.object({ text: z.string() }),
    outputs: z.object({ text: z.string() }),
    runDefaults: { connector: new EchoConnector(), minPollInterval: 1 },
  });
  const out = await lib.runConnectorTask(task, { text: 'hi' });
  if (out.text !== 'hi') throw new Error('connector round trip failed');
  if (typeof load('@flyte/connectors/cli').runCli !== 'function') throw new Error('no cli');
}
