import * as tf from '@tensorflow/tfjs-core';
import { Conv2DBackpropFilter, backend_util } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOurWasmKernel } from './install';
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

function filterGradient(c: ConvCase, x: Float32Array, dy: Float32Array): tf.Tensor {
  return tf.engine().runKernel(
    Conv2DBackpropFilter,
    { x: tf.tensor4d(x, c.xShape), dy: tf.tensor(dy, outShape(c)) },
    { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filterShape },
  ) as tf.Tensor;
}

describe('Conv2DBackpropFilter on wasm', () => {
  beforeAll(initKernelTestBackends);

  it('is registered by registerWasmTrainingKernels', () => {
    expect(isOurWasmKernel(Conv2DBackpropFilter)).toBe(true);
  });

  // Pointwise filters take a matMul route: both operand orders, padded and strided 1x1 convs stay on the conv route.
  const POINTWISE_CASES: ConvCase[] = [
    { xShape: [2, 9, 7, 8], filterShape: [1, 1, 8, 61], strides: 1, pad: 'same' },
    { xShape: [3, 6, 6, 40], filterShape: [1, 1, 40, 5], strides: 1, pad: 'valid' },
    { xShape: [1, 5, 8, 16], filterShape: [1, 1, 16, 16], strides: 1, pad: 'same' },
    { xShape: [2, 6, 6, 4], filterShape: [1, 1, 4, 6], strides: 1, pad: 1 },
    { xShape: [2, 7, 7, 4], filterShape: [1, 1, 4, 6], strides: 2, pad: 'same' },
  ];
  const cases = [...UNET_LIKE_CASES, ...POINTWISE_CASES, ...randomConvCases(1234, 40)];
  it(`matches cpu on ${cases.length} geometries`, async () => {
    const random = seededRandom(99);
    const failures: string[] = [];
    for (const c of cases) {
      const x = randomValues(random, c.xShape.reduce((a, b) => a * b));
      const dy = randomValues(random, outShape(c).reduce((a, b) => a * b));
      const [ours] = await valuesOn('wasm', () => filterGradient(c, x, dy));
      const [reference] = await valuesOn('cpu', () => filterGradient(c, x, dy));
      const error = relativeError(ours!, reference!);
      if (!(error < 1e-4)) failures.push(`${describeCase(c)}: relative error ${error}`);
    }
    expect(failures).toEqual([]);
  });

  it('handles NCHW inputs', async () => {
    const c: ConvCase = { xShape: [2, 9, 9, 3], filterShape: [3, 3, 3, 4], strides: 2, pad: 'same' };
    const random = seededRandom(5);
    const x = randomValues(random, 2 * 9 * 9 * 3);
    const dy = randomValues(random, 2 * 5 * 5 * 4);
    const nchw = () =>
      tf.engine().runKernel(
        Conv2DBackpropFilter,
        { x: tf.transpose(tf.tensor4d(x, c.xShape), [0, 3, 1, 2]), dy: tf.transpose(tf.tensor4d(dy, [2, 5, 5, 4]), [0, 3, 1, 2]) },
        { strides: 2, pad: 'same', dataFormat: 'NCHW', filterShape: c.filterShape },
      ) as tf.Tensor;
    const [ours] = await valuesOn('wasm', nchw);
    const [reference] = await valuesOn('cpu', () => filterGradient(c, x, dy));
    expect(relativeError(ours!, reference!)).toBeLessThan(1e-4);
  });

  it('leaks no tensors', () => {
    const c = UNET_LIKE_CASES[1]!;
    const x = tf.randomNormal(c.xShape);
    const dy = tf.randomNormal(outShape(c));
    const before = tf.memory().numTensors;
    const dw = tf.engine().runKernel(
      Conv2DBackpropFilter,
      { x, dy },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filterShape },
    ) as tf.Tensor;
    expect(dw.shape).toEqual(c.filterShape);
    dw.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy]);
  });
});
