/**
 * Custom serialisable layers tfjs-layers lacks, and the `DepthToSpace` gradient tfjs 4.22 lacks.
 * {@link registerCustomLayers} must run before loading a saved model that uses them.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fileSystemIO } from '@/lib/model/io';

interface PaddedConv2DArgs {
  filters: number;
  kernelSize: number;
  strides: number;
  /** Zero padding on every side (PyTorch's `padding=p`). */
  padding: number;
  useBias: boolean;
  name?: string;
  /** Kernel initialiser (not serialised: saved models carry their weights). */
  kernelInitializer?: ReturnType<typeof tfl.initializers.randomNormal>;
}

/**
 * A square convolution with explicit symmetric zero padding, as PyTorch's `Conv2d(k, s, p)`.
 * Input `[N, H, W, Cin]`, output `[N, (H + 2p - k) / s + 1, ..., filters]`, any range.
 *
 * Why not ZeroPadding2D + Conv2D: tfjs-layers' Conv2D runs `tf.fused.conv2d`, whose gradient computes
 * the input and the filter gradients together, so a generator step pays for every discriminator
 * filter gradient it then throws away; and the padded input makes the input gradient cover the
 * padding too. `tf.conv2d` with a numeric pad has per-input gradients that run only when needed.
 */
export class PaddedConv2D extends tfl.layers.Layer {
  static readonly className = 'PaddedConv2D';
  private readonly filters: number;
  private readonly kernelSize: number;
  private readonly strides: number;
  private readonly padding: number;
  private readonly useBias: boolean;
  private readonly kernelInitializer?: ReturnType<typeof tfl.initializers.randomNormal>;
  private kernel?: tfl.LayerVariable;
  private bias?: tfl.LayerVariable;

  constructor({ filters, kernelSize, strides, padding, useBias, kernelInitializer, ...args }: PaddedConv2DArgs) {
    super(args);
    this.filters = filters;
    this.kernelSize = kernelSize;
    this.strides = strides;
    this.padding = padding;
    this.useBias = useBias;
    this.kernelInitializer = kernelInitializer;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number') throw new Error('PaddedConv2D needs a known channel count');
    const k = this.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, channels, this.filters], 'float32', this.kernelInitializer ?? tfl.initializers.glorotUniform({}));
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const side = (n: number | null) => (n === null ? null : Math.floor((n + 2 * this.padding - this.kernelSize) / this.strides) + 1);
    return [shape[0] ?? null, side(shape[1] ?? null), side(shape[2] ?? null), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const y = tf.conv2d(x, this.kernel!.read() as tf.Tensor4D, this.strides, this.padding);
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, useBias: this.useBias };
  }
}

interface ExpandedConv2DArgs {
  filters: number;
  /** Width of the expanded branch, as a multiple of the input channels (>= 1). */
  expansion: number;
  activation?: 'relu';
  name?: string;
  /** Initialiser of the plain 3x3 kernel (not serialised: saved models carry their weights). */
  kernelInitializer?: ReturnType<typeof tfl.initializers.randomNormal>;
  /** Seed of the expand kernel's initialiser (not serialised). */
  seed?: number;
}

/**
 * Folds the two factors of an expanded branch into one 3x3 kernel: a bias-free 1x1 convolution
 * `expand` `[1, 1, Cin, M]` followed by a 3x3 `spread` `[3, 3, M, F]` equals, with zero 'same'
 * padding, the single 3x3 convolution returned, `[3, 3, Cin, F]`:
 * `W[i, j, c, f] = sum_m expand[0, 0, c, m] * spread[i, j, m, f]`. Differentiable (training folds
 * on every step), any value range.
 */
export function foldExpandedKernel(expand: tf.Tensor4D, spread: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, m, f] = spread.shape;
    const cin = expand.shape[2];
    const spreadRows = tf.reshape(tf.transpose(spread, [2, 0, 1, 3]), [m, kh * kw * f]);
    const product = tf.matMul(tf.reshape(expand, [cin, m]), spreadRows);
    return tf.transpose(tf.reshape(product, [cin, kh, kw, f]), [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * A 3x3 'same' convolution (plus bias, optional ReLU) trained in an over-parameterised form:
 * its kernel is `kernel + fold(expand, spread)`, a plain 3x3 plus a 1x1 expansion to
 * `expansion * Cin` channels followed by a 3x3 back to `filters` (ExpandNets, Guo et al. 2020;
 * ECBSR, Zhang et al. 2021). The branches are linear, so the layer is exactly one 3x3 convolution
 * and folds into a plain `conv2d` for inference ({@link ExpandedConv2D.foldedWeights}); the extra
 * factors only change how training moves the kernel. The fold runs once per call on the kernels,
 * not on activations, so a training step costs about what the plain layer's does.
 * `spread` starts at zero: a fresh layer is its plain kernel, and a plain trained kernel can be
 * loaded into it unchanged ({@link ExpandedConv2D.setPlainWeights}).
 * Input `[N, H, W, Cin]`, output `[N, H, W, filters]`, any range.
 */
export class ExpandedConv2D extends tfl.layers.Layer {
  static readonly className = 'ExpandedConv2D';
  private readonly filters: number;
  private readonly expansion: number;
  private readonly activation?: 'relu';
  private readonly kernelInitializer?: ReturnType<typeof tfl.initializers.randomNormal>;
  private readonly seed?: number;
  private kernel?: tfl.LayerVariable;
  private expand?: tfl.LayerVariable;
  private spread?: tfl.LayerVariable;
  private bias?: tfl.LayerVariable;

  constructor({ filters, expansion, activation, kernelInitializer, seed, ...args }: ExpandedConv2DArgs) {
    super(args);
    if (!Number.isInteger(expansion) || expansion < 1) throw new Error(`ExpandedConv2D expansion must be an integer >= 1, got ${expansion}`);
    this.filters = filters;
    this.expansion = expansion;
    this.activation = activation;
    this.kernelInitializer = kernelInitializer;
    this.seed = seed;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number') throw new Error('ExpandedConv2D needs a known channel count');
    const m = this.expansion * channels;
    this.kernel = this.addWeight('kernel', [3, 3, channels, this.filters], 'float32', this.kernelInitializer ?? tfl.initializers.heNormal({}));
    // Orthogonal-ish random expansion so the spread factor's first gradients see every input channel.
    this.expand = this.addWeight('expand', [1, 1, channels, m], 'float32', tfl.initializers.glorotNormal({ seed: this.seed }));
    this.spread = this.addWeight('spread', [3, 3, m, this.filters], 'float32', tfl.initializers.zeros());
    this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [shape[0] ?? null, shape[1] ?? null, shape[2] ?? null, this.filters];
  }

  /** The single 3x3 kernel `[3, 3, Cin, filters]` this layer applies. */
  private effectiveKernel(): tf.Tensor4D {
    return tf.tidy(() =>
      tf.add(this.kernel!.read(), foldExpandedKernel(this.expand!.read() as tf.Tensor4D, this.spread!.read() as tf.Tensor4D)),
    ) as tf.Tensor4D;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const y = tf.add(tf.conv2d(x, this.effectiveKernel(), 1, 'same'), this.bias!.read());
      return this.activation === 'relu' ? tf.relu(y) : y;
    });
  }

  /** `[kernel [3, 3, Cin, filters], bias [filters]]` of the equivalent plain `conv2d` layer. */
  foldedWeights(): [tf.Tensor4D, tf.Tensor1D] {
    return [this.effectiveKernel(), tf.clone(this.bias!.read()) as tf.Tensor1D];
  }

  /** Loads a plain conv's `[kernel, bias]` and zeroes the spread factor: the layer becomes that conv. */
  setPlainWeights([kernel, bias]: tf.Tensor[]): void {
    if (!kernel || !bias) throw new Error(`${this.name}: a plain conv's weights are [kernel, bias]`);
    this.kernel!.write(kernel);
    this.bias!.write(bias);
    tf.tidy(() => {
      this.spread!.write(tf.zerosLike(this.spread!.read()));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, expansion: this.expansion, ...(this.activation ? { activation: this.activation } : {}) };
  }
}

interface InstanceNormArgs {
  epsilon?: number;
  affine?: boolean;
  name?: string;
  /** Seed of the gamma initialiser (not serialised: saved models carry their weights). */
  seed?: number;
}

/** Per-channel statistics of one {@link InstanceNorm} layer's input, each `[1, 1, 1, C]`. */
export interface InstanceStatistics {
  mean: tf.Tensor4D;
  variance: tf.Tensor4D;
}

/**
 * Where an {@link InstanceNorm} layer takes its statistics from at inference: its own input (the
 * default, as in training), its own input while keeping a copy of them (`capture`), or given ones
 * (`fixed`). Capturing on a thumbnail of a large image and fixing those for each of its tiles is
 * thumbnail instance normalisation (Chen et al., AAAI 2022): every tile is then normalised alike, so
 * their seams do not show as steps in brightness or colour.
 */
export type InstanceStatisticsMode = { kind: 'own' } | { kind: 'capture'; captured?: InstanceStatistics } | { kind: 'fixed'; statistics: InstanceStatistics };

/**
 * Instance normalisation (Ulyanov et al. 2016): per sample and channel, over height and width.
 * Input and output `[N, H, W, C]`, any range.
 */
export class InstanceNorm extends tfl.layers.Layer {
  static readonly className = 'InstanceNorm';
  private readonly epsilon: number;
  private readonly affine: boolean;
  private gamma?: tfl.LayerVariable;
  private beta?: tfl.LayerVariable;
  private readonly seed?: number;
  /**
   * Inference only, not serialised; set and reset around one image's runs by its caller (one image
   * at a time per model: `lib/infer/translate.ts`). Capturing again frees the previous copy; the last
   * one (or the fixed statistics) is the caller's to dispose.
   */
  statisticsMode: InstanceStatisticsMode = { kind: 'own' };

  constructor({ seed, ...args }: InstanceNormArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
    this.affine = args.affine ?? true;
    this.seed = seed;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number') throw new Error('InstanceNorm needs a known channel count');
    if (this.affine) {
      this.gamma = this.addWeight('gamma', [channels], 'float32', tfl.initializers.randomNormal({ mean: 1, stddev: 0.02, seed: this.seed }));
      this.beta = this.addWeight('beta', [channels], 'float32', tfl.initializers.zeros());
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const mode = this.statisticsMode;
      const { mean, variance } = mode.kind === 'fixed' ? mode.statistics : (tf.moments(x, [1, 2], true) as InstanceStatistics);
      if (mode.kind === 'capture') {
        tf.dispose([mode.captured?.mean, mode.captured?.variance]);
        mode.captured = { mean: tf.keep(mean.clone()), variance: tf.keep(variance.clone()) };
      }
      const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
      if (!this.gamma || !this.beta) return normalised;
      return tf.add(tf.mul(normalised, this.gamma.read()), this.beta.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon, affine: this.affine };
  }
}

interface PixelShuffleArgs {
  blockSize: number;
  name?: string;
}

/**
 * Sub-pixel upsampling (Shi et al. 2016): `[N, H, W, C*r*r]` -> `[N, H*r, W*r, C]` (`tf.depthToSpace`).
 */
export class PixelShuffle extends tfl.layers.Layer {
  static readonly className = 'PixelShuffle';
  readonly blockSize: number;

  constructor(args: PixelShuffleArgs) {
    super(args);
    this.blockSize = args.blockSize;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [n, h, w, c] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const r = this.blockSize;
    return [n ?? null, h == null ? null : h * r, w == null ? null : w * r, c == null ? null : c / (r * r)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.depthToSpace(x, this.blockSize, 'NHWC');
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), blockSize: this.blockSize };
  }
}

interface UpsampleArgs {
  scale: number;
  name?: string;
}

/**
 * Bilinear enlargement by an integer factor with half-pixel centres (pixel-aligned like bicubic
 * benchmarks expect; tfjs' UpSampling2D uses the shifted legacy mapping). `[N, h, w, C]` ->
 * `[N, h*s, w*s, C]`.
 */
export class UpsampleBilinear extends tfl.layers.Layer {
  static readonly className = 'UpsampleBilinear';
  readonly scale: number;

  constructor(args: UpsampleArgs) {
    super(args);
    this.scale = args.scale;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [n, h, w, c] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [n ?? null, h == null ? null : h * this.scale, w == null ? null : w * this.scale, c ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.image.resizeBilinear(x, [x.shape[1] * this.scale, x.shape[2] * this.scale], false, true);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}

/**
 * The inverse of `depthToSpace` for NHWC: `[N, H*r, W*r, C]` -> `[N, H, W, r*r*C]`, channel index
 * `(i*r + j)*C + c` as TensorFlow orders it. Built from reshape/transpose so it has gradients.
 */
export function spaceToDepth(x: tf.Tensor4D, blockSize: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, hr, wr, c] = x.shape;
    const r = blockSize;
    const h = hr / r;
    const w = wr / r;
    // Rank-6 transposes are avoided (not every backend has them): fold N*H first.
    const rows = tf.reshape(x, [n * h, r, w, r * c]); // [(n,h), i, w, (j,c)]
    const swapped = tf.transpose(rows, [0, 2, 1, 3]); // [(n,h), w, i, (j,c)]
    return tf.reshape(swapped, [n, h, w, r * r * c]);
  });
}

function registerDepthToSpaceGradient(): void {
  if (tf.getGradient('DepthToSpace')) return;
  tf.registerGradient({
    kernelName: 'DepthToSpace',
    gradFunc: (dy: tf.Tensor | tf.Tensor[], _saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const grad = Array.isArray(dy) ? dy[0]! : dy;
      const blockSize = (attrs as unknown as { blockSize: number }).blockSize;
      return { x: () => spaceToDepth(grad as tf.Tensor4D, blockSize) };
    },
  });
}

/**
 * Comparisons are piecewise constant, so their gradient is zero; tfjs 4.22 registers none, which
 * breaks second-order gradients (WGAN-GP's penalty differentiates LeakyReLU's gradient, built
 * on `Greater`).
 */
function registerComparisonGradients(): void {
  for (const kernelName of ['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual']) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [a, b] = saved as [tf.Tensor, tf.Tensor];
        return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
      },
    });
  }
}

interface AbFromClassLogitsArgs {
  /** Flat [a0, b0, a1, b1, ...] bin centres in a*b* units (see `abGamutBins`). */
  centres: number[];
  /** Annealing temperature in (0, 1]: 1 is the distribution's mean, towards 0 its mode. */
  temperature: number;
  /** The output is a*b* divided by this (the colorize task's encoding: 110). */
  abScale: number;
  name?: string;
}

/**
 * Colour-class logits to a*b* (Zhang et al. 2016, the annealed mean): `[N, H, W, Q]` logits ->
 * `[N, H, W, 2]` = softmax(logits / T) . centres / abScale, so in the colorize encoding, about
 * [-1, 1]. T = 1 is the mean of the predicted distribution (cautious, like a regression); lower T
 * moves towards its mode (vivid, but spatially less consistent); Zhang et al. use 0.38.
 */
export class AbFromClassLogits extends tfl.layers.Layer {
  static readonly className = 'AbFromClassLogits';
  readonly centres: number[];
  readonly temperature: number;
  readonly abScale: number;
  private centresTensor?: tf.Tensor2D;

  constructor(args: AbFromClassLogitsArgs) {
    super(args);
    if (args.centres.length % 2 !== 0 || args.centres.length === 0) throw new Error('AbFromClassLogits: centres must be [a, b] pairs');
    if (!(args.temperature > 0 && args.temperature <= 1)) throw new Error(`AbFromClassLogits: temperature must be in (0, 1], not ${args.temperature}`);
    this.centres = [...args.centres];
    this.temperature = args.temperature;
    this.abScale = args.abScale;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [n, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [n ?? null, h ?? null, w ?? null, 2];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const logits = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const [n, h, w, q] = logits.shape;
    if (q * 2 !== this.centres.length) throw new Error(`AbFromClassLogits: ${q} logits for ${this.centres.length / 2} bins`);
    // Kept across calls (not a weight: nothing to train or save beyond the config).
    this.centresTensor ??= tf.keep(tf.tensor2d(this.centres.map((v) => v / this.abScale), [q, 2]));
    return tf.tidy(() => {
      const probabilities = tf.softmax(tf.reshape(tf.div(logits, this.temperature), [n * h * w, q]));
      return tf.reshape(tf.matMul(probabilities, this.centresTensor!), [n, h, w, 2]);
    });
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      this.centresTensor?.dispose();
      this.centresTensor = undefined;
    }
    return result;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), centres: this.centres, temperature: this.temperature, abScale: this.abScale };
  }
}

let registered = false;

/** Registers the custom layer classes and missing gradients; safe to call any number of times. */
export function registerCustomLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(InstanceNorm as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  tf.serialization.registerClass(PixelShuffle as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  tf.serialization.registerClass(UpsampleBilinear as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  tf.serialization.registerClass(PaddedConv2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  tf.serialization.registerClass(ExpandedConv2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  tf.serialization.registerClass(AbFromClassLogits as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  registerDepthToSpaceGradient();
  registerComparisonGradients();
  registered = true;
}

/** Loads a tfjs layers model saved in folder `dir` (`model.json` + weights), our custom layers included. */
export async function loadLayersFrom(dir: string): Promise<tfl.LayersModel> {
  registerCustomLayers();
  return tfl.loadLayersModel(fileSystemIO(dir));
}
