/**
 * The conditional GAN step functions of pix2pix (Isola et al. 2017): loss = cGAN + lambda * L1,
 * generator and discriminator updated alternately with Adam. With `gan.mode = 'none'` it is plain
 * L1 regression (the faithful super-resolution models). Exported so tests can drive single steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { LAB_AB_SCALE } from '@/lib/model/metadata';
import { abBinsFrom, softColourTargets, type AbBins } from '@/lib/image/ab-classes';
import { CLASS_HEAD_FACTOR, CLASS_LOGITS_LAYER, seedDropout } from '@/lib/models/generators';
import { AbFromClassLogits, registerCustomLayers } from '@/lib/models/layers';
import { adam } from './adam';

export const GAN_MODES = ['vanilla', 'lsgan', 'wgangp', 'none'] as const;
export type GanMode = (typeof GAN_MODES)[number];

export const PIXEL_LOSSES = ['l1', 'l2', 'l1-luma', 'ab-classes'] as const;
export type PixelLoss = (typeof PIXEL_LOSSES)[number];

/** Zhang et al. 2016's class-rebalancing lambda, the default of 'ab-classes'. */
export const DEFAULT_CLASS_REBALANCE = 0.5;

export const ganConfigSchema = z.object({
  mode: z.enum(GAN_MODES).default('vanilla'),
  /**
   * The reconstruction term: 'l1' (mean absolute error, pix2pix's), 'l2' (mean squared error:
   * PSNR's own objective, for a last fine-tune of a faithful model that L1 trained) or 'l1-luma'
   * (L1 in BT.601 YCbCr, chroma weighted {@link LUMA_LOSS_CHROMA_WEIGHT}: RGB outputs only; the
   * eye and the SR benchmarks judge luminance, so capacity goes there, as in Y-only SR nets) or
   * 'ab-classes' (colorize with a class head: rebalanced cross-entropy over a*b* bins, see
   * {@link colourClassLoss}).
   */
  pixelLoss: z.enum(PIXEL_LOSSES).default('l1'),
  /**
   * 'ab-classes': the rebalancing lambda (Zhang et al. 2016: 0.5; 1 = no rebalancing, towards 0 rare
   * colours weigh more). Absent: 0.5.
   */
  classRebalance: z.number().min(0).max(1).optional(),
  /** Weight of the reconstruction term (pix2pix: 100; the name is pix2pix's, it weights 'l2' too). */
  lambdaL1: z.number().min(0).default(100),
  /** Weight of the adversarial term for G. */
  lambdaGan: z.number().min(0).default(1),
  /** Gradient-penalty weight for wgangp. */
  gradientPenalty: z.number().min(0).default(10),
});
export type GanConfig = z.infer<typeof ganConfigSchema>;

export const optimConfigSchema = z.object({
  lr: z.number().positive().default(2e-4),
  beta1: z.number().min(0).max(1).default(0.5),
  beta2: z.number().min(0).max(1).default(0.999),
  /** Discriminator learning rate (defaults to lr). */
  lrD: z.number().positive().optional(),
});
export type OptimConfig = z.infer<typeof optimConfigSchema>;

export interface StepLosses {
  /** Total generator loss (adversarial * lambdaGan + lambdaL1 * pixel loss). */
  lossG: number;
  lossGGan: number;
  /** The reconstruction term `gan.pixelLoss` (L1, squared error or luma-weighted L1; key kept for older logs). */
  lossGL1: number;
  /** Discriminator loss (halved, as in pix2pix); 0 without a discriminator. */
  lossD: number;
}

/** Weight of each chroma channel (Cb, Cr) against luma in the 'l1-luma' pixel loss. */
export const LUMA_LOSS_CHROMA_WEIGHT = 0.25;

// Rows Y, Cb, Cr of BT.601 (full range) applied to RGB differences; columns scaled by the loss weights.
const LUMA_LOSS_MATRIX = [
  [0.299, -0.168736 * LUMA_LOSS_CHROMA_WEIGHT, 0.5 * LUMA_LOSS_CHROMA_WEIGHT],
  [0.587, -0.331264 * LUMA_LOSS_CHROMA_WEIGHT, -0.418688 * LUMA_LOSS_CHROMA_WEIGHT],
  [0.114, 0.5 * LUMA_LOSS_CHROMA_WEIGHT, -0.081312 * LUMA_LOSS_CHROMA_WEIGHT],
];

/**
 * Reconstruction loss of `output` against `target` (both `[N, H, W, C]`, same range) as a scalar.
 * 'l1-luma' needs C = 3 (RGB): it is the mean over pixels of |dY| + w |dCb| + w |dCr|
 * (w = {@link LUMA_LOSS_CHROMA_WEIGHT}), so a grey error (equal in R, G and B) costs what it costs
 * under 'l1', and one that leaves luma unchanged about a third of its 'l1' cost.
 */
export function pixelLoss(kind: Exclude<PixelLoss, 'ab-classes'>, output: tf.Tensor4D, target: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const error = tf.sub(output, target);
    if (kind === 'l2') return tf.mean(tf.square(error)) as tf.Scalar;
    if (kind === 'l1') return tf.mean(tf.abs(error)) as tf.Scalar;
    const channels = error.shape[3];
    if (channels !== 3) throw new Error(`pixel loss 'l1-luma' needs RGB outputs (3 channels), not ${channels}`);
    const ycc = tf.matMul(tf.reshape(error, [-1, 3]), tf.tensor2d(LUMA_LOSS_MATRIX));
    return tf.mul(tf.mean(tf.abs(ycc)), 3) as tf.Scalar;
  });
}

/**
 * Colour-class loss of Zhang et al. 2016 (eq. 2-4) as a scalar: the cross-entropy of `logits`
 * (`[N, h, w, Q]`) against soft targets (`[P, Q]`, P = N h w, rows summing to 1; see
 * `softColourTargets`), weighted per pixel by `pixelWeights` (`[P]`, the class rebalancing) and
 * averaged over pixels.
 */
export function colourClassLoss(logits: tf.Tensor4D, targets: tf.Tensor2D, pixelWeights: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const [n, h, w, q] = logits.shape;
    if (targets.shape[0] !== n * h * w || targets.shape[1] !== q || pixelWeights.shape[0] !== n * h * w) {
      throw new Error(`colourClassLoss: targets ${targets.shape} and weights ${pixelWeights.shape} do not fit logits ${logits.shape}`);
    }
    // tfjs' softmax cross-entropy has the cheap fused gradient softmax - targets.
    const crossEntropy = tf.losses.softmaxCrossEntropy(targets, tf.reshape(logits, [n * h * w, q]), undefined, 0, tf.Reduction.NONE);
    return tf.mean(tf.mul(crossEntropy, pixelWeights)) as tf.Scalar;
  });
}

/** Adversarial loss of logits `[N, h, w, 1]` against a constant label (real = 1, fake = 0). */
export function adversarialLoss(mode: GanMode, logits: tf.Tensor, real: boolean): tf.Scalar {
  return tf.tidy(() => {
    if (mode === 'vanilla') {
      const labels = real ? tf.onesLike(logits) : tf.zerosLike(logits);
      return tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar;
    }
    if (mode === 'lsgan') return tf.mean(tf.square(tf.sub(logits, real ? 1 : 0))) as tf.Scalar;
    if (mode === 'wgangp') return (real ? tf.neg(tf.mean(logits)) : tf.mean(logits)) as tf.Scalar;
    throw new Error('adversarialLoss called with gan mode "none"');
  });
}

function pairOf(input: tf.Tensor4D, candidate: tf.Tensor4D): tf.Tensor4D {
  // A super-resolution D sees the LR input upsampled next to the candidate.
  if (input.shape[1] !== candidate.shape[1]) {
    const up = tf.image.resizeBilinear(input, [candidate.shape[1], candidate.shape[2]]);
    return tf.concat([up, candidate], 3);
  }
  return tf.concat([input, candidate], 3);
}

/**
 * WGAN-GP's penalty (Gulrajani et al. 2017): mean over the batch of (||grad_x sum D(input, x)|| - 1)^2
 * at x drawn uniformly between `real` and `fake` (`[N, H, W, C]` each, one mixing weight per image;
 * drawn from `seed` when given, else unseeded). Differentiable w.r.t. D's weights (a gradient of a
 * gradient), so it trains the critic.
 */
export function gradientPenalty(discriminator: tfl.LayersModel, input: tf.Tensor4D, real: tf.Tensor4D, fake: tf.Tensor4D, seed?: number): tf.Scalar {
  registerCustomLayers(); // includes the comparison gradients a second-order gradient needs
  return tf.tidy(() => {
    const alpha = tf.randomUniform([real.shape[0], 1, 1, 1], 0, 1, 'float32', seed);
    const mixed = tf.add(tf.mul(alpha, real), tf.mul(tf.sub(1, alpha), fake)) as tf.Tensor4D;
    const gradient = tf.grad((x: tf.Tensor) => tf.sum(discriminator.apply(pairOf(input, x as tf.Tensor4D), { training: true }) as tf.Tensor))(mixed);
    const norms = tf.sqrt(tf.add(tf.sum(tf.square(gradient), [1, 2, 3]), 1e-12));
    return tf.mean(tf.square(tf.sub(norms, 1))) as tf.Scalar;
  });
}

export interface Pix2PixOptions {
  generator: tfl.LayersModel;
  /** Absent when `gan.mode` is 'none'. */
  discriminator?: tfl.LayersModel;
  /** Parsed with `ganConfigSchema`: fields left out take its defaults. */
  gan: z.input<typeof ganConfigSchema>;
  optim: OptimConfig;
  /** 'ab-classes' only: the rebalancing weight of each of the class head's bins (`[Q]`). */
  classWeights?: Float32Array;
}

/** The class head's pieces a colour-class loss needs. */
interface ClassTraining {
  /** The generator up to its class logits (same layers, same variables). */
  logits: tfl.LayersModel;
  bins: AbBins;
  weights: Float32Array;
}

/**
 * Stateful trainer over a generator (and discriminator). Tensors in: `input` `[N, h, w, Cin]`,
 * `target` `[N, H, W, Cout]` in the task's encoding. Owns two Adam optimisers.
 */
export class Pix2PixTrainer {
  readonly generator: tfl.LayersModel;
  readonly discriminator?: tfl.LayersModel;
  readonly gan: GanConfig;
  readonly optimG: tf.AdamOptimizer;
  readonly optimD?: tf.AdamOptimizer;
  private readonly baseLr: number;
  private readonly baseLrD: number;
  /** No batch norm in D: each sample's logits depend on that sample alone. */
  private readonly discriminatorIsPerSample: boolean;
  private readonly classes?: ClassTraining;
  /** The seed of the current step's WGAN-GP draw (see {@link trainStep}). */
  private stepSeed: number | undefined;

  constructor(options: Pix2PixOptions) {
    this.generator = options.generator;
    this.gan = ganConfigSchema.parse(options.gan);
    const { lr, beta1, beta2 } = options.optim;
    this.baseLr = lr;
    this.baseLrD = options.optim.lrD ?? lr;
    this.optimG = adam(lr, beta1, beta2, 1e-8);
    this.discriminatorIsPerSample = !options.discriminator?.layers.some((layer) => layer.getClassName() === 'BatchNormalization');
    if (this.gan.mode !== 'none') {
      if (!options.discriminator) throw new Error(`gan mode "${this.gan.mode}" needs a discriminator`);
      this.discriminator = options.discriminator;
      this.optimD = adam(this.baseLrD, beta1, beta2, 1e-8);
    }
    if (this.gan.pixelLoss === 'ab-classes') this.classes = classTraining(this.generator, this.gan, options.classWeights);
  }

  private generatorVariables(): tf.Variable[] {
    return this.generator.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  }

  private discriminatorVariables(): tf.Variable[] {
    return (this.discriminator?.trainableWeights ?? []).map((w) => (w as unknown as { val: tf.Variable }).val);
  }

  /** Scales both learning rates by `factor` of their base value (for the decay schedule). */
  setLearningRateFactor(factor: number): void {
    (this.optimG as unknown as { learningRate: number }).learningRate = this.baseLr * factor;
    if (this.optimD) (this.optimD as unknown as { learningRate: number }).learningRate = this.baseLrD * factor;
  }

  /**
   * One generator update. Returns the losses and the generated batch (`[N, H, W, Cout]`, kept: the
   * caller disposes it) for the discriminator step that follows.
   */
  generatorStep(input: tf.Tensor4D, target: tf.Tensor4D): { fake: tf.Tensor4D; pixel: tf.Scalar; gan: tf.Scalar; total: tf.Scalar } {
    let fake: tf.Tensor4D | undefined;
    let pixel: tf.Scalar | undefined;
    let ganLoss: tf.Scalar | undefined;
    const classTargets = this.classes ? this.softTargets(target) : undefined;
    const total = this.optimG.minimize(
      () => {
        // A class head learns from its logits; `fake` is then those logits (no D trains on them).
        const out = (classTargets ? this.classes!.logits : this.generator).apply(input, { training: true }) as tf.Tensor4D;
        fake = tf.keep(out);
        pixel = tf.keep(
          classTargets ? colourClassLoss(out, classTargets.targets, classTargets.pixelWeights) : pixelLoss(this.gan.pixelLoss as Exclude<PixelLoss, 'ab-classes'>, out, target),
        );
        let loss: tf.Scalar = tf.mul(pixel, this.gan.mode === 'none' ? 1 : this.gan.lambdaL1);
        if (this.discriminator && this.gan.mode !== 'none') {
          const logits = this.discriminator.apply(pairOf(input, out), { training: true }) as tf.Tensor;
          ganLoss = tf.keep(adversarialLoss(this.gan.mode, logits, true));
          loss = tf.add(loss, tf.mul(ganLoss, this.gan.lambdaGan));
        }
        return loss;
      },
      true,
      this.generatorVariables(),
    ) as tf.Scalar;
    tf.dispose([classTargets?.targets, classTargets?.pixelWeights].filter((t) => t !== undefined));
    return { fake: fake!, pixel: pixel!, gan: ganLoss ?? tf.scalar(0), total };
  }

  /** A class head's soft targets (`[P, Q]`) and pixel weights (`[P]`) for a target batch of a*b* / 110. */
  private softTargets(target: tf.Tensor4D): { targets: tf.Tensor2D; pixelWeights: tf.Tensor1D } {
    const classes = this.classes!;
    const [n, height, width] = target.shape;
    const ab = Float32Array.from(target.dataSync(), (v) => v * LAB_AB_SCALE);
    const soft = softColourTargets(ab, { n, height, width }, CLASS_HEAD_FACTOR, classes.bins, classes.weights);
    return {
      targets: tf.tensor2d(soft.targets, [soft.pixelWeights.length, classes.bins.count]),
      pixelWeights: tf.tensor1d(soft.pixelWeights),
    };
  }

  /** One discriminator update on real `target` vs `fake` (no gradient flows into G). */
  discriminatorStep(input: tf.Tensor4D, target: tf.Tensor4D, fake: tf.Tensor4D): tf.Scalar {
    const discriminator = this.discriminator;
    if (!discriminator || !this.optimD) return tf.scalar(0);
    const mode = this.gan.mode;
    return this.optimD.minimize(
      () => {
        let realLogits: tf.Tensor;
        let fakeLogits: tf.Tensor;
        if (this.discriminatorIsPerSample) {
          // One pass over real and fake together: same result (nothing mixes samples), fewer and
          // larger kernel calls.
          const both = discriminator.apply(tf.concat([pairOf(input, target), pairOf(input, fake)], 0), { training: true }) as tf.Tensor;
          [realLogits, fakeLogits] = tf.split(both, 2, 0) as [tf.Tensor, tf.Tensor];
        } else {
          realLogits = discriminator.apply(pairOf(input, target), { training: true }) as tf.Tensor;
          fakeLogits = discriminator.apply(pairOf(input, fake), { training: true }) as tf.Tensor;
        }
        let loss = tf.mul(tf.add(adversarialLoss(mode, realLogits, true), adversarialLoss(mode, fakeLogits, false)), 0.5) as tf.Scalar;
        if (mode === 'wgangp') loss = tf.add(loss, tf.mul(gradientPenalty(discriminator, input, target, fake, this.stepSeed), this.gan.gradientPenalty));
        return loss;
      },
      true,
      this.discriminatorVariables(),
    ) as tf.Scalar;
  }

  /**
   * G step then D step on one batch; reads the losses back (one sync per step).
   *
   * @param options.seed seeds the step's random draws (dropout masks, WGAN-GP's mixing weights), so
   *   that a run repeats exactly; give each step its own. Without it they are unseeded.
   */
  async trainStep(input: tf.Tensor4D, target: tf.Tensor4D, options: { seed?: number } = {}): Promise<StepLosses> {
    this.stepSeed = options.seed === undefined ? undefined : options.seed + 1;
    seedDropout(this.generator, options.seed);
    let g: ReturnType<Pix2PixTrainer['generatorStep']>;
    let lossD: tf.Scalar;
    try {
      g = this.generatorStep(input, target);
      lossD = this.discriminatorStep(input, target, g.fake);
    } finally {
      // Back to unseeded: a seed left on the layers would be saved with the checkpoint's topology.
      seedDropout(this.generator, undefined);
      this.stepSeed = undefined;
    }
    const values = await Promise.all([g.total.data(), g.gan.data(), g.pixel.data(), lossD.data()]);
    tf.dispose([g.fake, g.total, g.gan, g.pixel, lossD]);
    const [lossG, lossGGan, lossGL1, lossDValue] = values.map((v) => v[0] ?? Number.NaN) as [number, number, number, number];
    return { lossG, lossGGan, lossGL1, lossD: lossDValue };
  }

  dispose(): void {
    this.optimG.dispose();
    this.optimD?.dispose();
  }
}

/** The a*b* bins of a generator's class head (as its decoding layer stores them). */
export function classHeadBins(generator: tfl.LayersModel): AbBins {
  const decode = generator.layers.find((layer): layer is AbFromClassLogits => layer instanceof AbFromClassLogits);
  if (!decode) throw new Error("pixel loss 'ab-classes' needs a generator with a class head (--head classes)");
  return abBinsFrom(decode.centres);
}

function classTraining(generator: tfl.LayersModel, gan: GanConfig, weights: Float32Array | undefined): ClassTraining {
  if (gan.mode !== 'none') throw new Error("pixel loss 'ab-classes' trains a class head alone: use --gan none");
  const bins = classHeadBins(generator);
  if (!weights || weights.length !== bins.count) throw new Error(`pixel loss 'ab-classes' needs ${bins.count} bin weights, got ${weights?.length ?? 'none'}`);
  return {
    // Never disposed: its layers belong to the generator.
    logits: tfl.model({ inputs: generator.inputs, outputs: generator.getLayer(CLASS_LOGITS_LAYER).output as tfl.SymbolicTensor }),
    bins,
    weights,
  };
}

/**
 * pix2pix's schedule: constant learning rate for `constantSteps`, then linear decay to 0 over
 * `decaySteps`. Returns the factor applied to the base rate at `step` (0-based).
 */
export function learningRateFactor(step: number, constantSteps: number, decaySteps: number): number {
  if (step < constantSteps || decaySteps <= 0) return 1;
  return Math.max(0, 1 - (step - constantSteps) / decaySteps);
}
