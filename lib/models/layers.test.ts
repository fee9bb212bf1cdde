import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initKernelTestBackends, randomValues, relativeError, seededRandom, valuesOn } from '@/lib/tf/kernels/test-utils';
import { PaddedConv2D, registerCustomLayers } from './layers';

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
