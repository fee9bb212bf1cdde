import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedImage } from '@/lib/image/decode';
import { buildSeeded, buildSrNet, srNetContext } from '@/lib/models/generators';
import { initBackend } from '@/lib/tf/backend';
import { loadModel, runModel, type LoadedModel } from './models';
import { nearestSrNet, randomImage, randomSrNet, saveTestModel, testMetadata } from './test-models';
import { runTiles, upscaleImage, upscalePlan } from './upscale';

let dir: string;
let sr2: LoadedModel;
let sr4: LoadedModel;
let nearest3: LoadedModel;

/**
 * The untiled reference, computed independently of the tiling code: reflect-pad the whole image by
 * the padding with tf.mirrorPad, run the model once, crop the padding away (float, before quantising).
 */
/** One run over the whole image: as it is (`clip`, the default edges) or reflect-padded (`mirror`). */
function untiledReference(loaded: LoadedModel, image: DecodedImage, edges: 'clip' | 'mirror' = 'clip'): Float32Array {
  const p = edges === 'mirror' ? loaded.metadata.tile.padding : 0;
  const s = loaded.metadata.scale;
  return tf.tidy(() => {
    const x = tf.div(tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3]), 255);
    const padded = tf.mirrorPad(x as tf.Tensor4D, [[0, 0], [p, p], [p, p], [0, 0]], 'reflect');
    const y = runModel(loaded, padded as tf.Tensor4D);
    return tf.slice(y, [0, p * s, p * s, 0], [1, image.height * s, image.width * s, 3]).dataSync() as Float32Array;
  });
}

beforeAll(async () => {
  await initBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'infer-upscale-'));
  sr2 = await loadModel(await saveTestModel(randomSrNet(2, 3), path.join(dir, 'sr-x2'), testMetadata({ task: 'sr', scale: 2 })));
  sr4 = await loadModel(await saveTestModel(randomSrNet(4, 5), path.join(dir, 'sr-x4'), testMetadata({ task: 'sr', scale: 4 })));
  nearest3 = await loadModel(
    await saveTestModel(nearestSrNet(3), path.join(dir, 'nearest-x3'), testMetadata({ task: 'sr', scale: 3 })),
  );
});

afterAll(async () => {
  for (const m of [sr2, sr4, nearest3]) m?.model.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('upscaleImage', () => {
  it('gives exactly x2 and x4 sizes for odd, thin and tiny inputs', async () => {
    for (const [w, h] of [
      [1, 1],
      [1, 7],
      [9, 1],
      [13, 5],
      [37, 29],
    ] as const) {
      for (const loaded of [sr2, sr4]) {
        const s = loaded.metadata.scale;
        const out = await upscaleImage(loaded, randomImage(w, h, w * 31 + h));
        expect([out.width, out.height]).toEqual([w * s, h * s]);
        expect(out.data.length).toBe(w * s * h * s * 3);
        expect(out.alpha).toBeUndefined();
      }
    }
  });

  it('maps pixels exactly through the encoding, tiles and pixel shuffle (nearest-neighbour model)', async () => {
    const image = randomImage(23, 17, 11);
    const out = await upscaleImage(nearest3, image, { tileSize: 5 });
    let mismatches = 0;
    for (let y = 0; y < out.height; y++)
      for (let x = 0; x < out.width; x++)
        for (let c = 0; c < 3; c++) {
          const expected = image.data[(Math.floor(y / 3) * image.width + Math.floor(x / 3)) * 3 + c]!;
          if (out.data[(y * out.width + x) * 3 + c] !== expected) mismatches++;
        }
    expect(mismatches).toBe(0);
  });

  it('tiled output equals the untiled run within 1e-5 before quantisation (padding > receptive field)', async () => {
    const image = randomImage(41, 26, 99);
    for (const loaded of [sr2, sr4])
      for (const edges of ['clip', 'mirror'] as const) {
        const s = loaded.metadata.scale;
        expect(upscalePlan(loaded, 41, 26, { tileSize: 8, edges }).tiles.length).toBe(6 * 4);
        const tiled = new Float32Array(41 * s * 26 * s * 3);
        await runTiles(loaded, image.data, 41, 26, tiled, (v) => v, { tileSize: 8, edges });
        const reference = untiledReference(loaded, image, edges);
        let worst = 0;
        for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs(tiled[i]! - reference[i]!));
        expect(worst, edges).toBeLessThan(1e-5);
        // and the quantised image agrees with the quantised reference
        const bytes = await upscaleImage(loaded, image, { tileSize: 8, edges });
        let off = 0;
        for (let i = 0; i < reference.length; i++) if (Math.abs(bytes.data[i]! - reference[i]! * 255) > 0.5 + 1e-3) off++;
        expect(off, edges).toBe(0);
      }
    // The two edge modes differ (near the border only), so each comparison above can fail.
    const clip = untiledReference(sr2, image, 'clip');
    const mirror = untiledReference(sr2, image, 'mirror');
    expect(Math.max(...Array.from(clip, (v, i) => Math.abs(v - mirror[i]!)))).toBeGreaterThan(1e-3);
  });

  it('a trained-style srnet exported with srNetContext padding tiles exactly, and one pixel less does not', async () => {
    const makeNet = () => {
      const net = buildSeeded(7, () => buildSrNet({ kind: 'srnet', scale: 2, channels: 3, features: 4, blocks: 3 }));
      // Make every residual branch matter (the builder starts them near zero).
      net.setWeights(net.getWeights().map((w, i) => tf.tidy(() => tf.mul(tf.randomNormal(w.shape, 0, 1, 'float32', 100 + i), 0.3))));
      return net;
    };
    const padding = srNetContext({ blocks: 3 });
    const worstFor = async (p: number) => {
      const metadata = testMetadata({ task: 'sr', scale: 2 }, { tile: { size: 8, padding: p, multipleOf: 1 } });
      const loaded = await loadModel(await saveTestModel(makeNet(), path.join(dir, `srnet-context-${p}`), metadata));
      const image = randomImage(30, 21, 4);
      const tiled = new Float32Array(30 * 2 * 21 * 2 * 3);
      await runTiles(loaded, image.data, 30, 21, tiled, (v) => v, { tileSize: 8 });
      const reference = untiledReference(loaded, image);
      let worst = 0;
      for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs(tiled[i]! - reference[i]!));
      loaded.model.dispose();
      return worst;
    };
    expect(await worstFor(padding)).toBeLessThan(1e-4);
    expect(await worstFor(padding - 1)).toBeGreaterThan(1e-3);
  });

  it('values stay in 0..255 and are not constant', async () => {
    const out = await upscaleImage(sr2, randomImage(20, 20, 5));
    const values = new Set(out.data);
    expect(values.size).toBeGreaterThan(20);
  });

  it('upscales alpha (cubic) and keeps opaque/transparent regions', async () => {
    const image = randomImage(12, 8, 1, true);
    // left half transparent, right half opaque
    for (let y = 0; y < 8; y++) for (let x = 0; x < 12; x++) image.alpha![y * 12 + x] = x < 6 ? 0 : 255;
    const out = await upscaleImage(sr4, image);
    expect(out.alpha).toBeDefined();
    expect(out.alpha!.length).toBe(48 * 32);
    expect(out.alpha![5 * 48 + 2]).toBe(0);
    expect(out.alpha![5 * 48 + 45]).toBe(255);
  });

  it('colour hidden under transparent pixels does not show at the visible edges (white cut-out over transparent black)', async () => {
    const width = 16;
    const height = 10;
    const data = new Uint8Array(width * height * 3);
    const alpha = new Uint8Array(width * height);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const visible = x >= 4 && x < 12 && y >= 3 && y < 7;
        alpha[y * width + x] = visible ? 255 : 0;
        data.fill(visible ? 240 : 0, (y * width + x) * 3, (y * width + x + 1) * 3);
      }
    // The nearest-neighbour model copies each input pixel, so only what is under the upscaled alpha matters.
    const out = await upscaleImage(nearest3, { width, height, channels: 3, hasAlpha: true, data, alpha });
    let edgePixels = 0;
    for (let i = 0; i < out.width * out.height; i++) {
      if (out.alpha![i] === 0) continue;
      if (out.alpha![i]! < 255) edgePixels++;
      expect([...out.data.subarray(i * 3, i * 3 + 3)]).toEqual([240, 240, 240]);
    }
    expect(edgePixels).toBeGreaterThan(0);
  });

  it('reports progress from 0 to the number of tiles, in order', async () => {
    const seen: { done: number; total: number }[] = [];
    await upscaleImage(sr2, randomImage(30, 20, 2), { tileSize: 10, onProgress: (p) => seen.push({ done: p.done, total: p.total }) });
    expect(seen.map((p) => p.done)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(seen.every((p) => p.total === 6)).toBe(true);
  });

  it('stops between tiles on abort with an AbortError, leaking no tensors', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let tilesRun = 0;
    const run = upscaleImage(sr2, randomImage(40, 40, 8), {
      tileSize: 8,
      signal: controller.signal,
      onProgress: (p) => {
        tilesRun = p.done;
        if (p.done === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(tilesRun).toBe(2);
    expect(tf.memory().numTensors).toBe(before);

    const already = new AbortController();
    already.abort();
    await expect(upscaleImage(sr2, randomImage(4, 4, 1), { signal: already.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('leaks no tensors over a full run', async () => {
    await upscaleImage(sr4, randomImage(10, 10, 3));
    const before = tf.memory().numTensors;
    await upscaleImage(sr4, randomImage(33, 9, 4), { tileSize: 8 });
    await upscaleImage(sr2, randomImage(5, 50, 4), { blend: 'feather', tileSize: 16 });
    await upscaleImage(sr2, randomImage(13, 7, 4), { tileSize: 8, ensemble: true });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ensemble: the mean over the 8 flips/transpositions, each turned back (checked on pixel arrays, tiled)', async () => {
    const w = 19;
    const h = 12;
    const image = randomImage(w, h, 21);
    /** Pixel (x, y) of the image under symmetry t: transpose (bit 2) first, then flip rows (1), columns (2). */
    const transformed = (src: Uint8Array | Float32Array, width: number, height: number, t: number) => {
      const [tw, th] = t & 4 ? [height, width] : [width, height];
      const out = new Float32Array(tw * th * 3);
      for (let y = 0; y < th; y++)
        for (let x = 0; x < tw; x++) {
          const yy = t & 1 ? th - 1 - y : y;
          const xx = t & 2 ? tw - 1 - x : x;
          const [sx, sy] = t & 4 ? [yy, xx] : [xx, yy];
          for (let c = 0; c < 3; c++) out[(y * tw + x) * 3 + c] = src[(sy * width + sx) * 3 + c]!;
        }
      return { data: out, width: tw, height: th };
    };
    for (const loaded of [sr2, nearest3]) {
      const s = loaded.metadata.scale;
      const expected = new Float32Array(w * s * h * s * 3);
      for (let t = 0; t < 8; t++) {
        const view = transformed(image.data, w, h, t);
        const out = new Float32Array(view.width * s * view.height * s * 3);
        await runTiles(loaded, Uint8Array.from(view.data), view.width, view.height, out, (v) => v, { tileSize: 8 });
        // Undo: the inverse of "transpose, flip" is "flip, transpose back"; checked by mapping each output pixel back.
        for (let y = 0; y < h * s; y++)
          for (let x = 0; x < w * s; x++) {
            const [vx, vy] = t & 4 ? [y, x] : [x, y];
            const fx = t & 2 ? view.width * s - 1 - vx : vx;
            const fy = t & 1 ? view.height * s - 1 - vy : vy;
            for (let c = 0; c < 3; c++) expected[(y * w * s + x) * 3 + c]! += out[(fy * view.width * s + fx) * 3 + c]! / 8;
          }
      }
      const ensembled = new Float32Array(expected.length);
      await runTiles(loaded, image.data, w, h, ensembled, (v) => v, { tileSize: 8, ensemble: true });
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(ensembled[i]! - expected[i]!));
      expect(worst, loaded.name).toBeLessThan(1e-5);
      const plain = new Float32Array(expected.length);
      await runTiles(loaded, image.data, w, h, plain, (v) => v, { tileSize: 8 });
      const plainDiff = Math.max(...Array.from(plain, (v, i) => Math.abs(v - ensembled[i]!)));
      // Nearest-neighbour upscaling commutes with every symmetry, so the ensemble changes nothing;
      // a random network does not, so there it must differ (this is what makes the first check bite).
      if (loaded === nearest3) expect(plainDiff).toBeLessThan(1e-6);
      else expect(plainDiff).toBeGreaterThan(1e-3);
    }
  });

  it('ensemble: yields to the event loop between its 8 passes and stops there when aborted, leaking nothing', async () => {
    const image = randomImage(12, 12, 5);
    // One tile (12 px, tile 16): without yields inside the tile, no timer could run before it ends.
    let turns = 0;
    let turnsDuringTile = -1;
    const ticker = setInterval(() => turns++, 0);
    try {
      await upscaleImage(sr2, image, { tileSize: 16, ensemble: true, onProgress: (p) => void (p.done === 1 && (turnsDuringTile = turns)) });
    } finally {
      clearInterval(ticker);
    }
    expect(turnsDuringTile).toBeGreaterThan(0);

    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let passes = 0;
    const counter = setInterval(() => {
      if (++passes === 2) controller.abort();
    }, 0);
    try {
      await expect(upscaleImage(sr2, image, { tileSize: 16, ensemble: true, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      clearInterval(counter);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('feather blending equals crop when the padding covers the receptive field', async () => {
    const image = randomImage(30, 30, 12);
    const crop = await upscaleImage(sr2, image, { tileSize: 8 });
    const feather = await upscaleImage(sr2, image, { tileSize: 8, blend: 'feather' });
    let worst = 0;
    for (let i = 0; i < crop.data.length; i++) worst = Math.max(worst, Math.abs(crop.data[i]! - feather.data[i]!));
    expect(worst).toBeLessThanOrEqual(1);
  });
});
