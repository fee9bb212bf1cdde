import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initKernelTestBackends, randomValues, relativeError, seededRandom, valuesOn } from '@/lib/tf/kernels/test-utils';
import { AbFromClassLogits, ExpandedConv2D, foldExpandedKernel, InstanceNorm, PaddedConv2D, registerCustomLayers } from './layers';

interface Case {
  shape: [number, number, number, number];
  filters: number;
  stride: number;
}

const CASES: Case[] = [
  { shape: [2, 9, 7, 5], filters: 6, stride: 2 },
  { shape: [1, 8, 8, 3], filters: 4, stride: 1 },
  { shape: [3, 11, 6, 2], filters: 1, stride: 1 },
  { shape: [2, 16, 16, 8], filters: 16, stride: 2 },
];

function layerWith(kernel: Float32Array, c: Case, useBias: boolean): tfl.LayersModel {
  registerCustomLayers();
  const input = tfl.input({ shape: [null, null, c.shape[3]] });
  const conv = new PaddedConv2D({ filters: c.filters, kernelSize: 4, strides: c.stride, padding: 1, useBias });
  const model = tfl.model({ inputs: input, outputs: conv.apply(input) as tfl.SymbolicTensor });
  const weights: tf.Tensor[] = [tf.tensor4d(kernel, [4, 4, c.shape[3], c.filters])];
  if (useBias) weights.push(tf.fill([c.filters], 0.25));
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

describe('PaddedConv2D (PyTorch-style k4 p1 convolution)', () => {
  beforeAll(initKernelTestBackends);

  it('equals ZeroPadding2D + a valid Conv2D, with the documented output shape', () => {
    const random = seededRandom(5);
    for (const c of CASES) {
      const kernel = randomValues(random, 16 * c.shape[3] * c.filters);
      const x = tf.tensor4d(randomValues(random, c.shape.reduce((a, b) => a * b, 1)), [...c.shape]);
      const model = layerWith(kernel, c, true);
      const ours = model.predict(x) as tf.Tensor;
      const reference = tf.tidy(() => tf.add(tf.conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), tf.tensor4d(kernel, [4, 4, c.shape[3], c.filters]), c.stride, 'valid'), 0.25));
      expect(ours.shape).toEqual(reference.shape);
      const side = (n: number) => Math.floor((n + 2 - 4) / c.stride) + 1;
      expect(ours.shape).toEqual([c.shape[0], side(c.shape[1]), side(c.shape[2]), c.filters]);
      expect(relativeError(ours.dataSync(), reference.dataSync())).toBeLessThan(1e-5);
      tf.dispose([x, ours, reference]);
      model.dispose();
    }
  });

  it('input and kernel gradients on wasm match cpu', async () => {
    const random = seededRandom(9);
    for (const c of CASES) {
      const kernel = randomValues(random, 16 * c.shape[3] * c.filters);
      const input = randomValues(random, c.shape.reduce((a, b) => a * b, 1));
      const grads = () => {
        const model = layerWith(kernel, c, false);
        const weight = (model.trainableWeights[0] as unknown as { val: tf.Variable }).val;
        const x = tf.tensor4d(input, [...c.shape]);
        // A non-uniform upstream gradient, so every output position matters differently.
        const loss = () => tf.sum(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar;
        const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.square(model.apply(v) as tf.Tensor)))(x);
        const { grads: dw } = tf.variableGrads(loss, [weight]);
        const result = [dx, dw[weight.name]!];
        model.dispose();
        return result;
      };
      const ours = await valuesOn('wasm', grads);
      const reference = await valuesOn('cpu', grads);
      expect(relativeError(ours[0]!, reference[0]!), `dx ${c.shape}`).toBeLessThan(1e-4);
      expect(relativeError(ours[1]!, reference[1]!), `dW ${c.shape}`).toBeLessThan(1e-4);
    }
  });

  it('survives a save / load round trip', async () => {
    const c = CASES[0]!;
    const model = layerWith(randomValues(seededRandom(2), 16 * c.shape[3] * c.filters), c, true);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomUniform([...c.shape]) as tf.Tensor4D;
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });
});

/** A model of one ExpandedConv2D with every factor random (spread included, which starts at zero). */
function expandedWith(random: () => number, cin: number, filters: number, expansion: number, activation?: 'relu'): tfl.LayersModel {
  registerCustomLayers();
  const input = tfl.input({ shape: [null, null, cin] });
  const layer = new ExpandedConv2D({ filters, expansion, activation, name: 'expanded' });
  const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
  const m = cin * expansion;
  const weights = [
    tf.tensor4d(randomValues(random, 9 * cin * filters), [3, 3, cin, filters]),
    tf.tensor4d(randomValues(random, cin * m), [1, 1, cin, m]),
    tf.tensor4d(randomValues(random, 9 * m * filters), [3, 3, m, filters]),
    tf.tensor1d(randomValues(random, filters)),
  ];
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/** The unfolded branches: conv3x3(x, K) + conv3x3(conv1x1(x, E), S) + b, then the activation. */
function branches(x: tf.Tensor4D, [k, e, sp, b]: tf.Tensor[], relu: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const plain = tf.conv2d(x, k as tf.Tensor4D, 1, 'same');
    const expanded = tf.conv2d(tf.conv2d(x, e as tf.Tensor4D, 1, 'same'), sp as tf.Tensor4D, 1, 'same');
    const y = tf.add(tf.add(plain, expanded), b!);
    return (relu ? tf.relu(y) : y) as tf.Tensor4D;
  });
}

const EXPANDED_CASES = [
  { shape: [2, 9, 7, 5] as [number, number, number, number], filters: 6, expansion: 2 },
  { shape: [1, 8, 8, 3] as [number, number, number, number], filters: 4, expansion: 3 },
  { shape: [3, 5, 11, 8] as [number, number, number, number], filters: 8, expansion: 1 },
];

describe('ExpandedConv2D (over-parameterised 3x3 conv, folded for inference)', () => {
  beforeAll(initKernelTestBackends);

  it('equals its unfolded branches, and its folded weights as one plain conv2d', () => {
    const random = seededRandom(21);
    for (const c of EXPANDED_CASES) {
      for (const relu of [false, true]) {
        const model = expandedWith(random, c.shape[3], c.filters, c.expansion, relu ? 'relu' : undefined);
        const x = tf.tensor4d(randomValues(random, c.shape.reduce((a, b) => a * b, 1)), [...c.shape]);
        const ours = model.predict(x) as tf.Tensor4D;
        const weights = model.getWeights();
        const reference = branches(x, weights, relu);
        expect(ours.shape).toEqual([...c.shape.slice(0, 3), c.filters]);
        expect(relativeError(ours.dataSync(), reference.dataSync()), `${c.shape} relu ${relu}`).toBeLessThan(1e-5);
        const [kernel, bias] = (model.getLayer('expanded') as ExpandedConv2D).foldedWeights();
        const plain = tf.tidy(() => {
          const y = tf.add(tf.conv2d(x, kernel, 1, 'same'), bias);
          return relu ? tf.relu(y) : y;
        });
        expect(relativeError(plain.dataSync(), reference.dataSync())).toBeLessThan(1e-5);
        // getWeights() returns the variables' own tensors: the model disposes them.
        tf.dispose([x, ours, reference, kernel, bias, plain]);
        model.dispose();
      }
    }
  });

  it('foldExpandedKernel composes a 1x1 then a 3x3 exactly (zero padding commutes with a bias-free 1x1)', () => {
    const random = seededRandom(22);
    const e = tf.tensor4d(randomValues(random, 4 * 7), [1, 1, 4, 7]);
    const sp = tf.tensor4d(randomValues(random, 9 * 7 * 5), [3, 3, 7, 5]);
    const x = tf.tensor4d(randomValues(random, 2 * 6 * 9 * 4), [2, 6, 9, 4]);
    const folded = foldExpandedKernel(e, sp);
    expect(folded.shape).toEqual([3, 3, 4, 5]);
    const [a, b] = tf.tidy(() => [tf.conv2d(x, folded, 1, 'same'), tf.conv2d(tf.conv2d(x, e, 1, 'same'), sp, 1, 'same')]);
    expect(relativeError(a!.dataSync(), b!.dataSync())).toBeLessThan(1e-5);
    tf.dispose([e, sp, x, folded, a!, b!]);
  });

  it('gradients of every factor on wasm match the unfolded branches on cpu', async () => {
    for (const [i, c] of EXPANDED_CASES.entries()) {
      const input = randomValues(seededRandom(30 + i), c.shape.reduce((a, b) => a * b, 1));
      const upstream = randomValues(seededRandom(40 + i), c.shape[0] * c.shape[1] * c.shape[2] * c.filters);
      // Same seed on both backends: the same random factors.
      const ours = await valuesOn('wasm', () => {
        const model = expandedWith(seededRandom(50 + i), c.shape[3], c.filters, c.expansion, 'relu');
        const x = tf.tensor4d(input, [...c.shape]);
        const r = tf.tensor4d(upstream, [...c.shape.slice(0, 3), c.filters] as [number, number, number, number]);
        const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x) as tf.Tensor, r)) as tf.Scalar, vars);
        const result = vars.map((v) => grads[v.name]!);
        model.dispose();
        return result;
      });
      const reference = await valuesOn('cpu', () => {
        const model = expandedWith(seededRandom(50 + i), c.shape[3], c.filters, c.expansion, 'relu');
        const weights = model.getWeights().map((w) => w.clone());
        model.dispose();
        const x = tf.tensor4d(input, [...c.shape]);
        const r = tf.tensor4d(upstream, [...c.shape.slice(0, 3), c.filters] as [number, number, number, number]);
        const f = (k: tf.Tensor, e: tf.Tensor, sp: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(branches(x, [k, e, sp, b], true), r));
        return tf.grads(f)(weights);
      });
      expect(ours.length).toBe(4);
      for (const [k, name] of ['kernel', 'expand', 'spread', 'bias'].entries()) {
        expect(relativeError(ours[k]!, reference[k]!), `d${name} ${c.shape}`).toBeLessThan(1e-4);
      }
    }
  });

  it('starts as its plain kernel, takes a plain conv as itself, and survives a save / load round trip', async () => {
    registerCustomLayers();
    const input = tfl.input({ shape: [null, null, 3] });
    const layer = new ExpandedConv2D({ filters: 4, expansion: 2, name: 'expanded', seed: 3 });
    const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
    const x = tf.randomUniform([1, 6, 5, 3], -1, 1, 'float32', 4) as tf.Tensor4D;
    const [kernel0, , spread0] = model.getWeights();
    expect(tf.tidy(() => tf.max(tf.abs(spread0!)).dataSync()[0])).toBe(0);
    const fresh = model.predict(x) as tf.Tensor;
    const plainFresh = tf.conv2d(x, kernel0 as tf.Tensor4D, 1, 'same');
    expect(relativeError(fresh.dataSync(), plainFresh.dataSync())).toBeLessThan(1e-6);

    const plainKernel = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 5);
    const plainBias = tf.randomNormal([4], 0, 1, 'float32', 6);
    tf.tidy(() => model.setWeights([kernel0!, tf.randomNormal([1, 1, 3, 6], 0, 1, 'float32', 7), tf.randomNormal([3, 3, 6, 4], 0, 1, 'float32', 8), plainBias]));
    const before = tf.memory().numTensors;
    layer.setPlainWeights([plainKernel, plainBias]);
    expect(tf.memory().numTensors).toBe(before);
    const loaded = model.predict(x) as tf.Tensor;
    const plain = tf.add(tf.conv2d(x, plainKernel as tf.Tensor4D, 1, 'same'), plainBias);
    expect(relativeError(loaded.dataSync(), plain.dataSync())).toBeLessThan(1e-6);
    tf.dispose([plainKernel, plainBias, loaded, plain]);

    tf.tidy(() => model.setWeights(model.getWeights().map((w, i) => (i === 2 ? tf.randomNormal(w.shape, 0, 0.1, 'float32', 9) : w))));
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const restored = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const [a, b] = [model.predict(x) as tf.Tensor, restored.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(() => new ExpandedConv2D({ filters: 4, expansion: 0 })).toThrow(/expansion/);
    tf.dispose([x, fresh, plainFresh, a, b]);
    model.dispose();
    restored.dispose();
  });
});

describe('AbFromClassLogits (annealed-mean decoding of colour classes)', () => {
  beforeAll(initKernelTestBackends);
  const centres = [0, 0, 10, -20, -30, 40, 50, 50];

  /** softmax(logits / T) . centres / scale, per pixel, in plain JS. */
  function reference(logits: Float32Array, q: number, temperature: number, scale: number): Float32Array {
    const out = new Float32Array((logits.length / q) * 2);
    for (let p = 0; p < logits.length / q; p++) {
      const row = Array.from(logits.subarray(p * q, (p + 1) * q), (l) => l / temperature);
      const max = Math.max(...row);
      const e = row.map((v) => Math.exp(v - max));
      const sum = e.reduce((s, v) => s + v, 0);
      for (let k = 0; k < q; k++) {
        out[p * 2]! += (e[k]! / sum) * centres[k * 2]! / scale;
        out[p * 2 + 1]! += (e[k]! / sum) * centres[k * 2 + 1]! / scale;
      }
    }
    return out;
  }

  function decoder(temperature: number): tfl.LayersModel {
    registerCustomLayers();
    const input = tfl.input({ shape: [null, null, 4] });
    const layer = new AbFromClassLogits({ centres, temperature, abScale: 110, name: 'decode' });
    return tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
  }

  it('matches softmax(logits / T) . centres / 110; low T approaches the most likely bin; no tensor leak', () => {
    const logitValues = randomValues(seededRandom(4), 2 * 3 * 5 * 4).map((v) => v * 3);
    for (const temperature of [1, 0.38]) {
      const model = decoder(temperature);
      const logits = tf.tensor4d(logitValues, [2, 3, 5, 4]);
      (model.predict(logits) as tf.Tensor).dispose(); // the centres tensor is made once, on the first call
      const before = tf.memory().numTensors;
      const out = model.predict(logits) as tf.Tensor;
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(out.shape).toEqual([2, 3, 5, 2]);
      expect(relativeError(out.dataSync() as Float32Array, reference(logitValues, 4, temperature, 110))).toBeLessThan(1e-5);
      tf.dispose([logits, out]);
      model.dispose();
    }
    const sharp = decoder(0.01);
    const oneHot = tf.tensor4d([0, 0, 5, 0], [1, 1, 1, 4]);
    const picked = sharp.predict(oneHot) as tf.Tensor;
    expect(Array.from(picked.dataSync()).map((v) => v * 110)).toEqual([expect.closeTo(-30, 3), expect.closeTo(40, 3)]);
    tf.dispose([oneHot, picked]);
    sharp.dispose();
    expect(() => new AbFromClassLogits({ centres, temperature: 0, abScale: 110 })).toThrow(/temperature/);
  });

  it('survives a save / load round trip (centres and temperature in its config)', async () => {
    const model = decoder(0.5);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomNormal([1, 4, 4, 4]) as tf.Tensor4D;
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });
});

describe('InstanceNorm statistics modes (thumbnail instance normalisation at inference)', () => {
  it('captures the statistics of its input, and normalises with given ones when fixed', () => {
    registerCustomLayers();
    const norm = new InstanceNorm({ seed: 3 });
    const thumbnail = tf.tensor4d(randomValues(seededRandom(11), 6 * 5 * 4), [1, 6, 5, 4]);
    const tile = tf.tensor4d(randomValues(seededRandom(12), 4 * 7 * 4), [1, 4, 7, 4]);
    const before = tf.memory().numTensors;
    tf.engine().startScope();
    try {
      const own = norm.apply(tile) as tf.Tensor;
      norm.statisticsMode = { kind: 'capture' };
      const captured = norm.apply(thumbnail) as tf.Tensor;
      const mode = norm.statisticsMode;
      if (mode.kind !== 'capture' || !mode.captured) throw new Error('nothing captured');
      const expected = tf.moments(thumbnail, [1, 2], true);
      expect(relativeError(mode.captured.mean.dataSync(), expected.mean.dataSync())).toBeLessThan(1e-6);
      expect(relativeError(mode.captured.variance.dataSync(), expected.variance.dataSync())).toBeLessThan(1e-6);
      // Capturing does not change the layer's output.
      norm.statisticsMode = { kind: 'own' };
      expect(relativeError(captured.dataSync(), (norm.apply(thumbnail) as tf.Tensor).dataSync())).toBeLessThan(1e-6);

      norm.statisticsMode = { kind: 'fixed', statistics: mode.captured };
      const fixed = norm.apply(tile) as tf.Tensor;
      const [gamma, beta] = norm.getWeights();
      const reference = tf.add(tf.mul(tf.div(tf.sub(tile, expected.mean), tf.sqrt(tf.add(expected.variance, 1e-5))), gamma!), beta!);
      expect(relativeError(fixed.dataSync(), reference.dataSync())).toBeLessThan(1e-5);
      // ...which is not what the tile's own statistics give.
      expect(relativeError(fixed.dataSync(), own.dataSync())).toBeGreaterThan(0.05);
    } finally {
      const mode = norm.statisticsMode;
      if (mode.kind === 'fixed') tf.dispose([mode.statistics.mean, mode.statistics.variance]);
      norm.statisticsMode = { kind: 'own' };
      tf.engine().endScope();
      tf.dispose([thumbnail, tile]);
    }
    // The layer's weights are all it keeps.
    expect(tf.memory().numTensors).toBe(before - 2 + norm.getWeights().length);
  });
});
