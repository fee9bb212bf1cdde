/**
 * The inference service of `./types.ts` as the shells get it: `createInferenceService` (models in
 * the caller's thread: the CLIs, eval, tests) and the app's process-wide `getInferenceService`
 * (models in a worker thread, see `./worker-service.ts`). This module itself loads neither
 * TensorFlow.js nor sharp, so that the app's server thread does not when the models run elsewhere.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { nativeBackendWanted, type BackendInfo, type BackendName } from '@/lib/tf/backend-choice';
import type { InferenceService, ModelSummary } from './types';
import { createWorkerInferenceService, WorkerStartError } from './worker-service';

export { ModelUnavailableError } from './types';

export interface InferenceServiceOptions {
  /** Folder whose subfolders are models; default `MODELS_DIR` or `<cwd>/models`. */
  modelsDir?: string;
  /** Exactly these model folders instead of scanning `modelsDir` (the CLIs' `--model`). */
  modelDirs?: string[];
  /** Backend to initialise; default: `initBackend()`'s own choice (TF_BACKEND, then native -> wasm -> cpu). */
  backend?: BackendName;
  /** Load only models for these tasks (default all). */
  tasks?: readonly ('colorize' | 'sr' | 'paired')[];
  /** Seam handling for upscaling (default `crop`). */
  blend?: 'crop' | 'feather';
  /**
   * Do not warn (`[infer] skipped model ...` on stderr) about folders that failed to load: the
   * caller reports {@link LoadedInferenceService.problems} itself (the CLIs' `--model`).
   */
  quiet?: boolean;
}

/** The service plus what a shell may want to log or free. */
export interface LoadedInferenceService extends InferenceService {
  /** Where the models came from (a folder, or the explicit folders joined by ", "). */
  readonly source: string;
  /** Model folders that failed to load, one line each. */
  readonly problems: readonly string[];
  /** True when the models run in a worker thread (`worker-service.ts`), not in the caller's. */
  readonly inWorker: boolean;
  /** The backend the models run on, as `initBackend` describes it (wherever that ran). */
  readonly backendDetails: BackendInfo;
  /** Frees the models' weights (tests; a long-lived server never calls it). */
  dispose(): void;
  /**
   * The model used when none is named: variant `faithful`, else one without a variant, else the
   * first by name (what the app and the API default to).
   */
  defaultModel(task: 'sr' | 'colorize', scale?: number): ModelSummary | undefined;
}

/**
 * What a {@link LoadedInferenceService.problems} line says about the model folder `dir` (as the
 * user gave it), without the folder's path in front, a missing folder or `metadata.json` said
 * plainly: for a one-line `--model <dir>: <what is wrong>`.
 *
 * @returns undefined when `problem` is about another folder.
 */
export function describeModelProblem(problem: string, dir: string): string | undefined {
  const resolved = path.resolve(/*turbopackIgnore: true*/ dir);
  if (!problem.startsWith(`${resolved}: `)) return undefined;
  const message = problem.slice(resolved.length + 2);
  if (message.startsWith(`Cannot read ${path.join(resolved, 'metadata.json')}: `)) {
    if (/\bENOENT\b/.test(message)) {
      return existsSync(/*turbopackIgnore: true*/ resolved) ? 'not an exported model folder (it has no metadata.json)' : 'no such folder';
    }
    if (/\bENOTDIR\b/.test(message)) return 'a file, not an exported model folder (model.json, weights.bin, metadata.json)';
  }
  return message;
}

/**
 * Builds a service over the given models that runs them in this thread (not the singleton: the
 * CLIs' `--model`, eval and tests use this; the app uses {@link getInferenceService}).
 */
export async function createInferenceService(options: InferenceServiceOptions = {}): Promise<LoadedInferenceService> {
  // Loaded on demand: it brings TensorFlow.js and sharp with it.
  const { createLocalInferenceService } = await import('./local-service');
  return createLocalInferenceService(options);
}

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
  return !nativeBackendWanted();
}

/** The app's service: in a worker thread when {@link inferenceInWorker}, in this thread when the worker cannot start. */
async function createAppInferenceService(): Promise<LoadedInferenceService> {
  if (!inferenceInWorker()) return createInferenceService();
  try {
    return await createWorkerInferenceService();
  } catch (error) {
    if (!(error instanceof WorkerStartError)) throw error;
    console.warn(
      `[infer] ${error.message}. Running the models on the server's thread instead: pages and polls wait while a model runs ` +
        '(the worker is lib/infer/worker-entry.mjs in the project, run with its tsx dependency installed).',
    );
    return createInferenceService();
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
