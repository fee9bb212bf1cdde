import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@/lib/tf/backend';
import { buildSeeded, buildUnetGenerator, type Norm } from './generators';

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
