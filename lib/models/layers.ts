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

interface InstanceNormArgs {
  epsilon?: number;
  affine?: boolean;
  name?: string;
  /** Seed of the gamma initialiser (not serialised: saved models carry their weights). */
  seed?: number;
}

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
      const { mean, variance } = tf.moments(x, [1, 2], true);
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

let registered = false;

/** Registers the custom layer classes and missing gradients; safe to call any number of times. */
export function registerCustomLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(InstanceNorm as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  tf.serialization.registerClass(PixelShuffle as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  tf.serialization.registerClass(UpsampleBilinear as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  tf.serialization.registerClass(PaddedConv2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  registerDepthToSpaceGradient();
  registerComparisonGradients();
  registered = true;
}

/** Loads a tfjs layers model saved in folder `dir` (`model.json` + weights), our custom layers included. */
export async function loadLayersFrom(dir: string): Promise<tfl.LayersModel> {
  registerCustomLayers();
  return tfl.loadLayersModel(fileSystemIO(dir));
}
