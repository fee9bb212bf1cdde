/**
 * Weight averaging of exported models ("model soup", Wortsman et al. 2022; SWA, Izmailov et al.
 * 2018): runs fine-tuned from the same starting weights stay in one basin, and the mean of their
 * weights is often better than each of them, at no inference cost. Pure file and array work: no
 * backend is needed, and the result is an ordinary model folder.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { io } from '@tensorflow/tfjs-core';
import { fileSystemIO, writeModelFolder } from './io';
import { readMetadata } from '@/lib/infer/models';
import { metadataSchema, type ModelMetadata } from './metadata';

/** One model folder as read for averaging. */
export interface ModelFolder {
  dir: string;
  metadata: ModelMetadata;
  artifacts: io.ModelArtifacts;
}

/** Reads `dir/metadata.json` (validated as the inference loader does) and the tfjs artifacts (model.json + weight files). */
export async function readModelFolder(dir: string): Promise<ModelFolder> {
  const metadata = await readMetadata(dir);
  const artifacts = await fileSystemIO(dir).load();
  return { dir, metadata, artifacts };
}

/** What must agree for two models' weights to be averaged meaningfully. */
const COMPATIBLE_FIELDS = ['task', 'scale', 'inputChannels', 'outputChannels', 'inputEncoding', 'outputEncoding', 'architecture'] as const;

/** Why `b` cannot be averaged with `a` (the first difference), or undefined when it can. */
export function incompatibility(a: ModelFolder, b: ModelFolder): string | undefined {
  for (const field of COMPATIBLE_FIELDS) {
    if (!isDeepStrictEqual(a.metadata[field], b.metadata[field])) {
      return `${field} differs: ${JSON.stringify(a.metadata[field])} in ${a.dir}, ${JSON.stringify(b.metadata[field])} in ${b.dir}`;
    }
  }
  const specsA = a.artifacts.weightSpecs ?? [];
  const specsB = b.artifacts.weightSpecs ?? [];
  if (specsA.length !== specsB.length) return `${a.dir} has ${specsA.length} weight tensors, ${b.dir} ${specsB.length}`;
  for (let i = 0; i < specsA.length; i++) {
    const sa = specsA[i]!;
    const sb = specsB[i]!;
    if (sa.dtype !== sb.dtype || !isDeepStrictEqual(sa.shape, sb.shape)) {
      return `weight ${i} (${sa.name}) is ${sa.dtype} [${sa.shape.join(', ')}] in ${a.dir} but ${sb.dtype} [${sb.shape.join(', ')}] in ${b.dir}`;
    }
  }
  return undefined;
}

/** Each model's share of the mean: `coefficients` (default equal) scaled to sum 1, checked. */
function normalisedCoefficients(models: number, coefficients?: readonly number[]): number[] {
  const given = coefficients ?? Array.from({ length: models }, () => 1);
  if (given.length !== models) throw new Error(`${given.length} coefficients for ${models} models`);
  if (given.some((w) => !(w > 0) || !Number.isFinite(w))) throw new Error(`Coefficients must be positive numbers, got ${given.join(', ')}`);
  // Only the ratios matter: weights whose sum overflows (1e308, 1e308) are scaled down by the
  // largest first; others are used as given, so that their shares stay exactly as before.
  const largest = Math.max(...given);
  const weights = Number.isFinite(given.reduce((s, w) => s + w, 0)) ? given : given.map((w) => w / largest);
  const total = weights.reduce((s, w) => s + w, 0);
  return weights.map((w) => w / total);
}

/**
 * The first folder of `dirs` that names the same folder as an earlier one (after resolving links:
 * `models/a`, `./models/a/` and a link to it are one model), with that earlier one.
 * A folder that cannot be resolved is left to the reading, which says what is wrong with it.
 */
export async function repeatedFolder(dirs: readonly string[]): Promise<{ first: string; again: string } | undefined> {
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    const real = await fs.realpath(dir).catch(() => path.resolve(dir));
    const first = seen.get(real);
    if (first !== undefined) return { first, again: dir };
    seen.set(real, dir);
  }
  return undefined;
}

/**
 * The weighted mean of float32 weight buffers laid out by the same `specs`: `sum_i c_i w_i` with the
 * coefficients normalised to sum 1. Non-float tensors (int32 steps, say) must be equal in every
 * source and are copied. Quantised weights are refused (average the float originals).
 *
 * @param buffers - one weight buffer per model, `specs` order, float32 little-endian.
 * @param coefficients - one positive number per model; default equal.
 * @returns a new buffer of the same layout.
 */
export function averageWeightBuffers(specs: readonly io.WeightsManifestEntry[], buffers: readonly ArrayBuffer[], coefficients?: readonly number[]): ArrayBuffer {
  if (buffers.length === 0) throw new Error('Nothing to average: no models');
  const normalised = normalisedCoefficients(buffers.length, coefficients);
  const bytes = buffers[0]!.byteLength;
  if (buffers.some((b) => b.byteLength !== bytes)) throw new Error(`Weight files differ in size: ${buffers.map((b) => b.byteLength).join(' vs ')} bytes`);
  const out = new ArrayBuffer(bytes);
  let offset = 0;
  for (const spec of specs) {
    if (spec.quantization) throw new Error(`Weight ${spec.name} is quantised (${spec.quantization.dtype}); average the float models instead`);
    const count = spec.shape.reduce((n, d) => n * d, 1);
    const size = count * 4;
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32') throw new Error(`Weight ${spec.name} has dtype ${spec.dtype}; only float32 and int32 weights are supported`);
    if (offset + size > bytes) throw new Error(`Weight file too short for its manifest at ${spec.name}`);
    if (spec.dtype === 'int32') {
      const first = new Uint8Array(buffers[0]!, offset, size);
      for (const b of buffers.slice(1)) {
        if (!isDeepStrictEqual(first, new Uint8Array(b, offset, size))) throw new Error(`Integer weight ${spec.name} differs between models and cannot be averaged`);
      }
      new Uint8Array(out, offset, size).set(first);
    } else {
      const target = new Float32Array(out, offset, count);
      buffers.forEach((b, m) => {
        const source = new Float32Array(b, offset, count);
        const c = normalised[m]!;
        for (let i = 0; i < count; i++) target[i]! += c * source[i]!;
      });
    }
    offset += size;
  }
  if (offset !== bytes) throw new Error(`Weight file has ${bytes - offset} bytes beyond its manifest`);
  return out;
}

export interface AverageOptions {
  /** Name of the new model (its folder name under the output directory). */
  name: string;
  /** One positive weight per source model; default equal. */
  coefficients?: number[];
  variant?: string;
  description?: string;
}

/** `models/a is given twice` or `models/a and ./models/a/ are the same folder`. */
export function describeRepeat({ first, again }: { first: string; again: string }): string {
  return first === again ? `${again} is given twice` : `${first} and ${again} are the same folder`;
}

/**
 * Averages the weights of compatible model folders (same task, encodings, architecture and weight
 * layout) into a new folder `out`. The metadata is the first model's with its name, the sources
 * listed in `averagedFrom` and the total wall time; the sources' validation metrics are dropped
 * (they describe other weights), so evaluate the result.
 */
export async function averageModels(dirs: readonly string[], out: string, options: AverageOptions): Promise<ModelMetadata> {
  if (dirs.length < 2) throw new Error(`Averaging needs at least two models, got ${dirs.length}`);
  const resolvedOut = path.resolve(out);
  if (dirs.some((d) => path.resolve(d) === resolvedOut)) throw new Error(`The output ${out} is one of the models being averaged; choose another name`);
  // A model given twice would silently count double ("mean of x (0.50), x (0.50)"); weights say that.
  const repeated = await repeatedFolder(dirs);
  if (repeated) throw new Error(`${describeRepeat(repeated)}; give each model once (its coefficient sets how much it counts)`);
  const folders = await Promise.all(dirs.map(readModelFolder));
  const first = folders[0]!;
  for (const other of folders.slice(1)) {
    const reason = incompatibility(first, other);
    if (reason) throw new Error(`Cannot average these models: ${reason}`);
  }
  const specs = first.artifacts.weightSpecs ?? [];
  const averaged = averageWeightBuffers(
    specs,
    folders.map((f) => f.artifacts.weightData as ArrayBuffer),
    options.coefficients,
  );
  const shares = normalisedCoefficients(folders.length, options.coefficients);
  const metadata = metadataSchema.parse({
    ...first.metadata,
    name: options.name,
    training: { ...first.metadata.training, wallTimeSeconds: folders.reduce((s, f) => s + f.metadata.training.wallTimeSeconds, 0) },
    metrics: {},
    createdAt: new Date().toISOString(),
    variant: options.variant ?? first.metadata.variant,
    description: options.description ?? first.metadata.description,
    averagedFrom: folders.map((f, i) => ({
      name: f.metadata.name,
      steps: f.metadata.training.steps,
      weight: shares[i]!,
      run: typeof f.metadata.training.config.run === 'string' ? f.metadata.training.config.run : undefined,
    })),
  });
  await writeModelFolder(out, async (folder) => {
    await fileSystemIO(folder).save({ ...first.artifacts, weightData: averaged });
    await fs.writeFile(path.join(folder, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
  });
  return metadata;
}
