import { defineFlytePackage } from '../../tsup.base';

export default defineFlytePackage({
  index: 'src/index.ts',
  // Loaded by path in each worker thread (isolation: 'worker'), never imported.
  worker: 'src/worker-entry.ts',
});
