import * as tf from '@tensorflow/tfjs-core';
import { Tile } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOurWasmKernel } from './install';
import { simplifyTile } from './tile';
import { initKernelTestBackends, randomInt, randomValues, seededRandom, valuesOn } from './test-utils';

describe('Tile on wasm', () => {
  beforeAll(initKernelTestBackends);

  it('replaces the shipped kernel', () => {
    expect(isOurWasmKernel(Tile)).toBe(true);
  });

  it('merges unrepeated axes into their outer neighbour', () => {
    expect(simplifyTile([1, 1, 1, 64], [4, 64, 64, 1])).toEqual({ shape: [64], reps: [4 * 64 * 64] });
    expect(simplifyTile([4, 5, 6], [1, 1, 1])).toEqual({ shape: [120], reps: [1] });
    expect(simplifyTile([4, 5, 6], [2, 1, 1])).toEqual({ shape: [120], reps: [2] });
    expect(simplifyTile([4, 1, 6], [1, 3, 1])).toEqual({ shape: [4, 6], reps: [1, 3] });
  });

  it('matches cpu for random shapes, repetitions and dtypes', async () => {
    const random = seededRandom(2024);
    const failures: string[] = [];
    for (let i = 0; i < 80; i++) {
      const rank = randomInt(random, 1, 5);
      const shape = Array.from({ length: rank }, () => (random() < 0.35 ? 1 : randomInt(random, 1, 6)));
      const reps = Array.from({ length: rank }, () => (random() < 0.4 ? 1 : randomInt(random, 1, 4)));
      const dtype = (['float32', 'float32', 'int32', 'bool'] as const)[i % 4]!;
      const values = Array.from(randomValues(random, shape.reduce((a, b) => a * b, 1)), (v) =>
        dtype === 'float32' ? v : dtype === 'int32' ? Math.round(v * 100) : v > 0 ? 1 : 0,
      );
      const run = () => tf.tile(tf.tensor(values, shape, dtype), reps);
      const [ours] = await valuesOn('wasm', run);
      const [reference] = await valuesOn('cpu', run);
      if (!(ours!.length === reference!.length && ours!.every((v, j) => v === reference![j]))) {
        failures.push(`shape ${shape} reps ${reps} ${dtype}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('tiles per-channel values to activation size as BatchNorm gradients do', async () => {
    const channel = randomValues(seededRandom(1), 16);
    const run = () => tf.tile(tf.tensor4d(channel, [1, 1, 1, 16]), [3, 5, 7, 1]);
    const [ours] = await valuesOn('wasm', run);
    const [reference] = await valuesOn('cpu', run);
    expect(Array.from(ours!)).toEqual(Array.from(reference!));
  });

  it('handles scalars and empty tensors, and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const scalar = tf.scalar(3);
    const tiledScalar = tf.tile(scalar, []);
    expect(Array.from(tiledScalar.dataSync())).toEqual([3]);
    const empty = tf.zeros([0, 3]);
    const tiledEmpty = tf.tile(empty, [2, 2]);
    expect(tiledEmpty.shape).toEqual([0, 6]);
    tf.dispose([scalar, tiledScalar, empty, tiledEmpty]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
