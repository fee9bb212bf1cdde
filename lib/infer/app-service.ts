/**
 * The app's process-wide inference service: the models run in a worker thread (`./worker-service.ts`)
 * unless {@link inferenceInWorker} says otherwise. This module loads neither TensorFlow.js nor sharp,
 * so the server's own thread does not when the models run elsewhere.
 */
import { nativeBackendWanted, requestedBackend } from '@/lib/tf/backend-choice';
import type { LoadedInferenceService } from './service';
import { createWorkerInferenceService, WorkerStartError } from './worker-service';

/**
 * Whether the app's service runs in a worker thread: `INFERENCE_WORKER=0|1` decides; by default
 * yes, except on the native backend, whose add-on is not known to load in a worker thread (and
 * whose ops are fast enough not to hold the server up for long).
 */
export function inferenceInWorker(env: Record<string, string | undefined> = process.env): boolean {
  const setting = env.INFERENCE_WORKER?.trim().toLowerCase();
  if (setting === '0' || setting === 'false') return false;
  if (setting === '1' || setting === 'true') return true;
  if (setting) throw new Error(`INFERENCE_WORKER must be 0 or 1; got "${env.INFERENCE_WORKER}"`);
  return !nativeBackendWanted(undefined, env);
}

/**
 * Checks the settings that decide where and on what the app's models run (`INFERENCE_WORKER`,
 * `TF_BACKEND`), for the server to refuse to start on a misspelt one rather than answer 503s.
 * @throws Error naming the variable.
 */
export function checkInferenceSettings(env: Record<string, string | undefined> = process.env): void {
  inferenceInWorker(env);
  requestedBackend(undefined, env);
}

/** The app's service: in a worker thread when {@link inferenceInWorker}, in this thread when the worker cannot start. */
async function createAppInferenceService(): Promise<LoadedInferenceService> {
  // Loaded only when the models run in this thread: it brings TensorFlow.js and sharp with it.
  // (tsx cannot follow this import from an ESM `.mts` script that imports this module statically;
  // the app's bundle, the CLIs' CommonJS and vitest can.)
  const inThisThread = async () => (await import('./service')).createInferenceService();
  if (!inferenceInWorker()) return inThisThread();
  try {
    return await createWorkerInferenceService();
  } catch (error) {
    if (!(error instanceof WorkerStartError)) throw error;
    console.warn(
      `[infer] ${error.message}. Running the models on the server's thread instead: pages and polls wait while a model runs ` +
        '(the worker is lib/infer/worker-entry.mjs in the project, run with its tsx dependency installed).',
    );
    return inThisThread();
  }
}

// Next's dev server re-evaluates modules and bundles each route apart: one service per process
// lives on globalThis. A failed load is forgotten so that the next request retries.
const SERVICE_KEY = Symbol.for('pix2pix-tfjs.infer.service');

/**
 * The process-wide service over `MODELS_DIR` (default `<cwd>/models`), created on first call:
 * backend initialised, every model loaded and warmed, in a worker thread (see
 * {@link inferenceInWorker}). Later calls return the same instance.
 */
export function getInferenceService(): Promise<LoadedInferenceService> {
  const holder = globalThis as unknown as Record<symbol, Promise<LoadedInferenceService> | undefined>;
  const existing = holder[SERVICE_KEY];
  if (existing) return existing;
  const created = createAppInferenceService().catch((error: unknown) => {
    if (holder[SERVICE_KEY] === created) holder[SERVICE_KEY] = undefined;
    throw error;
  });
  holder[SERVICE_KEY] = created;
  return created;
}
