/**
 * Generators and discriminators after Isola et al. 2017 (pix2pix), plus a fast low-resolution
 * super-resolution network. All are built from plain tfjs-layers plus `./layers`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { abGamutBins } from '@/lib/image/ab-classes';
import { LAB_AB_SCALE } from '@/lib/model/metadata';
import { AbFromClassLogits, ExpandedConv2D, InstanceNorm, PaddedConv2D, PixelShuffle, registerCustomLayers, UpsampleBilinear } from './layers';

export const NORMS = ['batch', 'instance', 'none'] as const;
export type Norm = (typeof NORMS)[number];

export const unetConfigSchema = z.object({
  kind: z.literal('unet'),
  inputChannels: z.number().int().min(1).max(4),
  outputChannels: z.number().int().min(1).max(4),
  /** Filters of the first layer; deeper layers use min(2^i, 8) times this. */
  ngf: z.number().int().min(1).default(64),
  /** Number of stride-2 downsamplings: the input side must be a multiple of 2^depth. */
  depth: z.number().int().min(2).max(9).default(8),
  norm: z.enum(NORMS).default('batch'),
  /** Dropout rate on the three decoder blocks after the innermost (0 disables). */
  dropout: z.number().min(0).max(0.9).default(0.5),
  /** Output activation; tanh for pix2pix images in [-1, 1]. */
  outputActivation: z.enum(['tanh', 'linear']).default('tanh'),
  /**
   * Colorize only (2 outputs, a*b* / 110): instead of a last transposed conv to a*b*, a 1x1 conv to
   * logits over the in-gamut a*b* bins of spacing `grid` at half resolution, decoded by the annealed
   * mean at `temperature` ({@link AbFromClassLogits}) and upsampled bilinearly (Zhang et al. 2016).
   * Absent: the plain head.
   */
  classHead: z
    .object({
      grid: z.number().min(4).max(40),
      temperature: z.number().gt(0).max(1),
    })
    .optional(),
});
export type UnetConfig = z.infer<typeof unetConfigSchema>;

export const patchGanConfigSchema = z.object({
  kind: z.literal('patchgan'),
  /** Channels of the conditioning input plus channels of the real/fake output. */
  inputChannels: z.number().int().min(2).max(8),
  ndf: z.number().int().min(1).default(64),
  /** 3 gives the 70x70 PatchGAN (30x30 logits for a 256 input). */
  nLayers: z.number().int().min(1).max(6).default(3),
  norm: z.enum(NORMS).default('batch'),
});
export type PatchGanConfig = z.infer<typeof patchGanConfigSchema>;

export const srNetConfigSchema = z.object({
  kind: z.literal('srnet'),
  scale: z.union([z.literal(2), z.literal(3), z.literal(4)]),
  channels: z.number().int().min(1).max(4).default(3),
  /** Feature width at low resolution. */
  features: z.number().int().min(4).default(32),
  /** Residual blocks (conv-ReLU-conv + skip) between head and tail. */
  blocks: z.number().int().min(0).default(4),
  /**
   * Train each block conv as a plain 3x3 plus a 1x1 expansion to `expansion * features` channels
   * and a 3x3 back ({@link ExpandedConv2D}); 0: plain convs. Exports fold it away
   * ({@link foldForInference}): the exported network, its speed and its architecture are plain.
   */
  expansion: z.number().int().min(0).max(8).default(0),
});
export type SrNetConfig = z.infer<typeof srNetConfigSchema>;

export const architectureSchema = z.discriminatedUnion('kind', [unetConfigSchema, srNetConfigSchema]);
export type GeneratorConfig = z.infer<typeof architectureSchema>;

// Seeds for the initialisers while a seeded build runs, so that a run's seed fixes its initial
// weights (resume tests compare against an uninterrupted run from the same seed).
let nextInitSeed: (() => number) | undefined;

/** Builds with every random initialiser seeded from `seed` (consecutive seeds, in layer order). */
export function buildSeeded<T>(seed: number, build: () => T): T {
  let next = seed;
  nextInitSeed = () => next++;
  try {
    return build();
  } finally {
    nextInitSeed = undefined;
  }
}

const initSeed = (): number | undefined => nextInitSeed?.();
const weightInit = () => tfl.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: initSeed() });

function normLayer(norm: Norm, name: string): tfl.layers.Layer | undefined {
  if (norm === 'batch') {
    // PyTorch's defaults, on purpose: tfjs uses momentum 0.99 and epsilon 1e-3.
    return tfl.layers.batchNormalization({
      momentum: 0.9,
      epsilon: 1e-5,
      gammaInitializer: tfl.initializers.randomNormal({ mean: 1, stddev: 0.02, seed: initSeed() }),
      name,
    });
  }
  if (norm === 'instance') return new InstanceNorm({ name, seed: initSeed() });
  return undefined;
}

function apply(layer: tfl.layers.Layer | undefined, x: tfl.SymbolicTensor): tfl.SymbolicTensor {
  return layer ? (layer.apply(x) as tfl.SymbolicTensor) : x;
}

/** Name of the class head's logits layer: training reads the logits from it. */
export const CLASS_LOGITS_LAYER = 'class_logits';
/** A class head's logits are this many times smaller than the image (one U-Net level up from it). */
export const CLASS_HEAD_FACTOR = 2;

/**
 * pix2pix U-Net generator. Input `[N, S, S, inputChannels]` with S a multiple of 2^depth (any S at
 * inference, since the model is fully convolutional), values in [-1, 1]; output
 * `[N, S, S, outputChannels]` in [-1, 1] (tanh, or a*b* / 110 from a class head) or unbounded (linear).
 */
export function buildUnetGenerator(raw: z.input<typeof unetConfigSchema>): tfl.LayersModel {
  registerCustomLayers();
  const cfg = unetConfigSchema.parse(raw);
  if (cfg.classHead && cfg.outputChannels !== 2) throw new Error(`a class head predicts a*b* (2 channels), not ${cfg.outputChannels}`);
  const filters = (i: number) => cfg.ngf * Math.min(2 ** i, 8);
  const input = tfl.input({ shape: [null, null, cfg.inputChannels], name: 'input' });
  const skips: tfl.SymbolicTensor[] = [];
  let x: tfl.SymbolicTensor = input;
  const useBias = cfg.norm !== 'batch';
  // Without norm layers to rescale activations, pix2pix's N(0, 0.02) would shrink the signal several-
  // fold per level; He initialisation keeps its scale. The output layer stays small (tanh).
  const hiddenInit = () => (cfg.norm === 'none' ? tfl.initializers.heNormal({ seed: initSeed() }) : weightInit());
  for (let i = 0; i < cfg.depth; i++) {
    const innermost = i === cfg.depth - 1;
    if (i > 0) x = apply(tfl.layers.leakyReLU({ alpha: 0.2, name: `enc${i}_lrelu` }), x);
    x = apply(
      tfl.layers.conv2d({
        filters: filters(i),
        kernelSize: 4,
        strides: 2,
        padding: 'same',
        useBias: useBias || i === 0 || innermost,
        kernelInitializer: hiddenInit(),
        name: `enc${i}_conv`,
      }),
      x,
    );
    // No norm on the outermost layer nor at the bottleneck, as in pix2pix.
    if (i > 0 && !innermost) x = apply(normLayer(cfg.norm, `enc${i}_norm`), x);
    skips.push(x);
  }
  for (let i = cfg.depth - 1; i >= 0; i--) {
    const outermost = i === 0;
    if (i < cfg.depth - 1) {
      x = tfl.layers.concatenate({ name: `dec${i}_skip` }).apply([x, skips[i]!]) as tfl.SymbolicTensor;
    }
    x = apply(tfl.layers.reLU({ name: `dec${i}_relu` }), x);
    if (outermost && cfg.classHead) {
      x = classHead(cfg.classHead, x);
      break;
    }
    x = apply(
      tfl.layers.conv2dTranspose({
        filters: outermost ? cfg.outputChannels : filters(i - 1),
        kernelSize: 4,
        strides: 2,
        padding: 'same',
        useBias: useBias || outermost,
        kernelInitializer: outermost ? weightInit() : hiddenInit(),
        name: `dec${i}_deconv`,
      }),
      x,
    );
    if (outermost) {
      if (cfg.outputActivation === 'tanh') x = apply(tfl.layers.activation({ activation: 'tanh', name: 'output' }), x);
      break;
    }
    x = apply(normLayer(cfg.norm, `dec${i}_norm`), x);
    const fromInnermost = cfg.depth - 1 - i;
    if (cfg.dropout > 0 && fromInnermost >= 1 && fromInnermost <= 3 && i >= 4) {
      x = apply(tfl.layers.dropout({ rate: cfg.dropout, name: `dec${i}_dropout` }), x);
    }
  }
  return tfl.model({ inputs: input, outputs: x, name: 'unet_generator' });
}

/**
 * Seeds the masks of `model`'s dropout layers for the next training pass: tfjs draws them unseeded
 * (from Math.random) otherwise, so a run with dropout could not be repeated or resumed exactly.
 * Each layer gets its own seed from `seed`; call it with a new `seed` for every step (the same seed
 * draws the same masks). `undefined` restores unseeded masks.
 *
 * @returns the number of dropout layers seeded.
 */
export function seedDropout(model: tfl.LayersModel, seed: number | undefined): number {
  const layers = model.layers.filter((layer) => layer.getClassName() === 'Dropout');
  // `seed` is private in tfjs's typings but read on every call() (tfjs-layers' Dropout.call).
  layers.forEach((layer, i) => ((layer as unknown as { seed: number | undefined }).seed = seed === undefined ? undefined : seed + i * 7919));
  return layers.length;
}

/** Half-resolution features -> bin logits -> annealed-mean a*b* / 110 -> full resolution. */
function classHead(head: NonNullable<UnetConfig['classHead']>, features: tfl.SymbolicTensor): tfl.SymbolicTensor {
  const bins = abGamutBins(head.grid);
  const logits = tfl.layers.conv2d({
    filters: bins.count,
    kernelSize: 1,
    // Small, so training starts from a nearly uniform distribution over the bins.
    kernelInitializer: weightInit(),
    name: CLASS_LOGITS_LAYER,
  });
  const decode = new AbFromClassLogits({ centres: Array.from(bins.centres), temperature: head.temperature, abScale: LAB_AB_SCALE, name: 'ab_decode' });
  return apply(new UpsampleBilinear({ scale: CLASS_HEAD_FACTOR, name: 'output' }), apply(decode, apply(logits, features)));
}

/**
 * PatchGAN discriminator (70x70 receptive field for nLayers 3). Input `[N, S, S, inputChannels]`
 * (condition and candidate concatenated on channels, in [-1, 1]); output logits `[N, S/8-2, S/8-2, 1]`
 * for nLayers 3 (30x30 for S = 256).
 */
export function buildPatchGan(raw: z.input<typeof patchGanConfigSchema>): tfl.LayersModel {
  registerCustomLayers();
  const cfg = patchGanConfigSchema.parse(raw);
  const input = tfl.input({ shape: [null, null, cfg.inputChannels], name: 'pair' });
  const useBias = cfg.norm !== 'batch';
  // PyTorch's k4 p1 convolutions.
  const conv = (x: tfl.SymbolicTensor, filters: number, strides: number, name: string, bias: boolean) =>
    apply(new PaddedConv2D({ filters, kernelSize: 4, strides, padding: 1, useBias: bias, kernelInitializer: weightInit(), name }), x);
  let x = conv(input, cfg.ndf, 2, 'd0_conv', true);
  x = apply(tfl.layers.leakyReLU({ alpha: 0.2, name: 'd0_lrelu' }), x);
  let mult = 1;
  for (let n = 1; n <= cfg.nLayers; n++) {
    mult = Math.min(2 ** n, 8);
    const stride = n < cfg.nLayers ? 2 : 1;
    x = conv(x, cfg.ndf * mult, stride, `d${n}_conv`, useBias);
    x = apply(normLayer(cfg.norm, `d${n}_norm`), x);
    x = apply(tfl.layers.leakyReLU({ alpha: 0.2, name: `d${n}_lrelu` }), x);
  }
  x = conv(x, 1, 1, 'logits', true);
  return tfl.model({ inputs: input, outputs: x, name: 'patchgan' });
}

/**
 * Super-resolution network working at low resolution (ESPCN/EDSR-style): conv head, residual
 * blocks, conv tail to channels*scale^2, pixel shuffle, plus a bilinear upsampling of the input
 * so the network only learns the residual. Input `[N, h, w, channels]` in [0, 1]; output
 * `[N, h*scale, w*scale, channels]`, about [0, 1] (not clipped: clip when converting to pixels).
 */
export function buildSrNet(raw: z.input<typeof srNetConfigSchema>): tfl.LayersModel {
  registerCustomLayers();
  const cfg = srNetConfigSchema.parse(raw);
  const input = tfl.input({ shape: [null, null, cfg.channels], name: 'lr' });
  const conv3 = (filters: number, name: string, activation?: 'relu', initStd?: number, expansion = 0) => {
    // Residual branches start near zero so every block begins as the identity (stable at high lr).
    const kernelInitializer = initStd ? tfl.initializers.randomNormal({ mean: 0, stddev: initStd, seed: initSeed() }) : tfl.initializers.heNormal({ seed: initSeed() });
    if (expansion > 0) return new ExpandedConv2D({ filters, expansion, activation, kernelInitializer, seed: initSeed(), name });
    return tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation, kernelInitializer, name });
  };
  const head = apply(conv3(cfg.features, 'head'), input);
  let x = head;
  for (let b = 0; b < cfg.blocks; b++) {
    const y = apply(conv3(cfg.features, `block${b}_conv1`, 'relu', undefined, cfg.expansion), x);
    const z2 = apply(conv3(cfg.features, `block${b}_conv2`, undefined, 1e-3, cfg.expansion), y);
    x = tfl.layers.add({ name: `block${b}_add` }).apply([x, z2]) as tfl.SymbolicTensor;
  }
  if (cfg.blocks > 0) x = tfl.layers.add({ name: 'global_skip' }).apply([x, head]) as tfl.SymbolicTensor;
  const tail = tfl.layers.conv2d({
    filters: cfg.channels * cfg.scale * cfg.scale,
    kernelSize: 3,
    padding: 'same',
    // Small init so the untrained network starts as plain bilinear upsampling.
    kernelInitializer: tfl.initializers.randomNormal({ mean: 0, stddev: 1e-3, seed: initSeed() }),
    name: 'tail',
  });
  const residual = apply(new PixelShuffle({ blockSize: cfg.scale, name: 'shuffle' }), apply(tail, x));
  const upsampled = apply(new UpsampleBilinear({ scale: cfg.scale, name: 'upsample' }), input);
  const output = tfl.layers.add({ name: 'output' }).apply([upsampled, residual]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'srnet' });
}

/** Export-time choices that need no training: a class head's decoding temperature. */
export interface InferenceOptions {
  /** Replaces a class head's annealing temperature (the logits stay as trained). */
  temperature?: number;
}

/**
 * The architecture an export of a generator trained as `cfg` has: srnets without expansion; a
 * class head with the decoding temperature asked for.
 */
export function foldedArchitecture(cfg: GeneratorConfig, options: InferenceOptions = {}): GeneratorConfig {
  if (options.temperature !== undefined) {
    if (cfg.kind !== 'unet' || !cfg.classHead) throw new Error('a decoding temperature applies to colorize models with a class head (--head classes) only');
    return { ...cfg, classHead: { ...cfg.classHead, temperature: options.temperature } };
  }
  return cfg.kind === 'srnet' ? { ...cfg, expansion: 0 } : cfg;
}

/**
 * The network to export for a trained generator: itself; for an srnet trained with `expansion` a
 * plain srnet (same names, `expansion` 0) whose convs carry the folded kernels (both compute the
 * same function up to float rounding; the plain one runs at the plain network's speed); for a
 * class head decoded at another temperature, the same weights under that decoding. The caller owns
 * (and disposes) a returned model that differs from `model`.
 */
export function foldForInference(model: tfl.LayersModel, cfg: GeneratorConfig, options: InferenceOptions = {}): { model: tfl.LayersModel; architecture: GeneratorConfig } {
  const architecture = foldedArchitecture(cfg, options);
  if (options.temperature !== undefined) {
    const redecoded = buildGenerator(architecture);
    const weights = model.getWeights();
    // The variables' own tensors: copied by setWeights, never disposed here.
    redecoded.setWeights(weights);
    return { model: redecoded, architecture };
  }
  if (cfg.kind !== 'srnet' || cfg.expansion === 0) return { model, architecture };
  const plain = buildGenerator(architecture);
  for (const layer of model.layers) {
    const weights = layer instanceof ExpandedConv2D ? layer.foldedWeights() : layer.getWeights();
    if (weights.length === 0) continue;
    plain.getLayer(layer.name).setWeights(weights);
    if (layer instanceof ExpandedConv2D) tf.dispose(weights);
  }
  return { model: plain, architecture };
}

/**
 * Receptive-field radius of {@link buildSrNet} in input pixels: head conv 1, each block's two 3x3
 * convs 2, tail conv 1 (the bilinear skip, radius 1, runs in parallel). Tiles with at least this
 * much context around them stitch into exactly the untiled output.
 */
export function srNetContext(cfg: Pick<SrNetConfig, 'blocks'>): number {
  return 2 * cfg.blocks + 2;
}

/** Builds any generator from its (validated) architecture config. */
export function buildGenerator(cfg: GeneratorConfig): tfl.LayersModel {
  return cfg.kind === 'unet' ? buildUnetGenerator(cfg) : buildSrNet(cfg);
}

/** Total trainable parameters of a model. */
export function countParams(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}

/** Output `[N,H,W,C]` of running `model` with batch statistics/dropout on or off (tfjs predict is off). */
export function runGenerator(model: tfl.LayersModel, input: tf.Tensor4D, training: boolean): tf.Tensor4D {
  return model.apply(input, { training }) as tf.Tensor4D;
}
