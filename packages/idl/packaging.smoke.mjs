// Run by scripts/packaging.int.test.ts in an empty project where only the packed tarball (and
// what npm installs for it) is present: once with `lib` from `import`, once from `require`.
export default function smoke(lib, load) {
  const core = load('@flyte/idl/core');
  const { z } = load('zod');
  const { toBinary, fromBinary } = load('@bufbuild/protobuf');
  const schema = z.object({ n: z.bigint(), at: z.date() });
  const bytes = toBinary(core.LiteralSchema, lib.toLiteral({ n: 1n, at: new Date(0) }, schema));
  const back = lib.fromLiteral(fromBinary(core.LiteralSchema, bytes), schema);
  if (back.n !== 1n || back.at.getTime() !== 0) throw new Error('literal round trip failed');
  if (lib.phaseFromState('DONE') !== core.TaskExecution_Phase.SUCCEEDED) throw new Error('phase');
  if (!load('@flyte/idl/connector').AsyncConnectorService) throw new Error('no connector service');
}
