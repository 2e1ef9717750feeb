import { defineFlytePackage } from '../../tsup.base';

export default defineFlytePackage(
  {
    index: 'src/index.ts',
    core: 'src/core.ts',
    connector: 'src/connector.ts',
    task: 'src/task.ts',
  },
  {
    // @flyteorg/flyteidl2 ships TypeScript sources only: compile them into dist, and bundle
    // the declarations made from them by `tsc -p tsconfig.flyteidl2.json`.
    noExternal: [/^@flyteorg\/flyteidl2/],
    declarationPaths: { '@flyteorg/flyteidl2/*': ['./.flyteidl2-types/*'] },
  },
);
