/**
 * The things the evaluation compares, behind one interface: the bicubic baseline, our exported
 * models (loaded from a directory or through the inference service) and the UpscalerJS ESRGAN peers.
 */
import { existsSync, promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { decodeImage, encodePng } from '@/lib/image/decode';
import { lAbToRgb, rgbToL } from '@/lib/image/lab';
import type { InferenceService } from '@/lib/infer/types';
import { parseMetadata, type ModelMetadata } from '@/lib/model/metadata';
import { fileSystemIO } from '@/lib/model/io';
import { imresize } from './bicubic';
import { createImage, fromBytes, toBytes, type FloatImage } from './image';

/** An image-to-image method under test. `run` takes and returns [0, 1] HWC images (3 channels). */
export interface Method {
  /** Row label, e.g. `bicubic`, `ours (sr-x4)`, `esrgan-thick`. */
  name: string;
  /** What it is, for the report (package and version, model directory, parameter count). */
  detail: string;
  run(image: FloatImage): Promise<FloatImage>;
  dispose(): void;
}

// ---------------------------------------------------------------------------------------------
// Bicubic

/** MATLAB bicubic upscaling of 8-bit images (the tables' "Bicubic" row). */
export function bicubicMethod(scale: number): Method {
  return {
    name: 'bicubic',
    detail: `MATLAB imresize bicubic x${scale}`,
    run: async (lr) => imresize(lr, { scale, uint8: true }),
    dispose: () => {},
  };
}

// ---------------------------------------------------------------------------------------------
// Running a layers model on a whole image

function padToMultiple(image: FloatImage, multiple: number): FloatImage {
  const width = Math.ceil(image.width / multiple) * multiple;
  const height = Math.ceil(image.height / multiple) * multiple;
  if (width === image.width && height === image.height) return image;
  const { channels } = image;
  const out = createImage(width, height, channels);
  // Edge replication: the padded border only feeds pixels that are cropped away again.
  for (let y = 0; y < height; y++) {
    const sy = Math.min(y, image.height - 1);
    for (let x = 0; x < width; x++) {
      const sx = Math.min(x, image.width - 1);
      for (let c = 0; c < channels; c++) out.data[(y * width + x) * channels + c] = image.data[(sy * image.width + sx) * channels + c]!;
    }
  }
  return out;
}

function cropTopLeft(image: FloatImage, width: number, height: number): FloatImage {
  if (width === image.width && height === image.height) return image;
  const out = createImage(width, height, image.channels);
  for (let y = 0; y < height; y++) {
    const from = y * image.width * image.channels;
    out.data.set(image.data.subarray(from, from + width * image.channels), y * width * image.channels);
  }
  return out;
}

interface RunOptions {
  /** Network input = pixel * inScale + inOffset (pixel in [0, 1]). */
  inScale: number;
  inOffset: number;
  /** Pixel = (network output - outOffset) / outScale. */
  outScale: number;
  outOffset: number;
  multipleOf: number;
  /** Run with `training: true` (pix2pix's test-time batch statistics). */
  trainingMode: boolean;
}

/**
 * Runs `model` on the whole of `image` (`[h, w, c]`, [0, 1]) and returns its output in [0, 1]
 * (unclipped), `[h * s, w * s, c']` for a model that scales by s.
 */
export async function runLayersModel(model: tfl.LayersModel, image: FloatImage, options: RunOptions): Promise<FloatImage> {
  const padded = padToMultiple(image, options.multipleOf);
  const output = tf.tidy(() => {
    const pixels = tf.tensor4d(padded.data, [1, padded.height, padded.width, padded.channels]);
    const x = tf.add(tf.mul(pixels, options.inScale), options.inOffset);
    const y = (options.trainingMode ? model.apply(x, { training: true }) : model.predict(x)) as tf.Tensor4D;
    return tf.div(tf.sub(y, options.outOffset), options.outScale) as tf.Tensor4D;
  });
  try {
    const [, outH, outW, outC] = output.shape;
    const data = (await output.data()) as Float32Array;
    const scaleY = outH / padded.height;
    const scaleX = outW / padded.width;
    return cropTopLeft(
      { data, width: outW, height: outH, channels: outC },
      Math.round(image.width * scaleX),
      Math.round(image.height * scaleY),
    );
  } finally {
    output.dispose();
  }
}

function countParams(model: tfl.LayersModel): number {
  return model.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

function formatParams(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M params` : `${(n / 1e3).toFixed(1)} k params`;
}

// ---------------------------------------------------------------------------------------------
// UpscalerJS ESRGAN peers

export const PEER_NAMES = ['slim', 'medium', 'thick'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

/**
 * What each package's model definition says (read from its `dist/.../esrgan.js`): the RDN models
 * (slim, medium) take and give 0..255; the RRDN model (thick) takes and gives 0..1 and needs the
 * `MultiplyBeta` and `PixelShuffle{s}x` custom layers.
 */
const PEER_RANGES: Record<PeerName, number> = { slim: 255, medium: 255, thick: 1 };

function firstTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (!x) throw new Error('custom layer called without input');
  return x;
}

type LayerConfig = ConstructorParameters<typeof tfl.layers.Layer>[0] & Record<string, unknown>;

/** ESRGAN's residual scaling: output = input * beta (0.2). */
export class MultiplyBeta extends tfl.layers.Layer {
  static className = 'MultiplyBeta';
  private readonly beta: number;
  constructor(config: LayerConfig = {}) {
    super(config);
    this.beta = typeof config.beta === 'number' ? config.beta : 0.2;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(firstTensor(inputs), this.beta));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), beta: this.beta };
  }
}

/** UpscalerJS's `PixelShuffle{scale}x` layer: depth-to-space by `scale`. */
export function pixelShuffleClass(scale: number) {
  return class PixelShuffle extends tfl.layers.Layer {
    static className = `PixelShuffle${scale}x`;
    private readonly scale: number;
    constructor(config: LayerConfig = {}) {
      super(config);
      this.scale = typeof config.scale === 'number' ? config.scale : scale;
    }
    override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
      const grow = (d: number | null | undefined) => (d == null ? null : d * this.scale);
      const channels = shape[3] == null ? null : shape[3] / (this.scale * this.scale);
      return [shape[0] ?? null, grow(shape[1]), grow(shape[2]), channels];
    }
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.tidy(() => tf.depthToSpace(firstTensor(inputs) as tf.Tensor4D, this.scale, 'NHWC'));
    }
    override getConfig(): tf.serialization.ConfigDict {
      return { ...super.getConfig(), scale: this.scale };
    }
  };
}

let customLayersRegistered = false;
/** Registers the ESRGAN-thick custom layers with tfjs serialization (idempotent). */
export function registerPeerLayers(): void {
  if (customLayersRegistered) return;
  tf.serialization.registerClass(MultiplyBeta);
  for (const scale of [2, 3, 4, 8]) tf.serialization.registerClass(pixelShuffleClass(scale));
  customLayersRegistered = true;
}

/** The installed package folder of `pkg` (its `exports` hide `package.json` from `require.resolve`). */
async function packageRoot(pkg: string): Promise<{ dir: string; version: string }> {
  const requireFromRoot = createRequire(path.join(process.cwd(), 'package.json'));
  let entry: string;
  try {
    entry = requireFromRoot.resolve(pkg);
  } catch {
    throw new Error(`${pkg} is not installed (it is a devDependency: run npm install).`);
  }
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const json = JSON.parse(await fs.readFile(manifest, 'utf8')) as { name?: string; version?: string };
    if (json.name === pkg) return { dir, version: json.version ?? '?' };
  }
  throw new Error(`Cannot find the package folder of ${pkg} above ${entry}`);
}

/** Loads `@upscalerjs/esrgan-<peer>` for `scale` from node_modules. */
export async function loadPeer(peer: PeerName, scale: number): Promise<Method> {
  const pkg = `@upscalerjs/esrgan-${peer}`;
  const { dir, version } = await packageRoot(pkg);
  const modelDir = path.join(dir, 'models', `x${scale}`);
  if (!existsSync(path.join(modelDir, 'model.json'))) throw new Error(`${pkg} has no x${scale} model in ${modelDir}`);
  registerPeerLayers();
  const model = await tfl.loadLayersModel(fileSystemIO(modelDir));
  const range = PEER_RANGES[peer];
  return {
    name: `esrgan-${peer}`,
    detail: `${pkg}@${version} x${scale}, ${formatParams(countParams(model))}, input/output 0..${range}`,
    run: (lr) =>
      runLayersModel(model, lr, { inScale: range, inOffset: 0, outScale: range, outOffset: 0, multipleOf: 1, trainingMode: false }),
    dispose: () => model.dispose(),
  };
}

// ---------------------------------------------------------------------------------------------
// Our models, straight from an exported directory

async function readMetadata(dir: string): Promise<ModelMetadata> {
  const file = path.join(dir, 'metadata.json');
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read ${file}: ${(error as Error).message}`);
  }
  return parseMetadata(json, file);
}

function rgbCoding(encoding: string): { scale: number; offset: number } {
  if (encoding === 'rgb-unit') return { scale: 1, offset: 0 };
  if (encoding === 'rgb-tanh') return { scale: 2, offset: -1 };
  throw new Error(`expected an RGB encoding, got ${encoding}`);
}

/** An exported super-resolution model (`model.json`, `weights.bin`, `metadata.json`) run on whole images. */
export async function loadSrModelDir(dir: string, scale: number): Promise<Method> {
  const meta = await readMetadata(dir);
  if (meta.task !== 'sr') throw new Error(`${dir} is a ${meta.task} model, not super-resolution`);
  if (meta.scale !== scale) throw new Error(`${dir} upscales x${meta.scale}, but --scale is ${scale}`);
  const input = rgbCoding(meta.inputEncoding);
  const output = rgbCoding(meta.outputEncoding);
  const model = await tfl.loadLayersModel(fileSystemIO(dir));
  return {
    name: `ours (${path.basename(path.resolve(dir))})`,
    detail: `${path.resolve(dir)}: ${meta.name}${meta.variant ? ` (${meta.variant})` : ''}, ${formatParams(countParams(model))}, whole image`,
    run: (lr) =>
      runLayersModel(model, lr, {
        inScale: input.scale,
        inOffset: input.offset,
        outScale: output.scale,
        outOffset: output.offset,
        multipleOf: meta.tile.multipleOf,
        trainingMode: meta.trainingModeAtInference.batchNorm || meta.trainingModeAtInference.dropout,
      }),
    dispose: () => model.dispose(),
  };
}

/**
 * An exported colorization model (L in, ab out) run on whole images: L* of the input at
 * `workingSize` (when set) goes in, a*b* comes out, is resized back and merged with the full-size L*.
 * Only used when the inference service is not available; the service is what the app runs.
 */
export async function loadColorizeModelDir(dir: string): Promise<Method> {
  const meta = await readMetadata(dir);
  if (meta.task !== 'colorize') throw new Error(`${dir} is a ${meta.task} model, not colorize`);
  if (meta.inputEncoding !== 'lab-l' || meta.outputEncoding !== 'lab-ab') {
    throw new Error(`${dir}: expected lab-l -> lab-ab, got ${meta.inputEncoding} -> ${meta.outputEncoding}`);
  }
  const model = await tfl.loadLayersModel(fileSystemIO(dir));
  const trainingMode = meta.trainingModeAtInference.batchNorm || meta.trainingModeAtInference.dropout;
  return {
    name: `ours (${path.basename(path.resolve(dir))})`,
    detail: `${path.resolve(dir)}: ${meta.name}, ${formatParams(countParams(model))}, working size ${meta.workingSize ?? 'full'}`,
    async run(image) {
      const { width, height } = image;
      const bytes = toBytes(image);
      const l = rgbToL(bytes, width * height);
      const lImage: FloatImage = { data: l, width, height, channels: 1 };
      const size = meta.workingSize;
      const small = size ? imresize(lImage, { width: size, height: size }) : lImage;
      // L/50 - 1 in, ab/110 out: expressed through runLayersModel's pixel = [0, 1] convention on L/100.
      const scaled = { ...small, data: small.data.map((v) => v / 100) };
      const ab = await runLayersModel(model, scaled, {
        inScale: 2,
        inOffset: -1,
        outScale: 1 / 110,
        outOffset: 0,
        multipleOf: meta.tile.multipleOf,
        trainingMode,
      });
      const full = size ? imresize(ab, { width, height }) : ab;
      const rgb = lAbToRgb(l, full.data, width * height);
      return fromBytes(rgb, width, height, 3);
    },
    dispose: () => model.dispose(),
  };
}

// ---------------------------------------------------------------------------------------------
// Our models through the inference service (what the app and CLIs run)

/**
 * The inference service, when `lib/infer/service.ts` exists in this checkout (it is built apart
 * from the evaluation); undefined otherwise. Imported by path so that this file compiles without it.
 */
export async function tryInferenceService(): Promise<InferenceService | undefined> {
  const file = path.join(process.cwd(), 'lib', 'infer', 'service.ts');
  if (!existsSync(file)) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as { getInferenceService?: () => Promise<InferenceService> };
  if (typeof mod.getInferenceService !== 'function') return undefined;
  return mod.getInferenceService();
}

async function decodeToFloat(png: Buffer): Promise<FloatImage> {
  const decoded = await decodeImage(png);
  return fromBytes(decoded.data, decoded.width, decoded.height, 3);
}

/** A model served by the inference service (PNG in, PNG out, with its own tiling). */
export function serviceMethod(service: InferenceService, task: 'sr' | 'colorize', scale: number): Method | undefined {
  const summary = service.models.find((m) => m.task === task && (task === 'colorize' || m.scale === scale));
  if (!summary) return undefined;
  return {
    name: `ours (${summary.name})`,
    detail: `inference service, model ${summary.name}${summary.variant ? ` (${summary.variant})` : ''}, backend ${service.backend}`,
    async run(image) {
      const png = await encodePng({ data: toBytes(image), width: image.width, height: image.height, channels: 3 });
      const result =
        task === 'sr'
          ? await service.upscale(png, { scale: scale as 2 | 4, model: summary.name })
          : await service.colorize(png, { model: summary.name });
      return decodeToFloat(result.png);
    },
    dispose: () => {},
  };
}
