import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '@/lib/cli/args';
import { constantColorizer, nearestSrNet, saveTestModel, testMetadata } from '@/lib/infer/test-models';
import { fileSystemIO } from '@/lib/model/io';
import { initBackend } from '@/lib/tf/backend';
import { imresize } from './bicubic';
import { makeColorizePair } from './colorize';
import { createImage, quantize, type FloatImage } from './image';
import { loadOurMethods, loadPeer, MultiplyBeta, pixelShuffleClass, registerPeerLayers } from './methods';
import { meanAb, psnr } from './metrics';

const root = mkdtempSync(path.join(os.tmpdir(), 'eval-methods-'));
beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function smooth(width: number, height: number, channels = 3): FloatImage {
  const image = createImage(width, height, channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) image.data[(y * width + x) * channels + c] = 0.5 + 0.3 * Math.sin(x / 5 + c) * Math.cos(y / 4);
  return quantize(image);
}

/** The message of the UsageError `promise` rejects with (fails the test on anything else). */
async function usageError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as Error).message;
}

describe('our exported models, through the inference service', () => {
  it('upscales with the model named by --model, tiled, and matches its exact nearest-neighbour output', async () => {
    const dir = await saveTestModel(nearestSrNet(2), path.join(root, 'sr-x2'), testMetadata({ task: 'sr', scale: 2 }));
    const ours = await loadOurMethods('sr', 2, [dir]);
    expect(ours.methods.map((m) => m.name)).toEqual(['ours (sr-x2)']);
    const image = smooth(21, 13); // larger than the 16-pixel test tile: several tiles
    const out = await ours.methods[0]!.run(image);
    expect([out.width, out.height, out.channels]).toEqual([42, 26, 3]);
    for (let y = 0; y < 26; y++)
      for (let x = 0; x < 42; x++)
        for (let c = 0; c < 3; c++) {
          const expected = image.data[(Math.floor(y / 2) * 21 + Math.floor(x / 2)) * 3 + c]!;
          expect(out.data[(y * 42 + x) * 3 + c]).toBeCloseTo(expected, 5);
        }
    ours.dispose();
    // A wrong --model is a usage error (exit 2, one line) naming the folder as given.
    expect(await usageError(loadOurMethods('sr', 4, [dir]))).toBe(`--model ${dir} is a super-resolution x2 model, not super-resolution x4`);
    // With the ensemble row: nearest-neighbour upscaling commutes with flips, so both rows agree.
    const both = await loadOurMethods('sr', 2, [dir], undefined, { ensemble: true });
    expect(both.methods.map((m) => m.name)).toEqual(['ours (sr-x2)', 'ours (sr-x2, ensemble)']);
    expect(both.methods[1]!.detail).toContain('mean of the 8 flips/transpositions');
    const [plain, ensembled] = [await both.methods[0]!.run(image), await both.methods[1]!.run(image)];
    expect(Array.from(ensembled.data)).toEqual(Array.from(plain.data));
    both.dispose();
  });

  it('colorizes with a constant-ab model: the warm cast it predicts shows in the mean b*', async () => {
    const dir = await saveTestModel(constantColorizer([0, 0.3]), path.join(root, 'colorize'), testMetadata({ task: 'colorize', scale: 1 }));
    const ours = await loadOurMethods('colorize', 1, [dir]);
    const pair = makeColorizePair('p.png', smooth(40, 28));
    const out = quantize(await ours.methods[0]!.run(pair.gray));
    expect([out.width, out.height]).toEqual([40, 28]);
    const ab = meanAb(out);
    // b* = 0.3 x 110 = 33 where the gamut allows it; a* stays near 0.
    expect(ab.b).toBeGreaterThan(25);
    expect(ab.b).toBeLessThan(36);
    expect(Math.abs(ab.a)).toBeLessThan(8);
    ours.dispose();
    expect(await usageError(loadOurMethods('sr', 2, [dir]))).toBe(`--model ${dir} is a colorize model, not super-resolution x2`);
    // A row per colour strength, in the order asked, named after it (strength 1 as the plain row).
    const strengths = await loadOurMethods('colorize', 1, [dir], undefined, { colourStrengths: [1, 0.5, 0] });
    expect(strengths.methods.map((m) => m.name)).toEqual(['ours (colorize)', 'ours (colorize, strength 0.5)', 'ours (colorize, strength 0)']);
    expect(strengths.methods[1]!.detail).toContain('colour strength 0.5: predicted a*b* times 0.5');
    const [full, half, none] = await Promise.all(strengths.methods.map(async (m) => meanAb(quantize(await m.run(pair.gray)))));
    expect(half!.b / full!.b).toBeCloseTo(0.5, 1);
    expect(Math.abs(none!.b)).toBeLessThan(0.5);
    strengths.dispose();
  });

  it('names an unloadable --model folder in one usage error, without a warning besides', async () => {
    const empty = path.join(root, 'not-a-model');
    mkdirSync(empty);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(await usageError(loadOurMethods('sr', 2, [empty]))).toBe(`--model ${empty}: not an exported model folder (it has no metadata.json)`);
      const missing = path.join(root, 'missing');
      expect(await usageError(loadOurMethods('sr', 2, [missing]))).toBe(`--model ${missing}: no such folder`);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('UpscalerJS peers', () => {
  it('registers ESRGAN-thick custom layers so a saved model with them loads and computes depthToSpace(0.2 x)', async () => {
    const dir = path.join(root, 'custom');
    const input = tfl.input({ shape: [null, null, 12] });
    const scaled = new MultiplyBeta({ name: 'beta' }).apply(input) as tfl.SymbolicTensor;
    const Shuffle = pixelShuffleClass(2);
    const shuffled = new Shuffle({ name: 'shuffle' }).apply(scaled) as tfl.SymbolicTensor;
    expect(shuffled.shape).toEqual([null, null, null, 3]);
    await tfl.model({ inputs: input, outputs: shuffled }).save(fileSystemIO(dir));
    registerPeerLayers();
    const loaded = await tfl.loadLayersModel(fileSystemIO(dir));
    const x = tf.randomUniform([1, 3, 2, 12], 0, 1, 'float32', 7);
    const y = loaded.predict(x) as tf.Tensor;
    const expected = tf.depthToSpace(tf.mul(x, 0.2) as tf.Tensor4D, 2);
    expect(y.shape).toEqual([1, 6, 4, 3]);
    expect(Array.from(await y.data())).toEqual(Array.from(await expected.data()).map((v) => expect.closeTo(v, 6)));
    tf.dispose([x, y, expected]);
    loaded.dispose();
  });

  it.each(['slim', 'thick'] as const)('esrgan-%s x2 loads from node_modules and gets its value range right', async (peer) => {
    const method = await loadPeer(peer, 2);
    expect(method.detail).toMatch(new RegExp(`@upscalerjs/esrgan-${peer}@`));
    const lr = smooth(12, 10);
    const before = tf.memory().numTensors;
    const out = quantize(await method.run(lr));
    expect(tf.memory().numTensors).toBe(before);
    expect([out.width, out.height, out.channels]).toEqual([24, 20, 3]);
    // A wrong input range (0..1 into a 0..255 model or the reverse) gives a black or white image, far from bicubic.
    expect(psnr(out, quantize(imresize(lr, { scale: 2 })))).toBeGreaterThan(25);
    method.dispose();
  });
});
