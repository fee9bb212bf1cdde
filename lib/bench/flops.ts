/**
 * Analytic FLOP counts of convolutions, transposed convolutions and matrix products in a built
 * tfjs-layers model, and of one pix2pix training step (G update + D update) as the engine in
 * `lib/train/pix2pix.ts` executes it.
 *
 * Conventions: one multiply-add = 2 FLOPs; every kernel tap is counted, including taps that land
 * on zero padding (the usual convention of FLOP counters); bias adds, normalisation, activations
 * and the optimiser are not counted (they are memory-bound and small next to the convolutions).
 */
import type * as tfl from '@tensorflow/tfjs-layers';

export type CountedKind = 'conv2d' | 'conv2dTranspose' | 'dense';

/** One counted layer at concrete input shape. */
export interface LayerCost {
  name: string;
  kind: CountedKind;
  /** Concrete `[N, H, W, C]` (or `[N, ..., C]` for dense) shapes. */
  inputShape: number[];
  outputShape: number[];
  /** Multiply-adds of the forward pass; the input gradient and the filter gradient each cost the same. */
  macs: number;
  /**
   * Whether tfjs runs the layer through a fused op with a custom gradient (`tf.fused.conv2d`,
   * `tf.fused.matMul` with a linear activation). Such a gradient computes the input AND the filter
   * gradient whenever any gradient reaches the layer, needed or not.
   */
  fusedGradient: boolean;
  /** Whether the layer's input depends on a trainable weight of the same model. */
  inputAfterTrainable: boolean;
}

type Shape = (number | null)[];

function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

function concrete(shape: Shape, layer: string): number[] {
  if (shape.some((d) => d == null)) throw new Error(`layer ${layer}: shape ${JSON.stringify(shape)} is not concrete`);
  return shape as number[];
}

function pair(value: unknown): [number, number] {
  const v = Array.isArray(value) ? value : [value, value];
  return [Number(v[0]), Number(v[1] ?? v[0])];
}

/**
 * Walks `model`'s layers (topologically ordered, each used once, one output each: true for the
 * U-Net, PatchGAN and SR nets here) with a concrete input shape and returns the counted layers in
 * order. `inputShape` is `[N, H, W, C]` for the model's only input.
 */
export function layerCosts(model: tfl.LayersModel, inputShape: readonly number[]): LayerCost[] {
  if (model.inputs.length !== 1) throw new Error('layerCosts: models with one input only');
  const shapes = new Map<string, number[]>();
  const afterTrainable = new Map<string, boolean>();
  const costs: LayerCost[] = [];
  for (const layer of model.layers) {
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    if (layer.inboundNodes.length !== 1) throw new Error(`layerCosts: layer ${layer.name} is used ${layer.inboundNodes.length} times`);
    if (inbound.length === 0) {
      shapes.set(layer.name, [...inputShape]);
      afterTrainable.set(layer.name, false);
      continue;
    }
    const inputShapes = inbound.map((l) => {
      const s = shapes.get(l.name);
      if (!s) throw new Error(`layerCosts: ${layer.name} comes before its input ${l.name}`);
      return s;
    });
    const inputAfterTrainable = inbound.some((l) => afterTrainable.get(l.name) === true);
    const outputShape = concrete(layer.computeOutputShape(inputShapes.length === 1 ? inputShapes[0]! : inputShapes) as Shape, layer.name);
    shapes.set(layer.name, outputShape);
    afterTrainable.set(layer.name, inputAfterTrainable || layer.trainableWeights.length > 0);

    const className = layer.getClassName();
    const config = layer.getConfig();
    const input = inputShapes[0]!;
    const linear = config.activation == null || config.activation === 'linear';
    if (className === 'Conv2D') {
      const [kh, kw] = pair(config.kernelSize);
      const cin = input[input.length - 1]!;
      costs.push({ name: layer.name, kind: 'conv2d', inputShape: input, outputShape, macs: product(outputShape) * kh * kw * cin, fusedGradient: linear, inputAfterTrainable });
    } else if (className === 'PaddedConv2D') {
      // tf.conv2d with a numeric pad: per-input gradients, run only when needed (no fused gradient).
      const k = Number(config.kernelSize);
      const cin = input[input.length - 1]!;
      costs.push({ name: layer.name, kind: 'conv2d', inputShape: input, outputShape, macs: product(outputShape) * k * k * cin, fusedGradient: false, inputAfterTrainable });
    } else if (className === 'Conv2DTranspose') {
      // The transpose visits every input pixel once per tap and output channel.
      const [kh, kw] = pair(config.kernelSize);
      const cout = outputShape[outputShape.length - 1]!;
      costs.push({ name: layer.name, kind: 'conv2dTranspose', inputShape: input, outputShape, macs: product(input) * kh * kw * cout, fusedGradient: false, inputAfterTrainable });
    } else if (className === 'Dense') {
      const units = outputShape[outputShape.length - 1]!;
      costs.push({ name: layer.name, kind: 'dense', inputShape: input, outputShape, macs: product(input) * units, fusedGradient: linear, inputAfterTrainable });
    } else if (/conv|dense/i.test(className)) {
      // A layer kind this counter does not know would silently be left out of the total.
      throw new Error(`layerCosts: no FLOP rule for layer ${layer.name} (${className})`);
    }
  }
  return costs;
}

/** FLOPs of one pass of a model, split by what is computed. */
export interface PassFlops {
  forward: number;
  inputGrad: number;
  filterGrad: number;
}

export function totalOf(p: PassFlops): number {
  return p.forward + p.inputGrad + p.filterGrad;
}

function addPasses(...passes: PassFlops[]): PassFlops {
  return passes.reduce((a, b) => ({ forward: a.forward + b.forward, inputGrad: a.inputGrad + b.inputGrad, filterGrad: a.filterGrad + b.filterGrad }), {
    forward: 0,
    inputGrad: 0,
    filterGrad: 0,
  });
}

export interface PassOptions {
  /** Whether a backward pass runs at all (false: inference). */
  backward: boolean;
  /** Whether the model's input depends on the variables being differentiated (D inside the G update). */
  inputRequiresGrad: boolean;
  /** Whether this model's own weights are in the optimiser's variable list. */
  weightsRequireGrad: boolean;
}

/**
 * FLOPs of one forward (+ backward) pass over `costs`, following tfjs autodiff: a gradient is
 * computed for a tensor only on a path from the differentiated variables, except that fused ops
 * compute all their gradients at once (see {@link LayerCost.fusedGradient}).
 */
export function passFlops(costs: readonly LayerCost[], options: PassOptions): PassFlops {
  let forward = 0;
  let inputGrad = 0;
  let filterGrad = 0;
  for (const c of costs) {
    const flops = 2 * c.macs;
    forward += flops;
    if (!options.backward) continue;
    const inputNeedsGrad = options.inputRequiresGrad || (options.weightsRequireGrad && c.inputAfterTrainable);
    const reached = inputNeedsGrad || options.weightsRequireGrad;
    if (c.fusedGradient ? reached : inputNeedsGrad) inputGrad += flops;
    if (c.fusedGradient ? reached : options.weightsRequireGrad) filterGrad += flops;
  }
  return { forward, inputGrad, filterGrad };
}

export interface Pix2PixStepShape {
  batch: number;
  size: number;
  inputChannels: number;
  outputChannels: number;
}

export interface Pix2PixStepFlops {
  /** G forward + D forward on the fake pair + backward into G's weights (through D). */
  generatorUpdate: { generator: PassFlops; discriminator: PassFlops };
  /** D forward on the real pair and on the fake pair + backward into D's weights. */
  discriminatorUpdate: { discriminator: PassFlops };
  /** Everything above, in FLOPs. */
  total: number;
}

/**
 * FLOPs of one `Pix2PixTrainer.trainStep` (gan mode vanilla or lsgan; the wgangp penalty's double
 * backward is not modelled) for a U-Net generator and PatchGAN discriminator on square crops:
 * G sees `[batch, size, size, inputChannels]`, D sees `[batch, size, size, inputChannels + outputChannels]`.
 */
export function pix2pixStepFlops(generator: tfl.LayersModel, discriminator: tfl.LayersModel, shape: Pix2PixStepShape): Pix2PixStepFlops {
  const { batch, size, inputChannels, outputChannels } = shape;
  const g = layerCosts(generator, [batch, size, size, inputChannels]);
  const d = layerCosts(discriminator, [batch, size, size, inputChannels + outputChannels]);
  const gInG = passFlops(g, { backward: true, inputRequiresGrad: false, weightsRequireGrad: true });
  // D's input contains G's output, so the gradient flows through all of D; its weights are fixed here.
  const dInG = passFlops(d, { backward: true, inputRequiresGrad: true, weightsRequireGrad: false });
  const dOnce = passFlops(d, { backward: true, inputRequiresGrad: false, weightsRequireGrad: true });
  const dInD = addPasses(dOnce, dOnce); // real and fake pairs (one batched pass when D has no batch norm: same work)
  return {
    generatorUpdate: { generator: gInG, discriminator: dInG },
    discriminatorUpdate: { discriminator: dInD },
    total: totalOf(gInG) + totalOf(dInG) + totalOf(dInD),
  };
}

/** FLOPs of one generator forward pass on `[batch, size, size, inputChannels]` (inference). */
export function inferenceFlops(generator: tfl.LayersModel, batch: number, size: number, inputChannels: number): number {
  return passFlops(layerCosts(generator, [batch, size, size, inputChannels]), { backward: false, inputRequiresGrad: false, weightsRequireGrad: false }).forward;
}

/** FLOPs of `tf.matMul` of `[m, k]` by `[k, n]`. */
export function matMulFlops(m: number, k: number, n: number): number {
  return 2 * m * k * n;
}
