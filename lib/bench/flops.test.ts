import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPatchGan, buildUnetGenerator } from '@/lib/models/generators';
import { initBackend } from '@/lib/tf/backend';
import { Pix2PixTrainer } from '@/lib/train/pix2pix';
import { inferenceFlops, layerCosts, passFlops, pix2pixStepFlops, type LayerCost } from './flops';

// Tiny colorize-shaped models: G 1 -> 2 channels, U-Net depth 2, ngf 2; D on 3 channels, 1 layer, ndf 2.
const tinyG = () => buildUnetGenerator({ kind: 'unet', inputChannels: 1, outputChannels: 2, ngf: 2, depth: 2, norm: 'instance', dropout: 0 });
const tinyD = () => buildPatchGan({ kind: 'patchgan', inputChannels: 3, ndf: 2, nLayers: 1, norm: 'instance' });

// Hand computation for batch 2, 8x8 crops (multiply-adds = positions x taps x Cin x Cout):
// G enc0  conv   8x8x1 -> 4x4x2 (k4 s2 same):          2*4*4*2 * 16 * 1 = 1024
// G enc1  conv   4x4x2 -> 2x2x4:                        2*2*2*4 * 16 * 2 = 1024
// G dec1  deconv 2x2x4 -> 4x4x2 (per input pixel):      2*2*2*4 * 16 * 2 = 1024
// G dec0  deconv concat(dec1, enc0) 4x4x4 -> 8x8x2:     2*4*4*4 * 16 * 2 = 4096
const G_MACS = 2 * 4 * 4 * 2 * 16 * 1 + 2 * 2 * 2 * 4 * 16 * 2 + 2 * 2 * 2 * 4 * 16 * 2 + 2 * 4 * 4 * 4 * 16 * 2;
// D d0     conv k4 s2 p1: 8x8x3 -> 4x4x2:  2*4*4*2 * 16 * 3 = 3072
// D d1     conv k4 s1 p1: 4x4x2 -> 3x3x4:  2*3*3*4 * 16 * 2 = 2304
// D logits conv k4 s1 p1: 3x3x4 -> 2x2x1:  2*2*2*1 * 16 * 4 =  512
const D0_MACS = 2 * 4 * 4 * 2 * 16 * 3;
const D_MACS = D0_MACS + 2 * 3 * 3 * 4 * 16 * 2 + 2 * 2 * 2 * 1 * 16 * 4;

describe('layerCosts', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('gives the hand-computed shapes and multiply-adds of a tiny U-Net', () => {
    const g = tinyG();
    const costs = layerCosts(g, [2, 8, 8, 1]);
    expect(costs.map((c) => [c.name, c.kind, c.outputShape, c.macs])).toEqual([
      ['enc0_conv', 'conv2d', [2, 4, 4, 2], 1024],
      ['enc1_conv', 'conv2d', [2, 2, 2, 4], 1024],
      ['dec1_deconv', 'conv2dTranspose', [2, 4, 4, 2], 1024],
      ['dec0_deconv', 'conv2dTranspose', [2, 8, 8, 2], 4096],
    ]);
    // Only the first layer sees nothing but the raw input.
    expect(costs.map((c) => c.inputAfterTrainable)).toEqual([false, true, true, true]);
    expect(costs.map((c) => c.fusedGradient)).toEqual([true, true, false, false]);
    expect(costs.reduce((s, c) => s + c.macs, 0)).toBe(G_MACS);
    g.dispose();
  });

  it('gives the PatchGAN\'s k4 p1 shapes (padding inside the conv layer)', () => {
    const d = tinyD();
    const costs = layerCosts(d, [2, 8, 8, 3]);
    expect(costs.map((c) => [c.name, c.inputShape, c.outputShape, c.fusedGradient])).toEqual([
      ['d0_conv', [2, 8, 8, 3], [2, 4, 4, 2], false],
      ['d1_conv', [2, 4, 4, 2], [2, 3, 3, 4], false],
      ['logits', [2, 3, 3, 4], [2, 2, 2, 1], false],
    ]);
    expect(costs.reduce((s, c) => s + c.macs, 0)).toBe(D_MACS);
    d.dispose();
  });

  it('agrees with the shape the model really produces', () => {
    const g = buildUnetGenerator({ kind: 'unet', inputChannels: 3, outputChannels: 3, ngf: 4, depth: 4, norm: 'batch', dropout: 0.5 });
    const costs = layerCosts(g, [1, 32, 32, 3]);
    const out = g.predict(tf.zeros([1, 32, 32, 3])) as tf.Tensor;
    expect(costs.at(-1)!.outputShape).toEqual(out.shape);
    out.dispose();
    g.dispose();
  });

  it('counts a dense layer as a matrix product and refuses layers it has no rule for', () => {
    const input = tfl.input({ shape: [5] });
    const dense = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 7 }).apply(input) as tfl.SymbolicTensor });
    expect(layerCosts(dense, [3, 5]).map((c) => [c.kind, c.macs])).toEqual([['dense', 3 * 5 * 7]]);
    dense.dispose();
    const image = tfl.input({ shape: [8, 8, 2] });
    const separable = tfl.model({ inputs: image, outputs: tfl.layers.separableConv2d({ filters: 2, kernelSize: 3 }).apply(image) as tfl.SymbolicTensor });
    expect(() => layerCosts(separable, [1, 8, 8, 2])).toThrow(/no FLOP rule/);
    separable.dispose();
  });
});

describe('passFlops', () => {
  const cost = (macs: number, fusedGradient: boolean, inputAfterTrainable: boolean): LayerCost => ({
    name: 'x',
    kind: 'conv2d',
    inputShape: [],
    outputShape: [],
    macs,
    fusedGradient,
    inputAfterTrainable,
  });

  it('skips the input gradient of an unfused first layer but not of a fused one', () => {
    const train = { backward: true, inputRequiresGrad: false, weightsRequireGrad: true };
    expect(passFlops([cost(10, false, false)], train)).toEqual({ forward: 20, inputGrad: 0, filterGrad: 20 });
    expect(passFlops([cost(10, true, false)], train)).toEqual({ forward: 20, inputGrad: 20, filterGrad: 20 });
  });

  it('skips filter gradients of frozen unfused layers and everything at inference', () => {
    const throughFrozen = { backward: true, inputRequiresGrad: true, weightsRequireGrad: false };
    expect(passFlops([cost(10, false, true)], throughFrozen)).toEqual({ forward: 20, inputGrad: 20, filterGrad: 0 });
    expect(passFlops([cost(10, true, true)], throughFrozen)).toEqual({ forward: 20, inputGrad: 20, filterGrad: 20 });
    expect(passFlops([cost(10, true, true)], { backward: false, inputRequiresGrad: false, weightsRequireGrad: false })).toEqual({ forward: 20, inputGrad: 0, filterGrad: 0 });
  });
});

/** Multiply-adds of a convolution kernel call, from the shapes tf.profile recorded. */
function kernelMacs(kernel: { name: string; inputShapes: number[][]; outputShapes: number[][] }): number {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const [a, b] = kernel.inputShapes as [number[], number[]];
  const out = kernel.outputShapes[0]!;
  switch (kernel.name) {
    case 'Conv2D':
    case 'FusedConv2D': // x, filter [kh, kw, cin, cout] -> y
      return size(out) * b[0]! * b[1]! * b[2]!;
    case 'Conv2DBackpropInput': // dy, filter [kh, kw, cin, cout] -> dx (also conv2dTranspose)
      return size(a) * b[0]! * b[1]! * b[2]!;
    case 'Conv2DBackpropFilter': // x, dy -> filter [kh, kw, cin, cout]
      return size(b) * out[0]! * out[1]! * out[2]!;
    default:
      return 0;
  }
}

describe('pix2pixStepFlops', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('matches the hand count: G forward + both gradients; D three times forward, filter gradients only in the D update', () => {
    const g = tinyG();
    const d = tinyD();
    const flops = pix2pixStepFlops(g, d, { batch: 2, size: 8, inputChannels: 1, outputChannels: 2 });
    // G: every layer gets both gradients (enc0's input gradient comes from the fused conv).
    expect(flops.generatorUpdate.generator).toEqual({ forward: 2 * G_MACS, inputGrad: 2 * G_MACS, filterGrad: 2 * G_MACS });
    // D inside the G update: the gradient flows through D to the fake image; D's filter gradients are not computed.
    expect(flops.generatorUpdate.discriminator).toEqual({ forward: 2 * D_MACS, inputGrad: 2 * D_MACS, filterGrad: 0 });
    // D update: real and fake pairs; nothing needs the gradient of D's input image.
    expect(flops.discriminatorUpdate.discriminator).toEqual({ forward: 4 * D_MACS, inputGrad: 4 * (D_MACS - D0_MACS), filterGrad: 4 * D_MACS });
    expect(flops.total).toBe(2 * (3 * G_MACS + 8 * D_MACS - 2 * D0_MACS));
    expect(inferenceFlops(g, 1, 8, 1)).toBe(G_MACS); // batch 1 = half of batch 2, times 2 FLOPs
    g.dispose();
    d.dispose();
  });

  it('equals the convolution work tfjs actually runs in a training step and an inference', async () => {
    const g = buildUnetGenerator({ kind: 'unet', inputChannels: 1, outputChannels: 2, ngf: 2, depth: 3, norm: 'instance', dropout: 0.5 });
    const d = buildPatchGan({ kind: 'patchgan', inputChannels: 3, ndf: 2, nLayers: 2, norm: 'instance' });
    const trainer = new Pix2PixTrainer({
      generator: g,
      discriminator: d,
      gan: { mode: 'vanilla', lambdaL1: 100, lambdaGan: 1, gradientPenalty: 10 },
      optim: { lr: 2e-4, beta1: 0.5, beta2: 0.999 },
    });
    const x = tf.randomUniform([2, 32, 32, 1], -1, 1) as tf.Tensor4D;
    const y = tf.randomUniform([2, 32, 32, 2], -1, 1) as tf.Tensor4D;
    await trainer.trainStep(x, y); // creates the optimiser slots outside the profile
    const before = tf.memory().numTensors;
    const step = await tf.profile(async () => {
      await trainer.trainStep(x, y);
    });
    expect(tf.memory().numTensors).toBe(before);
    const measured = step.kernels.reduce((s, k) => s + kernelMacs(k), 0);
    expect(measured).toBeGreaterThan(0);
    expect(2 * measured).toBe(pix2pixStepFlops(g, d, { batch: 2, size: 32, inputChannels: 1, outputChannels: 2 }).total);

    const one = tf.randomUniform([1, 32, 32, 1], -1, 1);
    const infer = await tf.profile(() => {
      (g.predict(one) as tf.Tensor).dispose();
    });
    expect(2 * infer.kernels.reduce((s, k) => s + kernelMacs(k), 0)).toBe(inferenceFlops(g, 1, 32, 1));
    tf.dispose([x, y, one]);
    trainer.dispose();
    g.dispose();
    d.dispose();
  });
});
