import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@/lib/tf/backend';
import { buildPatchGan, buildSeeded, buildSrNet, buildUnetGenerator } from '@/lib/models/generators';
import { abGamutBins } from '@/lib/image/ab-classes';
import { adversarialLoss, colourClassLoss, gradientPenalty, learningRateFactor, LUMA_LOSS_CHROMA_WEIGHT, Pix2PixTrainer, pixelLoss } from './pix2pix';

const snapshot = (model: tfl.LayersModel) => model.getWeights().map((w) => Float32Array.from(w.dataSync()));
const changed = (before: Float32Array[], model: tfl.LayersModel) =>
  model.getWeights().some((w, i) => {
    const a = w.dataSync();
    const b = before[i]!;
    return a.some((v, k) => v !== b[k]);
  });

function tinyPair() {
  const generator = buildUnetGenerator({ kind: 'unet', inputChannels: 1, outputChannels: 2, ngf: 4, depth: 3, norm: 'instance', dropout: 0 });
  const discriminator = buildPatchGan({ kind: 'patchgan', inputChannels: 3, ndf: 4, nLayers: 2, norm: 'instance' });
  return { generator, discriminator };
}

describe('pix2pix GAN trio (wasm backend)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('gives the documented output shapes', () => {
    const { generator, discriminator } = tinyPair();
    const fake = tf.tidy(() => generator.predict(tf.zeros([2, 32, 32, 1])) as tf.Tensor);
    expect(fake.shape).toEqual([2, 32, 32, 2]);
    const range = tf.tidy(() => [tf.min(fake).dataSync()[0]!, tf.max(fake).dataSync()[0]!]);
    expect(range[0]).toBeGreaterThanOrEqual(-1);
    expect(range[1]).toBeLessThanOrEqual(1);
    const logits = tf.tidy(() => discriminator.predict(tf.zeros([2, 32, 32, 3])) as tf.Tensor);
    // nLayers 2: 32 -> 16 -> 8 (stride 2) -> 7 (stride 1, k4 p1) -> 6 (logits).
    expect(logits.shape).toEqual([2, 6, 6, 1]);
    const paper = buildPatchGan({ kind: 'patchgan', inputChannels: 3, ndf: 2 });
    const big = tf.tidy(() => paper.predict(tf.zeros([1, 256, 256, 3])) as tf.Tensor);
    expect(big.shape).toEqual([1, 30, 30, 1]);
    tf.dispose([fake, logits, big]);
    const sr = buildSrNet({ kind: 'srnet', scale: 4, features: 8, blocks: 1 });
    const up = tf.tidy(() => sr.predict(tf.zeros([1, 7, 9, 3])) as tf.Tensor);
    expect(up.shape).toEqual([1, 28, 36, 3]);
    up.dispose();
  });

  it('does not leak tensors across steps', async () => {
    const { generator, discriminator } = tinyPair();
    const trainer = new Pix2PixTrainer({ generator, discriminator, gan: { mode: 'vanilla', lambdaL1: 100, lambdaGan: 1, gradientPenalty: 10 }, optim: { lr: 2e-4, beta1: 0.5, beta2: 0.999 } });
    const input = tf.randomUniform([2, 32, 32, 1], -1, 1) as tf.Tensor4D;
    const target = tf.randomUniform([2, 32, 32, 2], -1, 1) as tf.Tensor4D;
    await trainer.trainStep(input, target); // burn-in creates the optimiser slots
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await trainer.trainStep(input, target);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([input, target]);
    trainer.dispose();
  });

  it('moves only D in a D step and only G in a G step', () => {
    const { generator, discriminator } = tinyPair();
    const trainer = new Pix2PixTrainer({ generator, discriminator, gan: { mode: 'lsgan', lambdaL1: 100, lambdaGan: 1, gradientPenalty: 10 }, optim: { lr: 1e-2, beta1: 0.5, beta2: 0.999 } });
    const input = tf.randomUniform([1, 32, 32, 1], -1, 1) as tf.Tensor4D;
    const target = tf.randomUniform([1, 32, 32, 2], -1, 1) as tf.Tensor4D;
    let g0 = snapshot(generator);
    let d0 = snapshot(discriminator);
    const step = trainer.generatorStep(input, target);
    expect(changed(g0, generator)).toBe(true);
    expect(changed(d0, discriminator)).toBe(false);
    g0 = snapshot(generator);
    d0 = snapshot(discriminator);
    const lossD = trainer.discriminatorStep(input, target, step.fake);
    expect(changed(g0, generator)).toBe(false);
    expect(changed(d0, discriminator)).toBe(true);
    tf.dispose([input, target, step.fake, step.pixel, step.gan, step.total, lossD]);
    trainer.dispose();
  });

  it('a D step scores real and fake as separate passes would (merged for instance norm, apart for batch norm)', () => {
    for (const norm of ['instance', 'batch'] as const) {
      const generator = buildUnetGenerator({ kind: 'unet', inputChannels: 1, outputChannels: 2, ngf: 4, depth: 3, norm, dropout: 0 });
      const discriminator = buildPatchGan({ kind: 'patchgan', inputChannels: 3, ndf: 4, nLayers: 2, norm });
      const trainer = new Pix2PixTrainer({ generator, discriminator, gan: { mode: 'vanilla', lambdaL1: 100, lambdaGan: 1, gradientPenalty: 10 }, optim: { lr: 1e-3, beta1: 0.5, beta2: 0.999 } });
      const input = tf.randomUniform([2, 32, 32, 1], -1, 1) as tf.Tensor4D;
      const target = tf.randomUniform([2, 32, 32, 2], -1, 1) as tf.Tensor4D;
      const fake = tf.randomUniform([2, 32, 32, 2], -1, 1) as tf.Tensor4D;
      const expected = tf.tidy(() => {
        const real = discriminator.apply(tf.concat([input, target], 3), { training: true }) as tf.Tensor;
        const generated = discriminator.apply(tf.concat([input, fake], 3), { training: true }) as tf.Tensor;
        return tf.mul(tf.add(adversarialLoss('vanilla', real, true), adversarialLoss('vanilla', generated, false)), 0.5).dataSync()[0]!;
      });
      const lossD = trainer.discriminatorStep(input, target, fake);
      expect(lossD.dataSync()[0], norm).toBeCloseTo(expected, 5);
      tf.dispose([input, target, fake, lossD]);
      trainer.dispose();
    }
  });

  it('wgangp: the gradient penalty matches a critic whose input gradient is known', () => {
    // A 1x1 linear conv critic: d sum(D) / d candidate = its candidate-channel weights at every pixel,
    // so ||grad|| = sqrt(H * W * (w1^2 + w2^2)) whatever the mixing weights are.
    const critic = tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [null, null, 3], filters: 1, kernelSize: 1, useBias: false })] });
    const w = [0.3, -0.02, 0.05];
    critic.setWeights([tf.tensor4d(w, [1, 1, 3, 1])]);
    const input = tf.randomUniform([2, 4, 5, 1]) as tf.Tensor4D;
    const real = tf.randomUniform([2, 4, 5, 2]) as tf.Tensor4D;
    const fake = tf.randomUniform([2, 4, 5, 2]) as tf.Tensor4D;
    const penalty = gradientPenalty(critic, input, real, fake);
    const expected = (Math.sqrt(4 * 5 * (w[1]! ** 2 + w[2]! ** 2)) - 1) ** 2;
    expect(penalty.dataSync()[0]).toBeCloseTo(expected, 5);
    tf.dispose([input, real, fake, penalty]);
    critic.dispose();
  });

  it('wgangp: trains with finite losses, no leaks, and the penalty reaches D\'s weights', async () => {
    const { generator, discriminator } = tinyPair();
    const gan = { mode: 'wgangp' as const, lambdaL1: 100, lambdaGan: 1, gradientPenalty: 10 };
    const trainer = new Pix2PixTrainer({ generator, discriminator, gan, optim: { lr: 1e-4, beta1: 0.5, beta2: 0.9 } });
    const input = tf.randomUniform([2, 32, 32, 1], -1, 1) as tf.Tensor4D;
    const target = tf.randomUniform([2, 32, 32, 2], -1, 1) as tf.Tensor4D;
    await trainer.trainStep(input, target);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const losses = await trainer.trainStep(input, target);
      for (const v of Object.values(losses)) expect(Number.isFinite(v)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    const fake = tf.randomUniform([2, 32, 32, 2], -1, 1) as tf.Tensor4D;
    const weights = discriminator.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
    const { grads } = tf.variableGrads(() => gradientPenalty(discriminator, input, target, fake), weights);
    const norm = tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
    expect(norm).toBeGreaterThan(0);
    expect(Number.isFinite(norm)).toBe(true);
    tf.dispose([input, target, fake, ...Object.values(grads)]);
    trainer.dispose();
  });

  it('reduces the L1 loss of a plain regression (mode none)', async () => {
    const generator = buildSeeded(13, () => buildSrNet({ kind: 'srnet', scale: 2, features: 8, blocks: 1 }));
    const trainer = new Pix2PixTrainer({ generator, gan: { mode: 'none', lambdaL1: 1, lambdaGan: 0, gradientPenalty: 0 }, optim: { lr: 1e-2, beta1: 0.9, beta2: 0.999 } });
    const target = tf.tidy(() => tf.image.resizeBilinear(tf.randomUniform([2, 4, 4, 3], 0, 1, 'float32', 6) as tf.Tensor4D, [16, 16]));
    const input = tf.tidy(() => tf.image.resizeBilinear(target, [8, 8]));
    const first = await trainer.trainStep(input, target);
    let last = first;
    for (let i = 0; i < 30; i++) last = await trainer.trainStep(input, target);
    expect(last.lossGL1).toBeLessThan(first.lossGL1 * 0.8);
    tf.dispose([input, target]);
    trainer.dispose();
  });

  it('reports and lowers the pixel loss it was asked for: L1 by default, the mean squared error with l2, luma-weighted L1', async () => {
    const target = tf.tidy(() => tf.image.resizeBilinear(tf.randomUniform([2, 4, 4, 3], 0, 1, 'float32', 5) as tf.Tensor4D, [16, 16]));
    const input = tf.tidy(() => tf.image.resizeBilinear(target, [8, 8]));
    for (const kind of ['l1', 'l2', 'l1-luma'] as const) {
      // Seeded: from some random starts 30 steps at lr 1e-2 overshoot, and the test must not depend on the draw.
      const generator = buildSeeded(12, () => buildSrNet({ kind: 'srnet', scale: 2, features: 8, blocks: 1 }));
      const trainer = new Pix2PixTrainer({ generator, gan: { mode: 'none', pixelLoss: kind, lambdaL1: 1 }, optim: { lr: 1e-2, beta1: 0.9, beta2: 0.999 } });
      const expected = tf.tidy(() => {
        const output = generator.predict(input) as tf.Tensor4D;
        const error = tf.sub(output, target);
        if (kind === 'l1-luma') return lumaL1Reference(output.dataSync() as Float32Array, target.dataSync() as Float32Array);
        return (kind === 'l2' ? tf.mean(tf.square(error)) : tf.mean(tf.abs(error))).dataSync()[0]!;
      });
      const first = await trainer.trainStep(input, target);
      expect(first.lossGL1).toBeCloseTo(expected, 5);
      let last = first;
      for (let i = 0; i < 30; i++) last = await trainer.trainStep(input, target);
      expect(last.lossGL1).toBeLessThan(first.lossGL1 * 0.8);
      trainer.dispose();
    }
    tf.dispose([input, target]);
  });
});

/** Plain-JS reference of the 'l1-luma' loss: mean over pixels of |dY| + w |dCb| + w |dCr| (BT.601). */
function lumaL1Reference(output: Float32Array, target: Float32Array): number {
  const w = LUMA_LOSS_CHROMA_WEIGHT;
  let sum = 0;
  for (let i = 0; i < output.length; i += 3) {
    const [dr, dg, db] = [output[i]! - target[i]!, output[i + 1]! - target[i + 1]!, output[i + 2]! - target[i + 2]!];
    const y = 0.299 * dr + 0.587 * dg + 0.114 * db;
    const cb = -0.168736 * dr - 0.331264 * dg + 0.5 * db;
    const cr = 0.5 * dr - 0.418688 * dg - 0.081312 * db;
    sum += Math.abs(y) + w * Math.abs(cb) + w * Math.abs(cr);
  }
  return sum / (output.length / 3);
}

describe('pixel losses', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it("'l1-luma' matches a plain-JS reference, costs a grey error as 'l1' does and a luma-free colour error less, and leaks nothing", () => {
    const output = tf.randomUniform([2, 5, 7, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    const target = tf.randomUniform([2, 5, 7, 3], 0, 1, 'float32', 12) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const luma = pixelLoss('l1-luma', output, target);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(luma.dataSync()[0]!).toBeCloseTo(lumaL1Reference(output.dataSync() as Float32Array, target.dataSync() as Float32Array), 5);
    // The same error in R, G and B (a brightness error): exactly its L1.
    const grey = tf.tidy(() => tf.add(target, tf.tile(tf.randomUniform([2, 5, 7, 1], -0.2, 0.2, 'float32', 13), [1, 1, 1, 3]))) as tf.Tensor4D;
    const [greyLuma, greyL1] = [pixelLoss('l1-luma', grey, target), pixelLoss('l1', grey, target)];
    expect(greyLuma.dataSync()[0]!).toBeCloseTo(greyL1.dataSync()[0]!, 5);
    // A colour shift that leaves luma unchanged (more red, less green) costs less than under 'l1'.
    const red = tf.tidy(() => tf.add(target, tf.tensor1d([0.3, (-0.3 * 0.299) / 0.587, 0]))) as tf.Tensor4D;
    const [redLuma, redL1] = [pixelLoss('l1-luma', red, target), pixelLoss('l1', red, target)];
    expect(redLuma.dataSync()[0]!).toBeLessThan(redL1.dataSync()[0]!);
    expect(() => pixelLoss('l1-luma', tf.zeros([1, 2, 2, 2]) as tf.Tensor4D, tf.zeros([1, 2, 2, 2]) as tf.Tensor4D)).toThrow(/3 channels/);
    tf.dispose([output, target, luma, grey, greyLuma, greyL1, red, redLuma, redL1]);
  });
});

/** Plain-JS reference of the colour-class loss: per-pixel cross-entropy against soft targets, weighted, averaged. */
function colourClassReference(logits: Float32Array, q: number, targets: Float32Array, weights: Float32Array): number {
  const pixels = logits.length / q;
  let total = 0;
  for (let p = 0; p < pixels; p++) {
    const row = Array.from(logits.subarray(p * q, (p + 1) * q));
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
    let ce = 0;
    for (let c = 0; c < q; c++) ce -= targets[p * q + c]! * (row[c]! - logSum);
    total += ce * weights[p]!;
  }
  return total / pixels;
}

describe('colour-class loss (Zhang et al. 2016)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('matches a plain-JS reference, checks its shapes, and leaks nothing', () => {
    const q = 9;
    const logits = tf.randomNormal([2, 3, 4, q], 0, 2, 'float32', 21) as tf.Tensor4D;
    const raw = tf.randomUniform([24, q], 0, 1, 'float32', 22);
    const targets = tf.div(raw, tf.sum(raw, 1, true)) as tf.Tensor2D;
    const weights = tf.randomUniform([24], 0.2, 3, 'float32', 23) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    const loss = colourClassLoss(logits, targets, weights);
    expect(tf.memory().numTensors).toBe(before + 1);
    const expected = colourClassReference(logits.dataSync() as Float32Array, q, targets.dataSync() as Float32Array, weights.dataSync() as Float32Array);
    expect(loss.dataSync()[0]!).toBeCloseTo(expected, 4);
    expect(() => colourClassLoss(logits, tf.zeros([23, q]) as tf.Tensor2D, weights)).toThrow(/do not fit/);
    tf.dispose([logits, raw, targets, weights, loss]);
  });

  it('trains a class head: the loss falls, outputs are a*b* at full size, no leaks; refuses a GAN or missing weights', async () => {
    const head = { grid: 20, temperature: 0.38 };
    const generator = buildUnetGenerator({ kind: 'unet', inputChannels: 1, outputChannels: 2, ngf: 4, depth: 3, norm: 'none', dropout: 0, classHead: head });
    const q = abGamutBins(20).count;
    const optim = { lr: 5e-3, beta1: 0.9, beta2: 0.999 };
    expect(() => new Pix2PixTrainer({ generator, gan: { mode: 'none', pixelLoss: 'ab-classes' }, optim })).toThrow(/bin weights/);
    expect(() => new Pix2PixTrainer({ generator, discriminator: tinyPair().discriminator, gan: { mode: 'vanilla', pixelLoss: 'ab-classes' }, optim, classWeights: new Float32Array(q).fill(1) })).toThrow(/--gan none/);
    const trainer = new Pix2PixTrainer({ generator, gan: { mode: 'none', pixelLoss: 'ab-classes' }, optim, classWeights: new Float32Array(q).fill(1) });
    const input = tf.randomUniform([2, 16, 16, 1], -1, 1, 'float32', 31) as tf.Tensor4D;
    // Colour that follows the input: a learnable mapping.
    const target = tf.tidy(() => tf.concat([tf.mul(input, 0.4), tf.mul(input, -0.3)], 3)) as tf.Tensor4D;
    const first = await trainer.trainStep(input, target);
    const burnIn = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 25; i++) last = await trainer.trainStep(input, target);
    expect(tf.memory().numTensors).toBe(burnIn);
    expect(last.lossGL1).toBeLessThan(first.lossGL1 * 0.8);
    const out = generator.predict(input) as tf.Tensor;
    expect(out.shape).toEqual([2, 16, 16, 2]);
    const values = out.dataSync();
    expect(values.every((v) => Number.isFinite(v) && Math.abs(v) < 1.2)).toBe(true);
    tf.dispose([input, target, out]);
    trainer.dispose();
    generator.dispose();
  });
});

describe('learning-rate schedule', () => {
  it('is constant then decays linearly to zero', () => {
    expect(learningRateFactor(0, 100, 100)).toBe(1);
    expect(learningRateFactor(99, 100, 100)).toBe(1);
    expect(learningRateFactor(150, 100, 100)).toBeCloseTo(0.5);
    expect(learningRateFactor(200, 100, 100)).toBe(0);
    expect(learningRateFactor(500, 100, 0)).toBe(1);
  });
});
