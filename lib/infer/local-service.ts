/**
 * The inference service of `./types.ts` run in the calling thread: models loaded and warmed once,
 * images in as encoded bytes, PNG out, limits enforced before any pixel work. This module loads
 * TensorFlow.js and sharp; `./service.ts` imports it only when a service runs in its thread.
 */
import path from 'node:path';
import { decodeImage, encodePng, inputTooLarge, MAX_RESULT_PIXELS, probeImage } from '@/lib/image/decode';
import { modelKindLabel, wrongModelKind } from '@/lib/model/metadata';
import { initBackend } from '@/lib/tf/backend';
import { colorizeImage } from './colorize';
import { defaultModelsDir, loadModels, type LoadedModel } from './models';
import { throwIfAborted } from './run';
import type { InferenceServiceOptions, LoadedInferenceService } from './service';
import {
  defaultCandidates,
  InputError,
  ModelUnavailableError,
  type InferenceResult,
  type InferOptions,
  type Limits,
  type ModelSummary,
} from './types';
import { upscaleImage } from './upscale';

function describeLimit(pixels: number): string {
  return `${pixels.toLocaleString('en-US')} pixels`;
}

/**
 * Builds a service over the given models that runs them in this thread. Shells call it through
 * `createInferenceService` in `./service.ts`; the inference worker calls it directly.
 */
export async function createLocalInferenceService(options: InferenceServiceOptions = {}): Promise<LoadedInferenceService> {
  const backendInfo = await initBackend(options.backend);
  const modelsDir = path.resolve(/*turbopackIgnore: true*/ options.modelsDir ?? defaultModelsDir());
  const { models, problems } = options.modelDirs
    ? await loadModels({ dirs: options.modelDirs.map((d) => path.resolve(/*turbopackIgnore: true*/ d)), tasks: options.tasks })
    : await loadModels({ modelsDir, tasks: options.tasks });
  const source = options.modelDirs ? options.modelDirs.join(', ') : modelsDir;
  if (!options.quiet) for (const problem of problems) console.warn(`[infer] skipped model ${problem}`);
  const byName = new Map(models.map((m) => [m.name, m]));
  const summaries = models.map((m): ModelSummary => m.summary);

  function pick(task: 'sr' | 'colorize', scale: number, requested?: string): LoadedModel {
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
    const summary = defaultCandidates(summaries, task, scale)[0];
    const found = summary && byName.get(summary.name);
    if (!found) throw new ModelUnavailableError(`No ${label} model is installed (looked in ${source}).`);
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

  const service: LoadedInferenceService = {
    backend: backendInfo.name,
    models: summaries,
    source,
    problems,
    inWorker: false,
    backendDetails: backendInfo,

    async colorize(input: Buffer, opts: InferOptions & Limits & { model?: string } = {}): Promise<InferenceResult> {
      const start = performance.now();
      const model = pick('colorize', 1, opts.model);
      throwIfAborted(opts.signal);
      // The result is the input's size: what cannot be written is refused before any work.
      const image = await decodeImage(input, { maxInputPixels: Math.min(opts.maxInputPixels ?? Infinity, MAX_RESULT_PIXELS) });
      const out = await colorizeImage(model, image, opts);
      const png = await encodePng({ data: out.data, width: out.width, height: out.height, channels: 3 }, out.alpha);
      return result(png, out, image, model, start);
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

    dispose() {
      for (const m of models) m.model.dispose();
    },

    defaultModel(task: 'sr' | 'colorize', scale?: number): ModelSummary | undefined {
      return defaultCandidates(summaries, task, scale)[0];
    },
  };
  return service;
}
