/**
 * What `backend.ts` chooses from, without loading TensorFlow.js: the backend names, the `TF_BACKEND`
 * override and whether a native package is installed. The app's server thread asks these to decide
 * where inference runs, and must not pay for loading tfjs to do so (the models run in a worker).
 */
import { createRequire } from 'node:module';
import path from 'node:path';

export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  /** The tfjs backend in use. */
  name: BackendName;
  /** For `tensorflow`: the npm package that provided it. */
  nativePackage?: string;
  /** wasm only: whether the SIMD build runs and how many threads it uses. */
  simd?: boolean;
  threads?: number;
  /** Why a preferred backend was passed over, in order tried. */
  fallbacks: string[];
}

export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

type Env = Record<string, string | undefined>;

/**
 * The backend asked for: `explicit`, else `TF_BACKEND`, else undefined (automatic).
 * @throws Error for a `TF_BACKEND` that names no backend.
 */
export function requestedBackend(explicit?: BackendName, env: Env = process.env): BackendName | undefined {
  if (explicit) return explicit;
  const fromEnv = env.TF_BACKEND?.trim().toLowerCase();
  if (!fromEnv) return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(fromEnv)) return fromEnv as BackendName;
  throw new Error(`TF_BACKEND must be one of ${BACKEND_NAMES.join(', ')}; got "${env.TF_BACKEND}"`);
}

/**
 * Whether `initBackend` would try the native backend first: TF_BACKEND=tensorflow, or no
 * TF_BACKEND and a native package installed (resolved only, not loaded).
 */
export function nativeBackendWanted(explicit?: BackendName, env: Env = process.env): boolean {
  const requested = requestedBackend(explicit, env);
  if (requested) return requested === 'tensorflow';
  const requireFromRoot = createRequire(path.join(process.cwd(), 'package.json'));
  return NATIVE_PACKAGES.some((pkg) => {
    try {
      requireFromRoot.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  });
}
