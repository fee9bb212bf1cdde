import * as tf from '@tensorflow/tfjs-core';
import { Conv2DBackpropFilter, Conv2DBackpropInput, Tile, getKernel } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { registerWasmTrainingKernels } from './index';
import { initKernelTestBackends, randomValues, relativeError, seededRandom, valuesOn } from './test-utils';

/**
 * A miniature U-Net/PatchGAN-style net: strided conv down, batch-norm with a learned scale and
 * offset (whose gradient tiles per-channel values), leaky ReLU, transposed conv back up, a skip
 * concat, and a stride-1 head. Returns a scalar loss.
 */
function tinyNetLoss(input: tf.Tensor4D, target: tf.Tensor4D, p: Record<string, tf.Tensor>): tf.Scalar {
  const down = tf.conv2d(input, p.down as tf.Tensor4D, 2, 'same');
  const { mean, variance } = tf.moments(down, [0, 1, 2]);
  const normed = tf.batchNorm(down, mean, variance, p.offset as tf.Tensor1D, p.scale as tf.Tensor1D, 1e-3);
  const act = tf.leakyRelu(normed, 0.2) as tf.Tensor4D;
  const up = tf.conv2dTranspose(act, p.up as tf.Tensor4D, [input.shape[0], input.shape[1], input.shape[2], 6], 2, 'same');
  const skip = tf.concat([tf.relu(up), input], 3);
  const head = tf.conv2d(skip, p.head as tf.Tensor4D, 1, 'valid');
  const pred = tf.tanh(head);
  return tf.mean(tf.abs(tf.sub(pred, target)));
}

const INPUT: [number, number, number, number] = [3, 10, 10, 4];
const PARAM_SHAPES: Record<string, number[]> = {
  down: [4, 4, 4, 8],
  scale: [8],
  offset: [8],
  up: [4, 4, 6, 8],
  head: [3, 3, 10, 2],
};

describe('training gradients on wasm', () => {
  beforeAll(initKernelTestBackends);

  it('re-registration is a no-op and keeps our kernels', () => {
    const before = [Conv2DBackpropFilter, Conv2DBackpropInput, Tile].map((name) => getKernel(name, 'wasm')?.kernelFunc);
    const warn = vi.spyOn(console, 'warn');
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    const after = [Conv2DBackpropFilter, Conv2DBackpropInput, Tile].map((name) => getKernel(name, 'wasm')?.kernelFunc);
    expect(after).toEqual(before);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('tf.grads of a small conv net match cpu', async () => {
    const random = seededRandom(42);
    const input = randomValues(random, INPUT.reduce((a, b) => a * b));
    const target = randomValues(random, 3 * 8 * 8 * 2).map((v) => Math.tanh(v));
    const params = Object.fromEntries(
      Object.entries(PARAM_SHAPES).map(([name, shape]) => [
        name,
        name === 'scale' ? randomValues(random, shape[0]!).map((v) => 1 + 0.1 * v) : randomValues(random, shape.reduce((a, b) => a * b)).map((v) => 0.3 * v),
      ]),
    );
    const names = Object.keys(PARAM_SHAPES);
    const gradients = () => {
      const p = Object.fromEntries(names.map((name) => [name, tf.tensor(params[name]!, PARAM_SHAPES[name])]));
      const x = tf.tensor4d(input, INPUT);
      const y = tf.tensor4d(target, [3, 8, 8, 2]);
      const { value, grads } = tf.valueAndGrads((...values: tf.Tensor[]) =>
        tinyNetLoss(x, y, Object.fromEntries(names.map((name, i) => [name, values[i]!]))),
      )(names.map((name) => p[name]!));
      return [value, ...grads];
    };
    const ours = await valuesOn('wasm', gradients);
    const reference = await valuesOn('cpu', gradients);
    expect(ours[0]![0]).toBeCloseTo(reference[0]![0]!, 4);
    names.forEach((name, i) => {
      const norm = Math.hypot(...reference[i + 1]!);
      expect(norm, `${name} gradient is not trivially zero`).toBeGreaterThan(1e-3);
      expect(relativeError(ours[i + 1]!, reference[i + 1]!), `${name} gradient`).toBeLessThan(1e-4);
    });
  });

  it('a gradient step leaks no tensors', () => {
    const random = seededRandom(8);
    const vars = Object.fromEntries(
      Object.entries(PARAM_SHAPES).map(([name, shape]) => [name, tf.variable(tf.tensor(randomValues(random, shape.reduce((a, b) => a * b)), shape))]),
    );
    const x = tf.randomNormal(INPUT) as tf.Tensor4D;
    const y = tf.randomNormal([3, 8, 8, 2]) as tf.Tensor4D;
    const optimizer = tf.train.adam(1e-3);
    const step = () => optimizer.minimize(() => tinyNetLoss(x, y, vars), false, Object.values(vars));
    step(); // creates the optimizer's slots
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    tf.dispose([x, y, ...Object.values(vars)]);
  });
});
