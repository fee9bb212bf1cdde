import { mkdtempSync, rmSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '@/lib/cli/args';
import { randomColorizer, saveTestModel, testMetadata } from '@/lib/infer/test-models';
import { initBackend } from '@/lib/tf/backend';
import { DataError } from './data';
import { fromBytes } from './image';
import { loadOurMethods } from './methods';
import { evaluatePairedMethod, identityBaseline, orientPairs, resolveDirection, trainedDirection } from './paired';
import { evaluatePaired, loadPairedImages, skippedNotes } from './run';

const root = mkdtempSync(path.join(os.tmpdir(), 'eval-paired-'));
beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const W = 24;
const H = 20;

/** Deterministic noise bytes (RGB), so that every channel and pixel differ. */
function noise(seed: number, width = W, height = H): Uint8Array {
  let a = seed;
  return Uint8Array.from({ length: width * height * 3 }, () => ((a = (a * 1103515245 + 12345) % 2147483648), (a >> 8) % 256));
}

/** Channel rotation: output channel c is input channel c + 1 (R <- G, G <- B, B <- R). Applied twice it is not the identity. */
function rotate(rgb: Uint8Array): Uint8Array {
  return rgb.map((_, i) => rgb[i - (i % 3) + (((i % 3) + 1) % 3)]!);
}

/** PSNR over all bytes, written out here so the evaluation's own metric is not what checks itself. */
function expectedPsnr(output: Uint8Array, target: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < output.length; i++) sum += (output[i]! - target[i]!) ** 2;
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255) / (sum / output.length));
}

async function writePng(file: string, rgb: Uint8Array, width = W, height = H): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toFile(file);
}

/**
 * A paired model that rotates the colour channels (a 1x1 conv with a permutation kernel): through
 * the `rgb-tanh` pipeline each output byte is exactly an input byte, and unlike an inverter
 * (255 - x, its own inverse) it scores differently A->B and B->A, so a swapped direction shows.
 */
function rotatingPairedNet(): tfl.LayersModel {
  const input = tfl.input({ shape: [null, null, 3] });
  const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 1, useBias: false });
  const model = tfl.model({ inputs: input, outputs: conv.apply(input) as tfl.SymbolicTensor });
  // kernel[in][out] = 1 where in = out + 1 (mod 3).
  const kernel = new Float32Array(9);
  for (let out = 0; out < 3; out++) kernel[((out + 1) % 3) * 3 + out] = 1;
  const weights = [tf.tensor4d(kernel, [1, 1, 3, 3])];
  conv.setWeights(weights);
  tf.dispose(weights);
  return model;
}

function trainedAs(direction: 'AtoB' | 'BtoA') {
  return {
    training: { config: { task: 'paired', direction }, steps: 0, wallTimeSeconds: 0, backend: 'cpu', data: { description: 'none', images: 0 } },
  };
}

describe('paired data, read as training reads it', () => {
  it('pairs A/ and B/ by path (sub-folders apart), and names each file it skips once, by kind', async () => {
    const data = path.join(root, 'ab');
    await writePng(path.join(data, 'A', 'x', 'p.png'), noise(1));
    await writePng(path.join(data, 'B', 'x', 'p.png'), noise(2));
    await writePng(path.join(data, 'A', 'y', 'p.png'), noise(3));
    await writePng(path.join(data, 'B', 'y', 'p.jpg'), noise(4)); // another extension pairs by name
    await writePng(path.join(data, 'A', 'only-a.png'), noise(5));
    await writePng(path.join(data, 'B', 'only-b.png'), noise(6));
    await writePng(path.join(data, 'A', 'size.png'), noise(7));
    await writePng(path.join(data, 'B', 'size.png'), noise(8, 20, 20), 20, 20);
    await writePng(path.join(data, 'A', 'tiny.png'), noise(9, 8, 8), 8, 8);
    await writePng(path.join(data, 'B', 'tiny.png'), noise(10, 8, 8), 8, 8);
    await writePng(path.join(data, 'A', 'broken.png'), noise(11));
    await fs.writeFile(path.join(data, 'B', 'broken.png'), 'not an image\n');
    const lines: string[] = [];
    const loaded = await loadPairedImages(data, undefined, (line) => lines.push(line));
    expect(loaded.layout).toBe('folders');
    // Each pair holds its own A and B: the first pixel of each tells which file it came from.
    const first = (seed: number) => fromBytes(noise(seed).subarray(0, 3), 1, 1, 3).data[0];
    expect(loaded.pairs.map((p) => [p.name, p.a.data[0], p.b.data[0]])).toEqual([
      ['x/p.png', first(1), first(2)],
      ['y/p.png', first(3), first(4)],
    ]);
    expect(loaded.skipped.map((s) => [s.name, s.kind])).toEqual([
      [path.join('B', 'broken.png'), 'unreadable'],
      [path.join('A', 'broken.png'), 'unpaired'],
      [path.join('A', 'only-a.png'), 'unpaired'],
      [path.join('A', 'size.png'), 'size mismatch'],
      [path.join('B', 'only-b.png'), 'unpaired'],
      ['tiny.png', 'too small'],
    ]);
    for (const name of ['broken.png', 'only-a.png', 'only-b.png', 'size.png', 'tiny.png']) {
      expect(lines.filter((l) => l.startsWith('skipped ') && l.includes(name)).length, name).toBe(name === 'broken.png' ? 2 : 1);
    }
    expect(lines).toContain('skipped tiny.png: too small to score (8x8; SSIM needs at least 11 x 11 px)');
    expect(lines.at(-1)).toBe(`2 pairs from ${data} (1 unreadable, 1 too small, 3 unpaired, 1 of different sizes, skipped)`);
    expect(skippedNotes(loaded.skipped, 'SSIM needs at least 11 x 11 px')).toEqual([
      `1 unreadable file skipped: ${path.join('B', 'broken.png')}.`,
      '1 image too small to score skipped (SSIM needs at least 11 x 11 px): tiny.png (8x8).',
      `3 files without a partner skipped: ${path.join('A', 'broken.png')} (no image of the same name in B/), ` +
        `${path.join('A', 'only-a.png')} (no image of the same name in B/), ${path.join('B', 'only-b.png')} (no image of the same name in A/).`,
      `1 pair of different sizes skipped: ${path.join('A', 'size.png')} (A is 24x20 but B is 20x20).`,
    ]);
    // --limit counts scored pairs.
    expect((await loadPairedImages(data, 1, () => {})).pairs.map((p) => p.name)).toEqual(['x/p.png']);
  });

  it('splits side-by-side images into A (left) and B (right) halves', async () => {
    const data = path.join(root, 'sbs');
    const left = noise(21);
    const right = noise(22);
    const joined = new Uint8Array(2 * W * H * 3);
    for (let y = 0; y < H; y++) {
      joined.set(left.subarray(y * W * 3, (y + 1) * W * 3), y * 2 * W * 3);
      joined.set(right.subarray(y * W * 3, (y + 1) * W * 3), (y * 2 + 1) * W * 3);
    }
    await writePng(path.join(data, 'pair.png'), joined, 2 * W, H);
    await writePng(path.join(data, 'narrow.png'), noise(23, 20, 20), 20, 20); // halves of 10 px
    const loaded = await loadPairedImages(data, undefined, () => {});
    expect(loaded.layout).toBe('side-by-side');
    expect(loaded.pairs.map((p) => p.name)).toEqual(['pair.png']);
    expect(loaded.pairs[0]!.a).toEqual(fromBytes(left, W, H, 3));
    expect(loaded.pairs[0]!.b).toEqual(fromBytes(right, W, H, 3));
    expect(loaded.skipped).toEqual([{ name: 'narrow.png', kind: 'too small', reason: '10x20' }]);
  });

  it('is a data error when nothing can be scored, saying why', async () => {
    const data = path.join(root, 'none');
    await writePng(path.join(data, 'A', 'a.png'), noise(1));
    await writePng(path.join(data, 'B', 'b.png'), noise(2));
    const error = await loadPairedImages(data, undefined, () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(
      `No pair in ${data} can be scored (read as A/ and B/ folders). 2 files without a partner skipped: ` +
        `${path.join('A', 'a.png')} (no image of the same name in B/), ${path.join('B', 'b.png')} (no image of the same name in A/).`,
    );
    const missing = await loadPairedImages(path.join(root, 'missing'), undefined, () => {}).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(DataError);
    expect((missing as Error).message).toContain('Data folder not found');
  });
});

describe('paired scores', () => {
  // x/p: B is exactly A rotated (the model reproduces it); y/p: B is A rotated with every fifth value off by 9.
  const a1 = noise(31);
  const a2 = noise(32);
  const b1 = rotate(a1);
  const b2 = rotate(a2).map((v, i) => (i % 5 === 0 ? Math.min(255, v + 9) : v));
  let data: string;
  let modelDir: string;

  beforeAll(async () => {
    data = path.join(root, 'scores');
    await writePng(path.join(data, 'A', 'x', 'p.png'), a1);
    await writePng(path.join(data, 'B', 'x', 'p.png'), b1);
    await writePng(path.join(data, 'A', 'y', 'p.png'), a2);
    await writePng(path.join(data, 'B', 'y', 'p.png'), b2);
    modelDir = await saveTestModel(rotatingPairedNet(), path.join(root, 'rotate'), testMetadata({ task: 'paired', scale: 1 }));
  });

  it('scores the model through the inference service, per pair and in the direction asked, and the input as baseline', async () => {
    const { pairs } = await loadPairedImages(data, undefined, () => {});
    const ours = await loadOurMethods('paired', 1, [modelDir]);
    try {
      const model = ours.methods[0]!;
      expect(model.name).toBe('ours (rotate)');

      const forward = await evaluatePairedMethod(model, orientPairs(pairs, 'AtoB'));
      expect(forward.perImage.map((s) => [s.image, s.psnr])).toEqual([
        ['x/p.png', Infinity],
        ['y/p.png', expect.closeTo(expectedPsnr(rotate(a2), b2), 6)],
      ]);
      expect(forward.perImage[0]!.ssim).toBe(1);
      expect(forward.psnr).toBeCloseTo(expectedPsnr(rotate(a2), b2), 6);
      expect(forward.perfectImages).toBe(1);

      // B->A: the input is B and A the target; rotating B does not give A back.
      const backward = await evaluatePairedMethod(model, orientPairs(pairs, 'BtoA'));
      const expected = [expectedPsnr(rotate(b1), a1), expectedPsnr(rotate(b2), a2)];
      expect(backward.perImage.map((s) => s.psnr)).toEqual([expect.closeTo(expected[0]!, 6), expect.closeTo(expected[1]!, 6)]);
      // The row is the mean of the per-image PSNRs (not the PSNR of the pooled error).
      expect(backward.psnr).toBeCloseTo((expected[0]! + expected[1]!) / 2, 6);
      expect(backward.perfectImages).toBeUndefined();
      expect(backward.perImage[0]!.ssim).toBeLessThan(0.5);

      const baseline = await evaluatePairedMethod(identityBaseline, orientPairs(pairs, 'AtoB'), { warmUp: false });
      expect(baseline.perImage.map((s) => s.psnr)).toEqual([expect.closeTo(expectedPsnr(a1, b1), 6), expect.closeTo(expectedPsnr(a2, b2), 6)]);
      expect(baseline.psnr).toBeCloseTo((expectedPsnr(a1, b1) + expectedPsnr(a2, b2)) / 2, 6);
      expect(baseline.psnr).toBeLessThan(forward.psnr);
      expect(forward.msPerMegapixel).toBeGreaterThan(0);
    } finally {
      ours.dispose();
    }
  });

  it("takes the direction the model was trained in when --direction is not given, and notes a model scored against it", async () => {
    const backwardModel = await saveTestModel(rotatingPairedNet(), path.join(root, 'rotate-btoa'), testMetadata({ task: 'paired', scale: 1 }, trainedAs('BtoA')));
    expect(await trainedDirection(backwardModel)).toBe('BtoA');
    expect(await trainedDirection(modelDir)).toBeUndefined();
    const base = { task: 'paired' as const, data, model: [backwardModel], backend: 'wasm' as const, json: false, verbose: false };

    const byMetadata = await evaluatePaired(base, () => {});
    expect(byMetadata.direction).toBe('BtoA');
    expect(byMetadata.rows.map((r) => r.method)).toEqual(['input (identity)', 'ours (rotate-btoa)']);
    expect(byMetadata.rows[1]!.psnr).toBeCloseTo((expectedPsnr(rotate(b1), a1) + expectedPsnr(rotate(b2), a2)) / 2, 6);
    expect(byMetadata.notes).toEqual([]);

    const asked = await evaluatePaired({ ...base, direction: 'AtoB' }, () => {});
    expect(asked.direction).toBe('AtoB');
    expect(asked.rows[1]!.psnr).toBeCloseTo(expectedPsnr(rotate(a2), b2), 6);
    expect(asked.notes).toEqual([
      'ours (rotate-btoa) was trained BtoA but is scored AtoB here, as --direction asks.',
      'ours (rotate-btoa) reproduced x/p.png exactly (PSNR infinite); its PSNR is the mean over the other images.',
    ]);
  });

  it('resolves the direction: --direction, else the models\' own, else AtoB; models trained both ways need --direction', () => {
    expect(resolveDirection(undefined, [])).toEqual({ direction: 'AtoB', source: 'the default', notes: [] });
    expect(resolveDirection(undefined, [{ model: 'm', direction: undefined }]).direction).toBe('AtoB');
    expect(resolveDirection(undefined, [{ model: 'm', direction: 'BtoA' }])).toEqual({ direction: 'BtoA', source: "the models' training direction", notes: [] });
    expect(resolveDirection('AtoB', [{ model: 'm', direction: 'AtoB' }]).notes).toEqual([]);
    expect(() => resolveDirection(undefined, [{ model: 'm', direction: 'AtoB' }, { model: 'n', direction: 'BtoA' }])).toThrow(UsageError);
    expect(resolveDirection('BtoA', [{ model: 'm', direction: 'AtoB' }, { model: 'n', direction: 'BtoA' }]).notes).toEqual([
      'm was trained AtoB but is scored BtoA here, as --direction asks.',
    ]);
  });

  it('refuses a --model of another task, and a models folder of several paired models without --model', async () => {
    const folder = path.join(root, 'models');
    await saveTestModel(rotatingPairedNet(), path.join(folder, 'one'), testMetadata({ task: 'paired', scale: 1 }));
    await saveTestModel(rotatingPairedNet(), path.join(folder, 'two'), testMetadata({ task: 'paired', scale: 1 }));
    const colorizer = await saveTestModel(randomColorizer(), path.join(root, 'colorizer'), testMetadata({ task: 'colorize', scale: 1 }));
    const wrong = await loadOurMethods('paired', 1, [colorizer]).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(UsageError);
    expect((wrong as Error).message).toBe(`--model ${colorizer} is a colorize model, not paired`);

    const previous = process.env.MODELS_DIR;
    process.env.MODELS_DIR = folder;
    try {
      const error = await loadOurMethods('paired', 1, []).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toBe(`${folder} holds 2 paired models (one, two) and none is a default: choose one with --model <dir>`);
    } finally {
      if (previous === undefined) delete process.env.MODELS_DIR;
      else process.env.MODELS_DIR = previous;
    }
  });
});
