import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@/lib/tf/backend';
import { buildSeeded, buildSrNet, buildUnetGenerator, countParams, foldForInference, seedDropout, type Norm } from './generators';
import { ExpandedConv2D } from './layers';

beforeAll(async () => {
  await initBackend('cpu');
});

/** Std of the innermost encoder activations over that of the input, for a fresh seeded U-Net. */
function bottleneckGain(norm: Norm): number {
  const depth = 5;
  const model = buildSeeded(3, () => buildUnetGenerator({ kind: 'unet', inputChannels: 1, outputChannels: 2, ngf: 8, depth, norm, dropout: 0 }));
  const probe = tfl.model({ inputs: model.inputs, outputs: model.getLayer(`enc${depth - 1}_conv`).output as tfl.SymbolicTensor });
  const gain = tf.tidy(() => {
    const input = tf.randomNormal([2, 64, 64, 1], 0, 1, 'float32', 5);
    const out = probe.predict(input) as tf.Tensor;
    const std = (t: tf.Tensor) => tf.sqrt(tf.moments(t).variance).dataSync()[0]!;
    return std(out) / std(input);
  });
  model.dispose();
  return gain;
}

describe('buildUnetGenerator initialisation', () => {
  it('keeps the signal scale through the levels without norm layers (He init), which N(0, 0.02) would not', () => {
    // With norm layers the scale is restored after every level, so pix2pix's small init is harmless there.
    const withoutNorm = bottleneckGain('none');
    expect(withoutNorm).toBeGreaterThan(0.2);
    expect(withoutNorm).toBeLessThan(5);
  });
});

describe('srnet with expansion, folded for inference', () => {
  it('folds into the plain srnet (same names, same size, no expanded layers) computing the same function, leaking nothing', () => {
    const cfg = { kind: 'srnet', scale: 2, channels: 3, features: 8, blocks: 2, expansion: 2 } as const;
    const trained = buildSeeded(4, () => buildSrNet(cfg));
    expect(trained.layers.filter((l) => l instanceof ExpandedConv2D).length).toBe(4);
    // Give every factor (the zero-initialised spread too) random values, as training would.
    tf.tidy(() => trained.setWeights(trained.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.05, 'float32', 100 + i))));
    const before = tf.memory().numTensors;
    const { model: plain, architecture } = foldForInference(trained, cfg);
    expect(architecture).toEqual({ ...cfg, expansion: 0 });
    expect(plain.layers.some((l) => l instanceof ExpandedConv2D)).toBe(false);
    const reference = buildSrNet({ ...cfg, expansion: 0 });
    expect(countParams(plain)).toBe(countParams(reference));
    expect(countParams(trained)).toBeGreaterThan(countParams(plain));
    const [a, b] = tf.tidy(() => {
      const x = tf.randomUniform([2, 9, 11, 3], 0, 1, 'float32', 7);
      return [trained.predict(x) as tf.Tensor, plain.predict(x) as tf.Tensor];
    });
    expect(a!.shape).toEqual([2, 18, 22, 3]);
    const maxDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(a!, b!))).dataSync()[0]!);
    expect(maxDiff).toBeLessThan(1e-5);
    tf.dispose([a!, b!]);
    plain.dispose();
    reference.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // A plain srnet is returned as it is.
    expect(foldForInference(trained, { ...cfg, expansion: 0 }).model).toBe(trained);
    trained.dispose();
  });
});

describe('U-Net with a colour-class head', () => {
  const cfg = { kind: 'unet', inputChannels: 1, outputChannels: 2, ngf: 4, depth: 3, norm: 'none', dropout: 0, outputActivation: 'tanh', classHead: { grid: 20, temperature: 0.38 } } as const;

  it('outputs a*b* / 110 at full size from half-size logits; exports at another temperature with the same weights', () => {
    const model = buildSeeded(4, () => buildUnetGenerator(cfg));
    const logits = model.getLayer('class_logits');
    // Spread the logits so the temperature matters.
    const spread = [tf.randomNormal(logits.getWeights()[0]!.shape, 0, 3, 'float32', 8), tf.zeros(logits.getWeights()[1]!.shape)];
    logits.setWeights(spread);
    tf.dispose(spread);
    const input = tf.randomUniform([2, 16, 24, 1], -1, 1, 'float32', 9);
    (model.predict(input) as tf.Tensor).dispose(); // the decoder keeps its centres from the first call on
    const before = tf.memory().numTensors;
    const { model: warmer, architecture } = foldForInference(model, cfg, { temperature: 1 });
    expect(architecture).toEqual({ ...cfg, classHead: { grid: 20, temperature: 1 } });
    const [a, b] = [model.predict(input) as tf.Tensor, warmer.predict(input) as tf.Tensor];
    expect(a.shape).toEqual([2, 16, 24, 2]);
    // Same weights, other decoding: T = 1 is the plain mean, closer to grey than T = 0.38.
    warmer.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(model.getWeights()[i]!.dataSync())));
    const chroma = (t: tf.Tensor) => tf.tidy(() => tf.mean(tf.abs(t)).dataSync()[0]!);
    expect(chroma(b)).toBeLessThan(chroma(a));
    tf.dispose([a, b]);
    warmer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => foldForInference(model, { kind: 'srnet', scale: 2, channels: 3, features: 8, blocks: 1, expansion: 0 }, { temperature: 0.5 })).toThrow(/class head/);
    expect(() => buildUnetGenerator({ ...cfg, outputChannels: 3 })).toThrow(/2 channels/);
    input.dispose();
    model.dispose();
  });
});

describe('seedDropout', () => {
  it('makes training passes with dropout repeatable: the same seed draws the same masks, another seed others', () => {
    const model = buildSeeded(2, () => buildUnetGenerator({ kind: 'unet', inputChannels: 1, outputChannels: 2, ngf: 2, depth: 7, norm: 'none', dropout: 0.5 }));
    const x = tf.randomUniform([1, 128, 128, 1], -1, 1, 'float32', 3);
    const pass = () => tf.tidy(() => Array.from((model.apply(x, { training: true }) as tf.Tensor).dataSync()));
    expect(seedDropout(model, 987651)).toBe(2);
    const a = pass();
    expect(pass()).toEqual(a);
    seedDropout(model, 987652);
    expect(pass()).not.toEqual(a);
    // Unseeded again: the saved topology carries no seed.
    seedDropout(model, undefined);
    expect(JSON.stringify(model.toJSON(null, false))).not.toContain('"seed":98765');
    x.dispose();
    model.dispose();
  });
});
