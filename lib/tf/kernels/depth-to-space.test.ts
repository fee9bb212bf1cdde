import * as tf from '@tensorflow/tfjs-core';
import { DepthToSpace } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOurWasmKernel } from './install';
import { initKernelTestBackends, randomInt, randomValues, seededRandom, valuesOn } from './test-utils';

describe('DepthToSpace on wasm', () => {
  beforeAll(initKernelTestBackends);

  it('replaces the shipped kernel', () => {
    expect(isOurWasmKernel(DepthToSpace)).toBe(true);
  });

  it('matches cpu exactly for random shapes and block sizes', async () => {
    const random = seededRandom(77);
    const failures: string[] = [];
    for (let i = 0; i < 60; i++) {
      const r = randomInt(random, 2, 4);
      // Channel runs of r*C values cross the 32-value threshold between the copy strategies.
      const channels = [1, 2, 3, 4, 8, 12, 16][randomInt(random, 0, 6)]!;
      const shape: [number, number, number, number] = [randomInt(random, 1, 3), randomInt(random, 1, 7), randomInt(random, 1, 7), r * r * channels];
      const size = shape.reduce((a, b) => a * b, 1);
      const values = randomValues(random, size);
      const run = () => tf.depthToSpace(tf.tensor4d(values, shape), r);
      const [ours] = await valuesOn('wasm', run);
      const [reference] = await valuesOn('cpu', run);
      if (!(ours!.length === reference!.length && ours!.every((v, j) => v === reference![j]))) failures.push(`shape ${shape} block ${r}`);
    }
    expect(failures).toEqual([]);
  });

  it('handles an x4 RGB head of upscaler size and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const values = randomValues(seededRandom(3), 2 * 9 * 11 * 48);
    const run = () => tf.depthToSpace(tf.tensor4d(values, [2, 9, 11, 48]), 4);
    const [ours] = await valuesOn('wasm', run);
    const [reference] = await valuesOn('cpu', run);
    expect(Array.from(ours!)).toEqual(Array.from(reference!));
    expect(tf.memory().numTensors).toBe(before);
  });
});
