// The inference worker's entry: worker threads do not inherit the `--import tsx` of the npm
// scripts (and `next start` has none), so the TypeScript loader is registered here, for both
// module systems, before the worker's body is loaded from source. The project's tsconfig.json
// (its `@/` paths) is named explicitly: tsx would look for one in the working directory, which
// need not be the project (`next start <dir>`).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register as registerEsm } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

const tsconfig = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'tsconfig.json');
// The CommonJS loader reads it from the environment (a worker's environment is its own copy).
process.env.TSX_TSCONFIG_PATH = tsconfig;
registerCjs();
registerEsm({ tsconfig });
await import('./worker-main.ts');
