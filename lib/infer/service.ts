/**
 * The inference service of `./types.ts` run in the calling thread: models loaded and warmed once,
 * images in as encoded bytes, PNG out, limits enforced before any pixel work. The CLIs, eval and
 * the inference worker use it; the app gets its service from `./app-service.ts` (in a worker).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { decodeImage, encodePng, inputTooLarge, MAX_RESULT_PIXELS, probeImage, type DecodedImage } from '@/lib/image/decode';
import { modelKindLabel, wrongModelKind } from '@/lib/model/metadata';
import { initBackend } from '@/lib/tf/backend';
import type { BackendInfo, BackendName } from '@/lib/tf/backend-choice';
import { colorizeImage } from './colorize';
import { translateImage } from './translate';
import { defaultModelsDir, loadModels, type LoadedModel } from './models';
import { throwIfAborted } from './run';
import {
  assertColourStrength,
  defaultModelOf,
  InputError,
  ModelUnavailableError,
  type InferenceResult,
  type InferenceService,
  type InferOptions,
  type Limits,
  type ModelSummary,
  severalPairedModels,
} from './types';
import { upscaleImage } from './upscale';

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
   * first by name (what the app and the API default to); for paired models only a sole one
   * ({@link defaultModelOf}).
   */
  defaultModel(task: ModelSummary['task'], scale?: number): ModelSummary | undefined;
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

function describeLimit(pixels: number): string {
  return `${pixels.toLocaleString('en-US')} pixels`;
}

/**
 * Builds a service over the given models that runs them in this thread (not the singleton: the
 * CLIs' `--model`, eval, tests and the inference worker use this; the app uses `getInferenceService`
 * in `./app-service.ts`).
 */
export async function createInferenceService(options: InferenceServiceOptions = {}): Promise<LoadedInferenceService> {
  const backendInfo = await initBackend(options.backend);
  const modelsDir = path.resolve(/*turbopackIgnore: true*/ options.modelsDir ?? defaultModelsDir());
  const { models, problems } = options.modelDirs
    ? await loadModels({ dirs: options.modelDirs.map((d) => path.resolve(/*turbopackIgnore: true*/ d)), tasks: options.tasks })
    : await loadModels({ modelsDir, tasks: options.tasks });
  const source = options.modelDirs ? options.modelDirs.join(', ') : modelsDir;
  if (!options.quiet) for (const problem of problems) console.warn(`[infer] skipped model ${problem}`);
  const byName = new Map(models.map((m) => [m.name, m]));
  const summaries = models.map((m): ModelSummary => m.summary);

  function pick(task: ModelSummary['task'], scale: number, requested?: string): LoadedModel {
    const label = modelKindLabel(task, scale);
    if (requested !== undefined) {
      const m = byName.get(requested);
      if (!m) {
        throw new ModelUnavailableError(
          `No model named "${requested}" is loaded (available: ${[...byName.keys()].join(', ') || 'none'}).`,
        );
      }
      if (m.metadata.task !== task || (task === 'sr' && m.metadata.scale !== scale)) {
        throw new ModelUnavailableError(`${wrongModelKind(`Model "${requested}"`, m.metadata, { task, scale })}.`);
      }
      return m;
    }
    const summary = defaultModelOf(summaries, task, scale);
    const found = summary && byName.get(summary.name);
    if (!found) {
      const several = severalPairedModels(task === 'paired' ? summaries : [], source, 'name the one to use.');
      throw new ModelUnavailableError(several ?? `No ${label} model is installed (looked in ${source}).`);
    }
    return found;
  }

  function result(
    png: Buffer,
    out: { width: number; height: number },
    input: { width: number; height: number },
    model: LoadedModel,
    start: number,
  ): InferenceResult {
    return {
      png,
      width: out.width,
      height: out.height,
      inputWidth: input.width,
      inputHeight: input.height,
      model: model.name,
      backend: backendInfo.name,
      ms: performance.now() - start,
    };
  }

  /** A tool whose result is the input's size (colorize, translate): decode, run, PNG. */
  async function sameSize(
    task: 'colorize' | 'paired',
    input: Buffer,
    opts: InferOptions & Limits & { model?: string },
    run: (model: LoadedModel, image: DecodedImage, options: InferOptions) => Promise<{ data: Uint8Array; width: number; height: number; alpha?: Uint8Array }>,
  ): Promise<InferenceResult> {
    const start = performance.now();
    const model = pick(task, 1, opts.model);
    throwIfAborted(opts.signal);
    // The result is the input's size: what cannot be written is refused before any work.
    const image = await decodeImage(input, { maxInputPixels: Math.min(opts.maxInputPixels ?? Infinity, MAX_RESULT_PIXELS) });
    const out = await run(model, image, opts);
    const png = await encodePng({ data: out.data, width: out.width, height: out.height, channels: 3 }, out.alpha);
    return result(png, out, image, model, start);
  }

  const service: LoadedInferenceService = {
    backend: backendInfo.name,
    models: summaries,
    source,
    problems,
    inWorker: false,
    backendDetails: backendInfo,

    colorize(input: Buffer, opts: InferOptions & Limits & { model?: string; colourStrength?: number } = {}): Promise<InferenceResult> {
      // Checked before decoding, so that a bad strength costs no pixel work.
      if (opts.colourStrength !== undefined) assertColourStrength(opts.colourStrength);
      return sameSize('colorize', input, opts, (model, image) => colorizeImage(model, image, opts));
    },

    async upscale(input: Buffer, opts: InferOptions & Limits & { scale: 2 | 4; model?: string; ensemble?: boolean }): Promise<InferenceResult> {
      const start = performance.now();
      const scale = opts?.scale;
      if (scale !== 2 && scale !== 4) throw new TypeError(`scale must be 2 or 4; got ${String(scale)}`);
      const model = pick('sr', scale, opts.model);
      throwIfAborted(opts.signal);
      // Header first: a too-large result is refused before anything is decoded.
      const header = await probeImage(input);
      // An input over its own limit is told so, not that its (even larger) result would be.
      if (opts.maxInputPixels !== undefined && header.width * header.height > opts.maxInputPixels) {
        throw inputTooLarge(header.width, header.height, opts.maxInputPixels);
      }
      // Whatever the caller's limit, a result that could not be written is refused before its tiles run.
      const maxOutputPixels = Math.min(opts.maxOutputPixels ?? Infinity, MAX_RESULT_PIXELS);
      const outPixels = header.width * scale * header.height * scale;
      if (outPixels > maxOutputPixels) {
        throw new InputError(
          'too_large',
          `Upscaling ${header.width}x${header.height} by ${scale} would give ${header.width * scale}x${header.height * scale} = ` +
            `${describeLimit(outPixels)}; the limit is ${describeLimit(maxOutputPixels)}.`,
        );
      }
      // The output cap above already bounds the input: this only keeps the limit finite for sharp.
      const image = await decodeImage(input, { maxInputPixels: Math.min(opts.maxInputPixels ?? Infinity, MAX_RESULT_PIXELS) });
      const out = await upscaleImage(model, image, { ...opts, blend: options.blend });
      const png = await encodePng({ data: out.data, width: out.width, height: out.height, channels: 3 }, out.alpha);
      return result(png, out, image, model, start);
    },

    translate(input: Buffer, opts: InferOptions & Limits & { model?: string } = {}): Promise<InferenceResult> {
      return sameSize('paired', input, opts, translateImage);
    },

    dispose() {
      for (const m of models) m.model.dispose();
    },

    defaultModel(task: ModelSummary['task'], scale?: number): ModelSummary | undefined {
      return defaultModelOf(summaries, task, scale);
    },
  };
  return service;
}
