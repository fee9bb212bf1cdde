import * as tf from '@tensorflow/tfjs-core';
import { Conv2D, FusedConv2D } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOurWasmKernel } from './install';
import { setSmallConvEnabled } from './small-conv';
import {
  type ConvCase,
  describeCase,
  initKernelTestBackends,
  randomInt,
  randomValues,
  relativeError,
  seededRandom,
  valuesOn,
} from './test-utils';

/** Geometries the matMul route takes: few output pixels, at least 32K weights. */
function smallImageCases(seed: number, count: number): ConvCase[] {
  const random = seededRandom(seed);
  const cases: ConvCase[] = [];
  while (cases.length < count) {
    const k = [1, 2, 3, 4][randomInt(random, 0, 3)]!;
    const stride = randomInt(random, 1, 2);
    const pad = (['same', 'valid', 1] as const)[randomInt(random, 0, 2)]!;
    const n = randomInt(random, 1, 4);
    const h = randomInt(random, k, 5);
    const c = [64, 128, 256][randomInt(random, 0, 2)]!;
    const f = Math.max(1, Math.ceil((32 * 1024) / (k * k * c))) * randomInt(random, 1, 3);
    cases.push({ xShape: [n, h, h, c], filterShape: [k, k, c, f], strides: stride, pad });
  }
  return cases;
}

describe('Conv2D / FusedConv2D on small images (wasm)', () => {
  beforeAll(initKernelTestBackends);

  it('wraps the shipped kernels', () => {
    expect(isOurWasmKernel(Conv2D)).toBe(true);
    expect(isOurWasmKernel(FusedConv2D)).toBe(true);
  });

  it.each([
    ['matMul', true],
    ['shipped', false],
  ])('matches cpu through the %s route, plain and fused with bias', async (_route, on) => {
    const previous = setSmallConvEnabled(on);
    const random = seededRandom(77);
    const failures: string[] = [];
    for (const c of smallImageCases(5, 16)) {
      const x = randomValues(random, c.xShape.reduce((a, b) => a * b));
      const w = randomValues(random, c.filterShape.reduce((a, b) => a * b));
      const bias = randomValues(random, c.filterShape[3]);
      // A fresh filter each run, so wasm sees it for the first time (the matMul route's trigger).
      const plain = () => tf.conv2d(tf.tensor4d(x, c.xShape), tf.tensor4d(w, c.filterShape), c.strides, c.pad);
      const fused = () =>
        tf.fused.conv2d({
          x: tf.tensor4d(x, c.xShape),
          filter: tf.tensor4d(w, c.filterShape),
          strides: c.strides,
          pad: c.pad,
          bias: tf.tensor1d(bias),
        });
      for (const [name, run] of [['conv2d', plain], ['fused', fused]] as const) {
        const [ours] = await valuesOn('wasm', run);
        const [reference] = await valuesOn('cpu', run);
        const error = relativeError(ours!, reference!);
        if (!(error < 1e-4)) failures.push(`${name} ${describeCase(c)}: relative error ${error}`);
      }
    }
    setSmallConvEnabled(previous);
    expect(failures).toEqual([]);
  });

  it('gives the same result when the filter is reused (shipped kernel then)', () => {
    const x = tf.randomNormal([2, 2, 2, 256]) as tf.Tensor4D;
    const w = tf.randomNormal([4, 4, 256, 128]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const first = tf.conv2d(x, w, 2, 'same');
    const second = tf.conv2d(x, w, 2, 'same');
    expect(relativeError(first.dataSync(), second.dataSync())).toBeLessThan(1e-5);
    tf.dispose([first, second]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });
});
