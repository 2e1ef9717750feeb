import { defineFlytePackage } from '../../tsup.base';

export default defineFlytePackage({
  index: 'src/index.ts',
  testing: 'src/testing.ts',
  cli: 'src/cli.ts',
  bin: 'src/bin.ts',
});
