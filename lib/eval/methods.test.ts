import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystemIO } from '@/lib/model/io';
import { initBackend } from '@/lib/tf/backend';
import { imresize } from './bicubic';
import { makeColorizePair } from './colorize';
import { createImage, quantize, type FloatImage } from './image';
import { loadColorizeModelDir, loadPeer, loadSrModelDir, MultiplyBeta, pixelShuffleClass, registerPeerLayers } from './methods';
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

function metadata(overrides: Record<string, unknown>): string {
  return JSON.stringify({
    formatVersion: 1,
    name: 'test',
    task: 'sr',
    scale: 2,
    inputChannels: 3,
    outputChannels: 3,
    inputEncoding: 'rgb-tanh',
    outputEncoding: 'rgb-tanh',
    tile: { size: 64, padding: 8, multipleOf: 4 },
    architecture: {},
    trainingModeAtInference: { batchNorm: false, dropout: false },
    training: { config: {}, steps: 0, wallTimeSeconds: 0, backend: 'cpu', data: { description: 'none', images: 0 } },
    metrics: {},
    createdAt: '2025-01-01T00:00:00Z',
    ...overrides,
  });
}

async function saveModel(model: tfl.LayersModel, dir: string, meta: string): Promise<void> {
  await model.save(fileSystemIO(dir));
  writeFileSync(path.join(dir, 'metadata.json'), meta);
  model.dispose();
}

describe('our exported models, loaded from a directory', () => {
  it('runs an SR model on the whole image through its encoding, padding to multipleOf and cropping back', async () => {
    const dir = path.join(root, 'sr-x2');
    const input = tfl.input({ shape: [null, null, 3] });
    const output = tfl.layers.upSampling2d({ size: [2, 2] }).apply(input) as tfl.SymbolicTensor;
    await saveModel(tfl.model({ inputs: input, outputs: output }), dir, metadata({}));

    const method = await loadSrModelDir(dir, 2);
    const image = smooth(7, 5); // not a multiple of 4: padded, then cropped
    const before = tf.memory().numTensors;
    const out = await method.run(image);
    expect(tf.memory().numTensors).toBe(before);
    expect([out.width, out.height, out.channels]).toEqual([14, 10, 3]);
    for (let y = 0; y < 10; y++)
      for (let x = 0; x < 14; x++)
        for (let c = 0; c < 3; c++) {
          const expected = image.data[(Math.floor(y / 2) * 7 + Math.floor(x / 2)) * 3 + c]!;
          expect(out.data[(y * 14 + x) * 3 + c]).toBeCloseTo(expected, 5);
        }
    method.dispose();
    await expect(loadSrModelDir(dir, 4)).rejects.toThrow(/upscales x2, but --scale is 4/);
  });

  it('colorizes: L* in at the working size, a*b* (x110) out, resized back and merged with full-size L*', async () => {
    const dir = path.join(root, 'colorize');
    const input = tfl.input({ shape: [null, null, 1] });
    // a* = 0, b* = 0.3 * 110 = 33 everywhere: a warm cast of known size.
    const conv = tfl.layers.conv2d({ filters: 2, kernelSize: 1, kernelInitializer: 'zeros', biasInitializer: 'zeros' });
    const output = conv.apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    conv.setWeights([tf.zeros([1, 1, 1, 2]), tf.tensor1d([0, 0.3])]);
    await saveModel(
      model,
      dir,
      metadata({ task: 'colorize', scale: 1, inputChannels: 1, outputChannels: 2, inputEncoding: 'lab-l', outputEncoding: 'lab-ab', workingSize: 8, tile: { size: 8, padding: 0, multipleOf: 1 } }),
    );
    await expect(loadSrModelDir(dir, 2)).rejects.toThrow(/is a colorize model/);

    const method = await loadColorizeModelDir(dir);
    const pair = makeColorizePair('p.png', smooth(20, 14));
    const out = quantize(await method.run(pair.gray));
    expect([out.width, out.height]).toEqual([20, 14]);
    const ab = meanAb(out);
    expect(ab.b).toBeGreaterThan(25);
    expect(ab.b).toBeLessThan(36);
    expect(Math.abs(ab.a)).toBeLessThan(8);
    method.dispose();
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
