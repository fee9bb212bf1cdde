import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { BilinearSampler, resizeBytes } from './resize';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('BilinearSampler', () => {
  it('matches tf.image.resizeBilinear with half-pixel centres, up and down, any aspect', () => {
    for (const [sw, sh, dw, dh, ch] of [
      [4, 3, 11, 7, 2],
      [16, 16, 5, 9, 1],
      [1, 1, 3, 2, 2],
      [7, 1, 20, 3, 3],
      [8, 8, 8, 8, 2],
    ] as const) {
      const source = new Float32Array(sw * sh * ch).map((_, i) => Math.sin(i * 1.7) * 50);
      const ours = new BilinearSampler(source, sw, sh, ch, dw, dh).all();
      const theirs = tf.tidy(() =>
        tf.image.resizeBilinear(tf.tensor3d(source, [sh, sw, ch]), [dh, dw], false, true).dataSync(),
      );
      let worst = 0;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!));
      expect(worst, `${sw}x${sh} -> ${dw}x${dh}`).toBeLessThan(1e-3);
    }
  });

  it('rows equal the matching slice of all()', () => {
    const source = new Float32Array(5 * 4 * 2).map((_, i) => i);
    const sampler = new BilinearSampler(source, 5, 4, 2, 13, 9);
    const all = sampler.all();
    expect(Array.from(sampler.row(6))).toEqual(Array.from(all.subarray(6 * 13 * 2, 7 * 13 * 2)));
  });

  it('rejects a wrong source length', () => {
    expect(() => new BilinearSampler(new Float32Array(5), 2, 2, 1, 4, 4)).toThrow(/values/);
  });
});

describe('resizeBytes', () => {
  it('keeps the channel count (1, 3, 4) and the requested size', async () => {
    for (const channels of [1, 3, 4] as const) {
      const data = new Uint8Array(6 * 4 * channels).fill(200);
      const out = await resizeBytes(data, 6, 4, channels, 15, 2, 'cubic');
      expect(out.length).toBe(15 * 2 * channels);
      // RGBA is resized premultiplied by sharp, so a translucent constant may round by a little
      expect(out.every((v) => Math.abs(v - 200) <= (channels === 4 ? 2 : 0))).toBe(true);
    }
  });

  it('returns the input itself when the size does not change', async () => {
    const data = new Uint8Array(12);
    expect(await resizeBytes(data, 2, 2, 3, 2, 2)).toBe(data);
  });
});
