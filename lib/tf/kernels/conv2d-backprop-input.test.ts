import * as tf from '@tensorflow/tfjs-core';
import { Conv2DBackpropInput, backend_util } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setSmallPhasePixels } from './conv2d-backprop-input';
import { isOurWasmKernel, originalWasmKernel } from './install';
import {
  type ConvCase,
  UNET_LIKE_CASES,
  describeCase,
  initKernelTestBackends,
  randomConvCases,
  randomValues,
  relativeError,
  seededRandom,
  valuesOn,
} from './test-utils';

function outShape(c: ConvCase): number[] {
  return backend_util.computeConv2DInfo(c.xShape, c.filterShape, c.strides, 1, c.pad).outShape;
}

function inputGradient(c: ConvCase, dy: Float32Array, filter: Float32Array): tf.Tensor {
  return tf.engine().runKernel(
    Conv2DBackpropInput,
    { dy: tf.tensor(dy, outShape(c)), filter: tf.tensor4d(filter, c.filterShape) },
    { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.xShape },
  ) as tf.Tensor;
}

describe('Conv2DBackpropInput on wasm', () => {
  beforeAll(initKernelTestBackends);

  it('replaces the shipped kernel and keeps it for fallbacks', () => {
    expect(isOurWasmKernel(Conv2DBackpropInput)).toBe(true);
    expect(originalWasmKernel(Conv2DBackpropInput)).toBeDefined();
  });

  const cases = [...UNET_LIKE_CASES, ...randomConvCases(4321, 60)];
  // Both implementations are checked on every geometry: Conv2D phases and matMul phases.
  it.each([
    ['Conv2D', 0],
    ['matMul', Number.POSITIVE_INFINITY],
  ])(`matches cpu on ${cases.length} geometries with %s phases`, async (_path, smallPixels) => {
    const previous = setSmallPhasePixels(smallPixels);
    const random = seededRandom(7);
    const failures: string[] = [];
    for (const c of cases) {
      const dy = randomValues(random, outShape(c).reduce((a, b) => a * b));
      const filter = randomValues(random, c.filterShape.reduce((a, b) => a * b));
      const [ours] = await valuesOn('wasm', () => inputGradient(c, dy, filter));
      const [reference] = await valuesOn('cpu', () => inputGradient(c, dy, filter));
      const error = relativeError(ours!, reference!);
      if (!(error < 1e-4)) failures.push(`${describeCase(c)}: relative error ${error}`);
    }
    setSmallPhasePixels(previous);
    expect(failures).toEqual([]);
  });

  it('falls back to the shipped kernel for NCHW', async () => {
    const c: ConvCase = { xShape: [2, 7, 7, 3], filterShape: [3, 3, 3, 4], strides: 2, pad: 'same' };
    const random = seededRandom(11);
    const dy = randomValues(random, 2 * 4 * 4 * 4);
    const filter = randomValues(random, 3 * 3 * 3 * 4);
    const nchw = () =>
      tf.transpose(
        tf.engine().runKernel(
          Conv2DBackpropInput,
          { dy: tf.transpose(tf.tensor4d(dy, [2, 4, 4, 4]), [0, 3, 1, 2]), filter: tf.tensor4d(filter, c.filterShape) },
          { strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 3, 7, 7] },
        ) as tf.Tensor4D,
        [0, 2, 3, 1],
      );
    const [ours] = await valuesOn('wasm', nchw);
    const [reference] = await valuesOn('cpu', () => inputGradient(c, dy, filter));
    expect(relativeError(ours!, reference!)).toBeLessThan(1e-4);
  });

  it('conv2dTranspose forward matches cpu', async () => {
    const random = seededRandom(3);
    const y = randomValues(random, 2 * 8 * 8 * 16);
    const filter = randomValues(random, 4 * 4 * 8 * 16);
    const run = () => tf.conv2dTranspose(tf.tensor4d(y, [2, 8, 8, 16]), tf.tensor4d(filter, [4, 4, 8, 16]), [2, 16, 16, 8], 2, 'same');
    const [ours] = await valuesOn('wasm', run);
    const [reference] = await valuesOn('cpu', run);
    expect(relativeError(ours!, reference!)).toBeLessThan(1e-4);
  });

  it('leaks no tensors', () => {
    const c = UNET_LIKE_CASES[1]!;
    const dy = tf.randomNormal(outShape(c));
    const filter = tf.randomNormal(c.filterShape);
    const before = tf.memory().numTensors;
    const dx = tf.engine().runKernel(
      Conv2DBackpropInput,
      { dy, filter },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.xShape },
    ) as tf.Tensor;
    expect(dx.shape).toEqual(c.xShape);
    dx.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([dy, filter]);
  });
});
