/**
 * Finding, validating, loading and warming the exported models. A model is a folder with
 * `model.json` + weights (tfjs layers format, see `lib/model/io.ts`) and `metadata.json`
 * (`lib/model/metadata.ts`); the models folder holds one such folder per model.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { parseMetadata, type ModelMetadata } from '@/lib/model/metadata';
import { loadLayersFrom } from '@/lib/models/layers';
import type { ModelSummary } from './types';

/** A loaded, warmed model ready for inference. */
export interface LoadedModel {
  /** Folder name, e.g. `sr-x4`. */
  name: string;
  dir: string;
  metadata: ModelMetadata;
  model: tfl.LayersModel;
  summary: ModelSummary;
  /** Run with `training: true` (batch statistics / dropout as pix2pix does at test time). */
  trainingMode: boolean;
  /** Spatial input size when the model was saved with a fixed one; undefined for any size. */
  fixedInputSide?: number;
}

/** `MODELS_DIR` when set, else `<cwd>/models`. */
export function defaultModelsDir(): string {
  const fromEnv = process.env.MODELS_DIR?.trim();
  // turbopackIgnore: models are data read at run time, not something to trace into the build.
  return path.resolve(/*turbopackIgnore: true*/ fromEnv || path.join(/*turbopackIgnore: true*/ process.cwd(), 'models'));
}

/** The list entry the app and CLIs show for a model. */
export function summarize(name: string, metadata: ModelMetadata): ModelSummary {
  return {
    name,
    task: metadata.task,
    scale: metadata.scale,
    inputChannels: metadata.inputChannels,
    outputChannels: metadata.outputChannels,
    ...(metadata.variant ? { variant: metadata.variant } : {}),
    ...(metadata.description ? { description: metadata.description } : {}),
    metrics: metadata.metrics,
  };
}

/** Reads and validates `<dir>/metadata.json`. */
export async function readMetadata(dir: string): Promise<ModelMetadata> {
  const file = path.join(dir, 'metadata.json');
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read ${file}: ${(error as Error).message}`);
  }
  const metadata = parseMetadata(json, file);
  checkSupported(metadata, file);
  return metadata;
}

/** What this inference core can feed: rejects metadata it would otherwise misinterpret later. */
function checkSupported(m: ModelMetadata, source: string): void {
  const problems: string[] = [];
  if (m.task === 'sr') {
    if (m.inputChannels !== 3 || m.outputChannels !== 3) problems.push('sr models must map 3 channels to 3');
    if (!m.inputEncoding.startsWith('rgb-') || !m.outputEncoding.startsWith('rgb-')) {
      problems.push('sr models must use rgb-unit or rgb-tanh encodings');
    }
    if (m.scale < 2) problems.push('sr models must have scale >= 2');
  } else if (m.task === 'colorize') {
    if (m.inputChannels !== 1 || m.outputChannels !== 2) problems.push('colorize models must map 1 channel (L) to 2 (ab)');
    if (m.inputEncoding !== 'lab-l' || m.outputEncoding !== 'lab-ab') {
      problems.push('colorize models must use lab-l in and lab-ab out');
    }
    if (m.scale !== 1) problems.push('colorize models must have scale 1');
  } else if (m.task === 'paired') {
    if (m.inputChannels !== 3 || m.outputChannels !== 3) problems.push('paired models must map 3 channels to 3');
    if (!m.inputEncoding.startsWith('rgb-') || !m.outputEncoding.startsWith('rgb-')) {
      problems.push('paired models must use rgb-unit or rgb-tanh encodings');
    }
    if (m.scale !== 1) problems.push('paired models must have scale 1');
  }
  if (m.tile.size % m.tile.multipleOf !== 0) problems.push('tile.size must be a multiple of tile.multipleOf');
  if (problems.length) throw new Error(`Unsupported model metadata in ${source}: ${problems.join('; ')}`);
}

function fixedSide(model: tfl.LayersModel, dir: string): number | undefined {
  const shape = model.inputs[0]?.shape;
  if (!shape || shape.length !== 4) throw new Error(`Model in ${dir} must take one [N, H, W, C] input`);
  const [, h, w] = shape;
  if (h == null && w == null) return undefined;
  if (h == null || w == null || h !== w) {
    throw new Error(`Model in ${dir} has input ${JSON.stringify(shape)}: use [null, null, C] or a square fixed size`);
  }
  return h;
}

/**
 * Runs `model` on one `[1, H, W, C]` input and returns its output. Wraps the pix2pix detail that
 * BatchNorm/dropout may stay in training mode at test time (`model.apply(x, {training: true})`);
 * otherwise `predict`. The caller owns (and disposes) the result.
 */
export function runModel(loaded: LoadedModel, input: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const out = loaded.trainingMode
      ? (loaded.model.apply(input, { training: true }) as tf.Tensor)
      : (loaded.model.predict(input) as tf.Tensor);
    if (out.rank !== 4) throw new Error(`Model ${loaded.name} returned rank ${out.rank}, expected [1, H, W, C]`);
    return out as tf.Tensor4D;
  });
}

/**
 * Loads one model folder and warms it with one small run (the first call on a backend compiles
 * and allocates; doing it at load keeps that cost off the first user's request).
 * Call `initBackend()` first.
 */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const resolved = path.resolve(dir);
  const metadata = await readMetadata(resolved);
  const model = await loadLayersFrom(resolved);
  const name = path.basename(resolved);
  try {
    const loaded: LoadedModel = {
      name,
      dir: resolved,
      metadata,
      model,
      summary: summarize(name, metadata),
      trainingMode: metadata.trainingModeAtInference.batchNorm || metadata.trainingModeAtInference.dropout,
      fixedInputSide: fixedSide(model, resolved),
    };
    const declared = model.inputs[0]!.shape[3];
    if (declared != null && declared !== metadata.inputChannels) {
      throw new Error(`Model in ${resolved} takes ${declared} channels; metadata says ${metadata.inputChannels}`);
    }
    warmUp(loaded);
    return loaded;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

function warmUp(loaded: LoadedModel): void {
  const { metadata } = loaded;
  const side = loaded.fixedInputSide ?? Math.max(metadata.tile.multipleOf, Math.ceil(16 / metadata.tile.multipleOf) * metadata.tile.multipleOf);
  tf.tidy(() => {
    const out = runModel(loaded, tf.zeros([1, side, side, metadata.inputChannels]) as tf.Tensor4D);
    const [, h, w, c] = out.shape;
    if (h !== side * metadata.scale || w !== side * metadata.scale || c !== metadata.outputChannels) {
      throw new Error(
        `Model ${loaded.name}: a ${side}x${side} input gave [${out.shape.join(', ')}]; metadata promises ` +
          `${side * metadata.scale}x${side * metadata.scale}x${metadata.outputChannels}`,
      );
    }
    out.dataSync();
  });
}

/** Model folders (those with a `metadata.json`) directly inside `modelsDir`, sorted by name; none (and a warning) when it does not exist. */
export async function listModelDirs(modelsDir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(modelsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      // No models is a valid state for a fresh checkout, but a mistyped MODELS_DIR must not pass
      // unnoticed: say which folder was looked for.
      console.warn(`[infer] the models folder ${modelsDir} does not exist; no models loaded from it (set MODELS_DIR to the folder that holds them)`);
      return [];
    }
    throw error;
  }
  const dirs: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    // A symbolic link to a model folder counts (e.g. a model kept elsewhere, linked in).
    if (!(entry.isDirectory() || entry.isSymbolicLink()) || entry.name.startsWith('.')) continue;
    const dir = path.join(modelsDir, entry.name);
    try {
      await fs.access(path.join(dir, 'metadata.json'));
      dirs.push(dir);
    } catch {
      // A folder without metadata (e.g. a half-copied export) is not a model.
    }
  }
  return dirs;
}

export interface LoadedModels {
  models: LoadedModel[];
  /** One line per folder that could not be loaded (bad metadata, missing weights...). */
  problems: string[];
}

/**
 * Loads every model folder in `modelsDir` (or the given folders); a broken one is reported in
 * `problems` and skipped so that the others still serve. With `tasks`, folders whose metadata
 * names another task are skipped before their weights are read (a CLI that only upscales does not
 * load the colorizer).
 */
export async function loadModels(
  source: ({ modelsDir: string } | { dirs: string[] }) & { tasks?: readonly ModelMetadata['task'][] },
): Promise<LoadedModels> {
  const dirs = 'dirs' in source ? source.dirs : await listModelDirs(source.modelsDir);
  const models: LoadedModel[] = [];
  const problems: string[] = [];
  for (const dir of dirs) {
    try {
      if (source.tasks && !source.tasks.includes((await readMetadata(dir)).task)) continue;
      models.push(await loadModel(dir));
    } catch (error) {
      problems.push(`${dir}: ${(error as Error).message}`);
    }
  }
  return { models, problems };
}
