import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@/lib/tf/backend';
import { FUSED_ADAM } from '@/lib/tf/kernels/adam';
import { randomValues, relativeError, seededRandom } from '@/lib/tf/kernels/test-utils';
import { FusedAdamOptimizer } from './adam';

const SHAPES = [[3, 3, 4, 8], [8], [5, 7], [1]];
let run = 0;

/** Two identical variable sets (tfjs Adam vs ours) and a seeded gradient source. */
function setup(seed: number) {
  const random = seededRandom(seed);
  const initial = SHAPES.map((shape) => randomValues(random, shape.reduce((a, b) => a * b, 1)));
  run++;
  const make = (tag: string) => SHAPES.map((shape, i) => tf.variable(tf.tensor(initial[i]!, shape), true, `adam-test-${run}-${tag}-${i}`));
  return { random, reference: make('ref'), fused: make('fused') };
}

function grads(vars: tf.Variable[], values: Float32Array[]): tf.NamedTensorMap {
  return Object.fromEntries(vars.map((v, i) => [v.name, tf.tensor(values[i]!, v.shape)]));
}

/** tfjs types applyGradients' map as variables; gradients are plain tensors (as minimize passes them). */
function apply(optimizer: tf.Optimizer, map: tf.NamedTensorMap): void {
  optimizer.applyGradients(map as unknown as Parameters<tf.Optimizer['applyGradients']>[0]);
}

describe('fused Adam', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('runs as one kernel on wasm', () => {
    expect(tf.getKernel(FUSED_ADAM, 'wasm')).toBeDefined();
  });

  it('matches tfjs Adam step for step (weights and both moments), with a changing learning rate', () => {
    const { random, reference, fused } = setup(1);
    const ref = tf.train.adam(2e-3, 0.5, 0.999, 1e-8);
    const ours = new FusedAdamOptimizer(2e-3, 0.5, 0.999, 1e-8);
    for (let step = 0; step < 6; step++) {
      if (step === 3) {
        (ref as unknown as { learningRate: number }).learningRate = 5e-4;
        (ours as unknown as { learningRate: number }).learningRate = 5e-4;
      }
      const g = SHAPES.map((shape) => randomValues(random, shape.reduce((a, b) => a * b, 1)).map((x) => x * (step + 1)));
      const [a, b] = [grads(reference, g), grads(fused, g)];
      apply(ref, a);
      apply(ours, b);
      tf.dispose([...Object.values(a), ...Object.values(b)]);
    }
    reference.forEach((v, i) => {
      expect(relativeError(fused[i]!.dataSync(), v.dataSync()), `weights ${i}`).toBeLessThan(1e-6);
    });
    return Promise.all([ref.getWeights(), ours.getWeights()]).then(([w1, w2]) => {
      expect(w2.map((w) => w.name.replace('fused', 'ref'))).toEqual(w1.map((w) => w.name));
      w1.forEach((w, i) => expect(relativeError(w2[i]!.tensor.dataSync(), w.tensor.dataSync()), w.name).toBeLessThan(1e-6));
      ref.dispose();
      ours.dispose();
      tf.dispose([...reference, ...fused]);
    });
  });

  it('restores from saved weights and continues as the original would', async () => {
    const { random, fused } = setup(2);
    const first = new FusedAdamOptimizer(1e-3, 0.9, 0.999, 1e-8);
    const step = (opt: tf.Optimizer, g: Float32Array[]) => {
      const map = grads(fused, g);
      apply(opt, map);
      tf.dispose(Object.values(map));
    };
    const gradients = Array.from({ length: 4 }, () => SHAPES.map((shape) => randomValues(random, shape.reduce((a, b) => a * b, 1))));
    step(first, gradients[0]!);
    step(first, gradients[1]!);
    // Cloned at once, as a checkpoint writes them out at once: the moments are variables that the
    // next step assigns in place.
    const saved = (await first.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    const snapshot = fused.map((v) => v.clone());
    step(first, gradients[2]!);
    const expected = fused.map((v) => Float32Array.from(v.dataSync()));
    fused.forEach((v, i) => v.assign(snapshot[i]!));
    const second = new FusedAdamOptimizer(1e-3, 0.9, 0.999, 1e-8);
    await second.setWeights(saved);
    step(second, gradients[2]!);
    // Not bit-exact: setWeights recomputes beta^t with pow where a running optimiser multiplied (tfjs's
    // own Adam restores the same way).
    fused.forEach((v, i) => expect(relativeError(v.dataSync(), expected[i]!), `variable ${i}`).toBeLessThan(1e-6));
    first.dispose();
    second.dispose();
    tf.dispose([...fused, ...snapshot]);
  });

  it('leaks no tensors after the first step', () => {
    const { random, fused } = setup(3);
    const opt = new FusedAdamOptimizer(1e-3, 0.5, 0.999, 1e-8);
    const step = () => {
      const map = grads(fused, SHAPES.map((shape) => randomValues(random, shape.reduce((a, b) => a * b, 1))));
      apply(opt, map);
      tf.dispose(Object.values(map));
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    tf.dispose(fused);
  });
});
