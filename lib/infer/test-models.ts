/**
 * Tiny exported models for tests of the inference core and its shells (never the real models):
 * built with tfjs-layers, saved with `fileSystemIO`, described by a valid `metadata.json`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { DecodedImage } from '@/lib/image/decode';
import { fileSystemIO } from '@/lib/model/io';
import { metadataSchema, type ModelMetadata } from '@/lib/model/metadata';
import { buildSeeded, buildUnetGenerator } from '@/lib/models/generators';
import { PixelShuffle, registerCustomLayers } from '@/lib/models/layers';

type MetadataOverrides = Partial<Omit<ModelMetadata, 'tile' | 'trainingModeAtInference'>> & {
  tile?: Partial<ModelMetadata['tile']>;
  trainingModeAtInference?: Partial<ModelMetadata['trainingModeAtInference']>;
};

/** A schema-valid metadata object for a test model. */
export function testMetadata(base: Pick<ModelMetadata, 'task' | 'scale'>, overrides: MetadataOverrides = {}): ModelMetadata {
  const colorize = base.task === 'colorize';
  const paired = base.task === 'paired';
  const { tile, trainingModeAtInference, ...rest } = overrides;
  const rgbEncoding = paired ? 'rgb-tanh' : 'rgb-unit';
  return metadataSchema.parse({
    formatVersion: 1,
    name: colorize ? 'test-colorize' : paired ? 'test-paired' : `test-sr-x${base.scale}`,
    task: base.task,
    scale: base.scale,
    inputChannels: colorize ? 1 : 3,
    outputChannels: colorize ? 2 : 3,
    inputEncoding: colorize ? 'lab-l' : rgbEncoding,
    outputEncoding: colorize ? 'lab-ab' : rgbEncoding,
    tile: { size: colorize ? 32 : 16, padding: colorize ? 0 : 4, multipleOf: colorize || paired ? 4 : 1, ...tile },
    ...(colorize ? { workingSize: 32 } : {}),
    architecture: { kind: 'test' },
    trainingModeAtInference: { batchNorm: false, dropout: false, ...trainingModeAtInference },
    training: { config: {}, steps: 0, wallTimeSeconds: 0, backend: 'cpu', data: { description: 'none', images: 0 } },
    metrics: {},
    createdAt: '2020-01-01T00:00:00.000Z',
    ...rest,
  });
}

/** Saves `model` and `metadata` as a model folder `dir` (created). */
export async function saveTestModel(model: tfl.LayersModel, dir: string, metadata: ModelMetadata): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await model.save(fileSystemIO(dir));
  await fs.writeFile(path.join(dir, 'metadata.json'), JSON.stringify(metadata, null, 2));
  model.dispose();
  return dir;
}

/**
 * Random fully convolutional SR net: conv 3x3 (relu) -> conv 3x3 -> pixel shuffle, plus an
 * optional dropout. Receptive-field radius 2 input pixels. `[1, h, w, 3]` -> `[1, h*s, w*s, 3]`,
 * sigmoid so values stay in [0, 1].
 */
export function randomSrNet(scale: number, seed = 1, dropout = 0): tfl.LayersModel {
  registerCustomLayers();
  const init = () => tfl.initializers.glorotUniform({ seed });
  const input = tfl.input({ shape: [null, null, 3] });
  let x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(), biasInitializer: 'randomNormal' }).apply(input) as tfl.SymbolicTensor;
  if (dropout > 0) x = tfl.layers.dropout({ rate: dropout }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 3 * scale * scale, kernelSize: 3, padding: 'same', activation: 'sigmoid', kernelInitializer: init() }).apply(x) as tfl.SymbolicTensor;
  const output = new PixelShuffle({ blockSize: scale }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

/**
 * Exact nearest-neighbour SR: a 1x1 conv copying each input channel to all `scale^2` sub-pixels,
 * then pixel shuffle. Output pixel (y, x) = input pixel (floor(y / s), floor(x / s)).
 */
export function nearestSrNet(scale: number): tfl.LayersModel {
  registerCustomLayers();
  const input = tfl.input({ shape: [null, null, 3] });
  const conv = tfl.layers.conv2d({ filters: 3 * scale * scale, kernelSize: 1, useBias: false });
  const x = conv.apply(input) as tfl.SymbolicTensor;
  const output = new PixelShuffle({ blockSize: scale }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  const kernel = new Float32Array(3 * 3 * scale * scale);
  // depthToSpace reads channel (i*s + j)*3 + c for sub-pixel (i, j) and colour c.
  for (let c = 0; c < 3; c++) for (let k = c; k < 3 * scale * scale; k += 3) kernel[c * 3 * scale * scale + k] = 1;
  const weights = [tf.tensor4d(kernel, [1, 1, 3, 3 * scale * scale])];
  conv.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/**
 * Random colorizer with a downsampling (multipleOf 4): conv stride 2 -> conv stride 2 -> two
 * transposed convs -> tanh scaled by `gain`. `[1, h, w, 1]` -> `[1, h, w, 2]`.
 */
export function randomColorizer(seed = 1, gain = 0.3): tfl.LayersModel {
  const init = () => tfl.initializers.glorotUniform({ seed });
  const input = tfl.input({ shape: [null, null, 1] });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(), biasInitializer: 'randomNormal' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init() }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2dTranspose({ filters: 4, kernelSize: 4, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init() }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh', kernelInitializer: init(), biasInitializer: 'randomNormal' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.rescaling({ scale: gain, offset: 0 }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

/**
 * A colorizer predicting the same ab/110 everywhere (zero kernel, bias = `ab`): the expected
 * output of the whole pipeline is then known exactly.
 */
export function constantColorizer(ab: [number, number]): tfl.LayersModel {
  const input = tfl.input({ shape: [null, null, 1] });
  const conv = tfl.layers.conv2d({ filters: 2, kernelSize: 1, kernelInitializer: 'zeros' });
  const output = conv.apply(input) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  const weights = [tf.zeros([1, 1, 1, 2]), tf.tensor1d(ab)];
  conv.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/**
 * A random paired (A->B) U-Net as `npm run train -- --task paired` builds it, only tiny: depth 2
 * (multipleOf 4), ngf 4, instance norm, tanh. `[1, h, w, 3]` -> `[1, h, w, 3]` in [-1, 1].
 */
export function randomPairedUnet(seed = 1): tfl.LayersModel {
  const model = buildSeeded(seed, () =>
    buildUnetGenerator({ kind: 'unet', inputChannels: 3, outputChannels: 3, ngf: 4, depth: 2, norm: 'instance', dropout: 0, outputActivation: 'tanh' }),
  );
  // pix2pix's N(0, 0.02) start gives a nearly constant output; 25x makes it depend on the image.
  const weights = model.getWeights();
  const scaled = weights.map((w) => tf.mul(w, 25));
  model.setWeights(scaled);
  tf.dispose(scaled);
  return model;
}

/**
 * A paired model that negates its `rgb-tanh` input (1x1 conv, kernel -I): through the whole
 * pipeline every output byte is exactly 255 - the input byte, whatever the windows.
 */
export function invertingPairedNet(): tfl.LayersModel {
  const input = tfl.input({ shape: [null, null, 3] });
  const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 1, useBias: false });
  const output = conv.apply(input) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output });
  const weights = [tf.tensor4d([-1, 0, 0, 0, -1, 0, 0, 0, -1], [1, 1, 3, 3])];
  conv.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/** A decoded RGB image of deterministic noise (`seed`), with a noise alpha plane when asked. */
export function randomImage(width: number, height: number, seed: number, withAlpha = false): DecodedImage {
  let a = seed;
  const next = () => ((a = (a * 1103515245 + 12345) % 2147483648), a % 256);
  const data = new Uint8Array(width * height * 3).map(next);
  const alpha = withAlpha ? new Uint8Array(width * height).map(next) : undefined;
  return alpha ? { data, width, height, channels: 3, hasAlpha: true, alpha } : { data, width, height, channels: 3, hasAlpha: false };
}

/** A PNG of deterministic noise (`seed`), `channels` 3 (RGB) or 4 (RGBA), for inputs whose content does not matter. */
export async function noisePng(width: number, height: number, channels: 3 | 4 = 3, seed = 1): Promise<Buffer> {
  let a = seed;
  const data = Buffer.alloc(width * height * channels).map(() => ((a = (a * 1103515245 + 12345) % 2147483648), a % 256));
  return sharp(data, { raw: { width, height, channels } }).png().toBuffer();
}
