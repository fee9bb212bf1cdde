import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DecodedImage } from '@/lib/image/decode';
import { InstanceNorm } from '@/lib/models/layers';
import { initBackend } from '@/lib/tf/backend';
import { loadModel, runModel, type LoadedModel } from './models';
import { createInferenceService } from './service';
import { invertingPairedNet, noisePng, randomImage, randomPairedUnet, randomSrNet, saveTestModel, testMetadata } from './test-models';
import { TRANSLATE_TILE, translateImage, translatePlan } from './translate';
import { ModelUnavailableError } from './types';

let dir: string;
let inverting: LoadedModel;
let unet: LoadedModel;

beforeAll(async () => {
  await initBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'infer-translate-'));
  inverting = await loadModel(await saveTestModel(invertingPairedNet(), path.join(dir, 'invert'), testMetadata({ task: 'paired', scale: 1 })));
  unet = await loadModel(await saveTestModel(randomPairedUnet(7), path.join(dir, 'unet'), testMetadata({ task: 'paired', scale: 1 })));
});

afterAll(async () => {
  for (const m of [inverting, unet]) m?.model.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('translatePlan', () => {
  it('runs an image up to TRANSLATE_TILE px a side whole, larger ones in windows of the U-Net multiple', () => {
    const one = translatePlan(unet, 1001, 700);
    expect(one.tiles).toHaveLength(1);
    expect(one.tiles[0]!.core).toEqual({ x: 0, y: 0, width: 1001, height: 700 });
    // No context around a lone window: only the rounding up to the multiple, on the right and bottom.
    expect(one.tiles[0]!.window).toEqual({ x: 0, y: 0, width: 1004, height: 700 });
    const many = translatePlan(unet, TRANSLATE_TILE * 2 + 1, 300);
    expect(many.tiles.length).toBe(3);
    // Context only where windows meet: none before the image's left and top edges.
    expect(many.tiles[0]!.window).toMatchObject({ x: 0, y: 0 });
    expect(many.tiles[1]!.window.x).toBe(many.tiles[1]!.core.x - unet.metadata.tile.padding);
    for (const tile of many.tiles) {
      expect(tile.window.width % 4).toBe(0);
      expect(tile.window.height % 4).toBe(0);
      expect(tile.core.width).toBeLessThanOrEqual(TRANSLATE_TILE);
    }
  });
});

describe('translateImage', () => {
  it('maps every byte through the model exactly, at odd sizes, in one window or many, alpha kept', async () => {
    for (const [w, h, tileSize] of [
      [1, 1, undefined],
      [37, 23, undefined],
      [5, 300, undefined],
      [37, 23, 8],
    ] as const) {
      const image = randomImage(w, h, w * 31 + h, true);
      const out = await translateImage(inverting, image, tileSize ? { tileSize } : {});
      expect([out.width, out.height]).toEqual([w, h]);
      expect(out.alpha).toBe(image.alpha);
      // Fully transparent pixels take their visible neighbours' colour first (lib/image/alpha.ts).
      const wrong = out.data.findIndex((v, i) => image.alpha![Math.floor(i / 3)]! > 0 && v !== 255 - image.data[i]!);
      expect(wrong, `${w}x${h} tile ${tileSize}: first wrong byte`).toBe(-1);
    }
  });

  it('equals one run of the U-Net over the image reflect-padded to its multiple on the right and bottom, cropped', async () => {
    const image = randomImage(58, 43, 3);
    const out = await translateImage(unet, image);
    const reference = tf.tidy(() => {
      const x = tf.sub(tf.div(tf.tensor4d(Float32Array.from(image.data), [1, 43, 58, 3]), 127.5), 1);
      const padded = tf.mirrorPad(x as tf.Tensor4D, [[0, 0], [0, 1], [0, 2], [0, 0]], 'reflect');
      const y = runModel(unet, padded as tf.Tensor4D);
      return tf.slice(y, [0, 0, 0, 0], [1, 43, 58, 3]).dataSync() as Float32Array;
    });
    let worst = 0;
    for (let i = 0; i < reference.length; i++) {
      const expected = Math.min(255, Math.max(0, (reference[i]! + 1) * 127.5));
      worst = Math.max(worst, Math.abs(out.data[i]! - expected));
    }
    // Rounding, plus float noise: the pipeline scales by 2/255 - 1, this reference by 1/127.5 - 1.
    expect(worst).toBeLessThanOrEqual(0.51);
    // Not a constant: the U-Net's output depends on the image.
    expect(new Set(out.data).size).toBeGreaterThan(20);
  });

  it('reports progress per window, cancels between windows and leaks no tensors', async () => {
    const image = randomImage(40, 40, 9);
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    await translateImage(unet, image, { tileSize: 16, onProgress: (p) => seen.push(p.done) });
    // The thumbnail's run (instance norm, several windows), then each window's.
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const controller = new AbortController();
    await expect(
      translateImage(unet, image, { tileSize: 16, signal: controller.signal, onProgress: (p) => p.done === 1 && controller.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('thumbnail instance normalisation (an image of several windows)', () => {
  const psnr = (a: Uint8Array, b: Uint8Array) => 10 * Math.log10(255 ** 2 / (a.reduce((sum, v, i) => sum + (v - b[i]!) ** 2, 0) / a.length));

  it('normalises every window alike, as one run over the whole image does, not each window on its own', async () => {
    // A model that only normalises (instance norm, then x 0.25): on a ramp, each window's own
    // statistics differ from the image's, while a thumbnail's are the image's.
    const input = tfl.input({ shape: [null, null, 3] });
    const normalised = new InstanceNorm({ affine: false }).apply(input) as tfl.SymbolicTensor;
    const output = tfl.layers.rescaling({ scale: 0.25, offset: 0 }).apply(normalised) as tfl.SymbolicTensor;
    const normalising = await loadModel(
      await saveTestModel(tfl.model({ inputs: input, outputs: output }), path.join(dir, 'normalising'), testMetadata({ task: 'paired', scale: 1 })),
    );
    try {
      const data = new Uint8Array(96 * 64 * 3).map((_, i) => Math.round((255 * (Math.floor(i / 3) % 96)) / 95) - (i % 3) * 20);
      const image: DecodedImage = { data, width: 96, height: 64, channels: 3, hasAlpha: false };
      const whole = await translateImage(normalising, image, { tileSize: 96 });
      const before = tf.memory().numTensors;
      const seen: [number, number][] = [];
      const thumbnail = await translateImage(normalising, image, { tileSize: 48, onProgress: (p) => seen.push([p.done, p.total]) });
      const own = await translateImage(normalising, image, { tileSize: 48, thumbnailStatistics: false });
      const windows = translatePlan(normalising, 96, 64, { tileSize: 48 }).tiles.length;
      expect(windows).toBe(4);
      // The thumbnail's run, then each window's.
      expect(seen).toEqual([0, 1, 2, 3, 4, 5].map((done) => [done, windows + 1]));
      expect(psnr(thumbnail.data, whole.data)).toBeGreaterThan(35);
      expect(psnr(own.data, whole.data)).toBeLessThan(25);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      normalising.model.dispose();
    }
  });

  it('runs concurrent calls on one model one after the other: each result as if alone, no tensor left', async () => {
    const large = [randomImage(96, 64, 31), randomImage(96, 64, 32)];
    const small = randomImage(20, 12, 33);
    const alone = [
      await translateImage(unet, large[0]!, { tileSize: 48 }),
      await translateImage(unet, large[1]!, { tileSize: 48 }),
      await translateImage(unet, small),
    ];
    const before = tf.memory().numTensors;
    const together = await Promise.all([
      translateImage(unet, large[0]!, { tileSize: 48 }),
      translateImage(unet, large[1]!, { tileSize: 48 }),
      translateImage(unet, small),
    ]);
    together.forEach((result, i) => expect(Buffer.from(result.data).equals(Buffer.from(alone[i]!.data)), `image ${i}`).toBe(true));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a call cancelled while it waits for its turn at once, and serves the next', async () => {
    let firstDone = false;
    const first = translateImage(unet, randomImage(96, 64, 35), { tileSize: 48 }).then((out) => ((firstDone = true), out));
    const controller = new AbortController();
    const waiting = translateImage(unet, randomImage(20, 12, 36), { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(firstDone).toBe(false);
    await first;
    expect((await translateImage(unet, randomImage(20, 12, 36))).width).toBe(20);
  });

  it('is not stopped by a progress callback that throws', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const out = await translateImage(unet, randomImage(96, 64, 34), {
        tileSize: 48,
        onProgress: () => {
          throw new Error('callback failed');
        },
      });
      expect(out.width).toBe(96);
    } finally {
      warn.mockRestore();
    }
  });

  it('puts the layers back when cancelled', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    await expect(
      translateImage(unet, randomImage(96, 64, 22), { tileSize: 48, signal: controller.signal, onProgress: (p) => p.done === 2 && controller.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(tf.memory().numTensors).toBe(before);
    const norms = unet.model.layers.filter((layer) => layer instanceof InstanceNorm);
    expect(norms.length).toBeGreaterThan(0);
    for (const layer of norms) expect((layer as InstanceNorm).statisticsMode).toEqual({ kind: 'own' });
  });
});

describe('InferenceService.translate', () => {
  it('uses the one paired model, refuses to guess between two, and refuses other kinds by name', async () => {
    const models = path.join(dir, 'models');
    await saveTestModel(invertingPairedNet(), path.join(models, 'negative'), testMetadata({ task: 'paired', scale: 1 }));
    await saveTestModel(randomSrNet(2, 3), path.join(models, 'sr-x2'), testMetadata({ task: 'sr', scale: 2 }));
    const png = await noisePng(21, 13, 4);
    const service = await createInferenceService({ modelsDir: models, backend: 'cpu' });
    try {
      const result = await service.translate(png);
      expect(result).toMatchObject({ width: 21, height: 13, inputWidth: 21, inputHeight: 13, model: 'negative' });
      expect(service.defaultModel('paired')?.name).toBe('negative');
      const input = await sharp(png).raw().toBuffer();
      const output = await sharp(result.png).raw().toBuffer({ resolveWithObject: true });
      expect(output.info.channels).toBe(4);
      // Fully transparent pixels take their visible neighbours' colour first (lib/image/alpha.ts).
      const visible = (i: number) => input[i - (i % 4) + 3]! > 0;
      const wrong = output.data.findIndex((v, i) => v !== (i % 4 === 3 ? input[i]! : visible(i) ? 255 - input[i]! : v));
      expect(wrong).toBe(-1);
      await expect(service.translate(png, { model: 'sr-x2' })).rejects.toThrow(/"sr-x2" is a super-resolution x2 model, not paired/);
      await expect(service.translate(png, { model: 'nope' })).rejects.toBeInstanceOf(ModelUnavailableError);
    } finally {
      service.dispose();
    }

    await saveTestModel(randomPairedUnet(2), path.join(models, 'facades'), testMetadata({ task: 'paired', scale: 1 }));
    const two = await createInferenceService({ modelsDir: models, backend: 'cpu' });
    try {
      await expect(two.translate(png)).rejects.toThrow(/holds 2 paired models \(facades, negative\) and none is a default: name the one to use/);
      await expect(two.translate(png)).rejects.toBeInstanceOf(ModelUnavailableError);
      expect((await two.translate(png, { model: 'facades' })).model).toBe('facades');
      // No default to offer either: the shells ask for a name.
      expect(two.defaultModel('paired')).toBeUndefined();
      // The other tools are unaffected by paired models.
      expect((await two.upscale(png, { scale: 2 })).model).toBe('sr-x2');
    } finally {
      two.dispose();
    }
  });
});
