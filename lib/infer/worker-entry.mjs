// The inference worker's entry: worker threads do not inherit the `--import tsx` of the npm
// scripts (and `next start` has none), so the TypeScript loader is registered here, for both
// module systems, before the worker's body is loaded from source.
import { register as registerEsm } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

registerCjs();
registerEsm();
await import('./worker-main.ts');
