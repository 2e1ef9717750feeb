import { defineFlytePackage } from '../../tsup.base';

export default defineFlytePackage({ index: 'src/index.ts' });
