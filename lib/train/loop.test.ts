import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DataError, loadRgbImage } from '@/lib/data/images';
import { createInferenceService } from '@/lib/infer/service';
import { resolveConfig, resolveConfigWithInit, resolveNewRunConfig, resolveResumeConfig, trainFlagsSchema, type TrainConfig } from './config';
import { Pix2PixTrainer } from './pix2pix';
import { estimateEta, train, TrainSetupError } from './loop';
import { summariseRunLog } from './export';

let root: string;
let photos: string;

/** Smooth random-ish colour images, so crops differ and every task has something to learn. */
async function writeFixtures(dir: string, count: number): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const w = 72 + i * 5;
    const h = 70 + i * 3;
    const data = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const k = (y * w + x) * 3;
        data[k] = (128 + 100 * Math.sin((x + i * 7) / 9)) | 0;
        data[k + 1] = (128 + 100 * Math.cos((y - i * 5) / 11)) | 0;
        data[k + 2] = ((x * y) / 40 + i * 30) % 256 | 0;
      }
    }
    await sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(dir, `img${i}.png`));
  }
}

function tinyFlags(overrides: Record<string, unknown>) {
  return trainFlagsSchema.parse({
      data: photos,
      runsDir: path.join(root, 'runs'),
      modelsDir: path.join(root, 'models'),
      steps: 3,
      batchSize: 2,
      logEvery: 1,
      valEvery: 100,
      sampleEvery: 2,
      seed: 7,
      ...overrides,
    });
}

function tinyConfig(overrides: Record<string, unknown>): TrainConfig {
  return resolveConfig(tinyFlags(overrides));
}

const quiet = { log: () => undefined };

async function readLosses(runDir: string): Promise<{ step: number; lossG: number; lossD: number }[]> {
  const text = await fs.readFile(path.join(runDir, 'log.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; step: number; lossG: number; lossD: number })
    .filter((e) => e.type === 'train');
}

describe('training loop', () => {
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'pix2pix-loop-'));
    photos = path.join(root, 'photos');
    await writeFixtures(photos, 5);
    process.env.TF_BACKEND = 'wasm';
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('smoke: trains sr x2 for 3 steps, exports, and the exported model upscales', async () => {
    const config = tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 8, blocks: 1, run: 'sr-smoke', export: 'sr-x2' });
    const result = await train(config, quiet);
    expect(result.step).toBe(3);
    expect(result.exportedTo).toBeDefined();
    const samples = await fs.readdir(path.join(result.runDir, 'samples'));
    expect(samples).toContain('step-00000002.png');
    const service = await createInferenceService({ modelsDir: path.join(root, 'models') });
    const input = await sharp({ create: { width: 23, height: 17, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer();
    const out = await service.upscale(input, { scale: 2 });
    expect([out.width, out.height]).toEqual([46, 34]);
    const raw = await sharp(out.png).raw().toBuffer();
    expect(raw.length).toBe(46 * 34 * 3);
    // An export from the checkpoint later (npm run export) reads what data the run used from its log.
    const logged = summariseRunLog(await fs.readFile(path.join(result.runDir, 'log.jsonl'), 'utf8'), result.step);
    expect(logged.data).toEqual({ description: `5 images from ${photos}`, images: 5 });
    expect(Object.keys(logged.metrics)).toContain('val_psnr');
  });

  it('holds out the same photos whatever --seed (--val-seed draws the split) and lists them in held-out.txt', async () => {
    const heldOut = async (run: string, overrides: Record<string, unknown>, valSeedNull = false) => {
      const config = tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 1, sampleEvery: 100, valFraction: 0.4, run, ...overrides });
      const result = await train(valSeedNull ? { ...config, valSeed: null } : config, quiet);
      return (await fs.readFile(path.join(result.runDir, 'held-out.txt'), 'utf8')).trim().split('\n');
    };
    const a = await heldOut('split-a', { seed: 7 });
    expect(a.length).toBeGreaterThan(1);
    expect(a.every((name) => name.endsWith('.png'))).toBe(true);
    expect(await heldOut('split-b', { seed: 8 })).toEqual(a);
    // Other split seeds give other splits (2 of 5 photos: any one seed may repeat this one).
    const others = [await heldOut('split-c', { seed: 7, valSeed: 5 }), await heldOut('split-d', { seed: 7, valSeed: 6 })];
    expect(others.some((names) => names.join() !== a.join())).toBe(true);
    // Configs from before --val-seed (valSeed null) still split with their own seed, as they did.
    const old = [await heldOut('split-old7', { seed: 7 }, true), await heldOut('split-old8', { seed: 8 }, true), await heldOut('split-old9', { seed: 9 }, true)];
    expect(new Set(old.map((names) => names.join())).size).toBeGreaterThan(1);
  });

  it('--val-fraction 0 validates on a training image and says so, instead of calling it held out', async () => {
    const lines: string[] = [];
    const config = tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 1, sampleEvery: 100, valFraction: 0, run: 'no-hold-out', export: 'no-hold-out' });
    const result = await train(config, { log: (line) => lines.push(line) });
    const dataLine = lines.find((line) => line.startsWith('data: ')) ?? '';
    expect(dataLine).toMatch(/which is also trained on/);
    expect(dataLine).not.toMatch(/held out \(listed/);
    expect(await fs.readFile(path.join(result.runDir, 'held-out.txt'), 'utf8')).toBe('');
    // The training image's scores are logged, but neither the exported metadata (whose card calls its
    // metrics held-out scores) nor a later export from the checkpoint records them.
    const text = await fs.readFile(path.join(result.runDir, 'log.jsonl'), 'utf8');
    expect(text).toMatch(/"type":"val"/);
    const metadata = JSON.parse(await fs.readFile(path.join(result.exportedTo!, 'metadata.json'), 'utf8')) as { metrics: Record<string, number> };
    expect(metadata.metrics).toEqual({});
    expect(summariseRunLog(text, result.step)).toMatchObject({ metrics: {}, heldOut: 0 });
  });

  it('validates the final weights when the last step is not a --val-every step, and exports those metrics', async () => {
    const config = tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 3, valEvery: 2, sampleEvery: 100, valFraction: 0.4, run: 'final-val', export: 'final-val' });
    const result = await train(config, quiet);
    const text = await fs.readFile(path.join(result.runDir, 'log.jsonl'), 'utf8');
    const vals = text.split('\n').filter((line) => line.includes('"type":"val"')).map((line) => JSON.parse(line) as { step: number; metrics: { psnr: number } });
    expect(vals.map((v) => v.step)).toEqual([2, 3]);
    const metadata = JSON.parse(await fs.readFile(path.join(result.exportedTo!, 'metadata.json'), 'utf8')) as { metrics: Record<string, number> };
    expect(metadata.metrics.val_psnr).toBe(vals[1]!.metrics.psnr);
  });

  it('--init-from fine-tunes an exported model: its sizes, its weights; mismatches are refused', async () => {
    const source = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 8, blocks: 1, steps: 2, run: 'init-src', export: 'init-src' }), quiet);
    const config = await resolveConfigWithInit(tinyFlags({ task: 'sr', cropSize: 32, initFrom: source.exportedTo, steps: 1, lr: 1e-12, run: 'init-ft', export: 'init-ft' }));
    expect(config.generator).toMatchObject({ kind: 'srnet', scale: 2, features: 8, blocks: 1 });
    const tuned = await train(config, quiet);
    // The metadata names the model it started from by its folder's name, not a local absolute path.
    const tunedMetadata = JSON.parse(await fs.readFile(path.join(tuned.exportedTo!, 'metadata.json'), 'utf8')) as { training: { config: { initFrom: string } } };
    expect(tunedMetadata.training.config.initFrom).toBe('init-src');
    const weights = async (dir: string) => new Float32Array((await fs.readFile(path.join(dir, 'weights.bin'))).buffer.slice(0));
    const [before, after] = await Promise.all([weights(source.exportedTo!), weights(tuned.exportedTo!)]);
    expect(after.length).toBe(before.length);
    // lr 1e-12: one Adam step moves nothing visible, so equal weights mean the run started from the export.
    let maxDiff = 0;
    for (let i = 0; i < before.length; i++) maxDiff = Math.max(maxDiff, Math.abs(after[i]! - before[i]!));
    expect(maxDiff).toBeLessThan(1e-6);
    const fresh = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 8, blocks: 1, steps: 1, lr: 1e-12, seed: 99, run: 'init-fresh', export: 'init-fresh' }), quiet);
    const freshWeights = await weights(fresh.exportedTo!);
    expect(freshWeights.some((v, i) => Math.abs(v - before[i]!) > 1e-3)).toBe(true);

    const wider = await resolveConfigWithInit(tinyFlags({ task: 'sr', cropSize: 32, features: 12, initFrom: source.exportedTo, run: 'init-bad' }));
    await expect(train(wider, quiet)).rejects.toThrow(/architecture/);
    const shallower = await resolveConfigWithInit(tinyFlags({ task: 'sr', cropSize: 32, blocks: 0, initFrom: source.exportedTo, run: 'init-bad2' }));
    await expect(train(shallower, quiet)).rejects.toThrow(/architecture/);
    await expect(resolveConfigWithInit(tinyFlags({ task: 'colorize', cropSize: 32, initFrom: source.exportedTo }))).rejects.toThrow(/is a super-resolution model, not colorize/);
  });

  it('--init-from a U-Net with another --dropout copies every layer (dropout has no weights); another ngf is refused', async () => {
    const common = { task: 'colorize', cropSize: 32, ngf: 4, depth: 3 };
    const source = await train(tinyConfig({ ...common, dropout: 0.5, steps: 2, lr: 1e-2, gan: 'none', run: 'drop-src', export: 'drop-src' }), quiet);
    const config = await resolveConfigWithInit(tinyFlags({ task: 'colorize', cropSize: 32, dropout: 0, initFrom: source.exportedTo, gan: 'none', steps: 1, lr: 1e-12, run: 'drop-0', export: 'drop-0' }));
    expect(config.generator).toMatchObject({ kind: 'unet', ngf: 4, depth: 3, dropout: 0 });
    const lines: string[] = [];
    const tuned = await train(config, { log: (line) => lines.push(line) });
    expect(lines).toContain('dropout 0.5 -> 0: 9 layers copied'); // every layer with weights: convolutions and norms
    const weights = async (dir: string) => new Float32Array((await fs.readFile(path.join(dir, 'weights.bin'))).buffer.slice(0));
    const [before, after] = await Promise.all([weights(source.exportedTo!), weights(tuned.exportedTo!)]);
    expect(after.length).toBe(before.length);
    expect(before.reduce((worst, v, i) => Math.max(worst, Math.abs(v - after[i]!)), 0)).toBeLessThan(1e-6);
    const wider = await resolveConfigWithInit(tinyFlags({ task: 'colorize', cropSize: 32, ngf: 8, dropout: 0, initFrom: source.exportedTo, run: 'drop-bad' }));
    await expect(train(wider, quiet)).rejects.toThrow(/a U-Net change --head or --dropout/);
  });

  it('--init-from an sr model at another --scale copies all but the tail, which starts fresh (EDSR: x4 from x2)', async () => {
    const source = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 8, blocks: 1, steps: 2, lr: 1e-2, run: 'x2-src', export: 'x2-src' }), quiet);
    const config = await resolveConfigWithInit(tinyFlags({ task: 'sr', scale: 4, cropSize: 32, initFrom: source.exportedTo, steps: 1, lr: 1e-12, run: 'x4-from-x2', export: 'x4-from-x2' }));
    expect(config.generator).toMatchObject({ kind: 'srnet', scale: 4, features: 8, blocks: 1 });
    const lines: string[] = [];
    const x4 = await train(config, { log: (line) => lines.push(line) });
    expect(lines.some((l) => /grew .*: 3 layers copied; tail starts fresh \(another scale\)/.test(l))).toBe(true);
    const { loadLayersFrom } = await import('@/lib/models/layers');
    const [from, to] = await Promise.all([loadLayersFrom(source.exportedTo!), loadLayersFrom(x4.exportedTo!)]);
    for (const name of ['head', 'block0_conv1', 'block0_conv2']) {
      const [a, b] = [from.getLayer(name).getWeights()[0]!, to.getLayer(name).getWeights()[0]!];
      expect(Math.max(...Array.from(a.dataSync(), (v, i) => Math.abs(v - b.dataSync()[i]!)))).toBeLessThan(1e-6);
    }
    expect(to.getLayer('tail').getWeights()[0]!.shape).toEqual([3, 3, 8, 48]);
    from.dispose();
    to.dispose();
  });

  it('--init-from may grow an srnet by blocks: old layers copied, new ones start near the identity', async () => {
    const source = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 8, blocks: 1, steps: 3, lr: 1e-2, run: 'grow-src', export: 'grow-src' }), quiet);
    const lines: string[] = [];
    const config = await resolveConfigWithInit(tinyFlags({ task: 'sr', cropSize: 32, blocks: 3, initFrom: source.exportedTo, steps: 1, lr: 1e-12, run: 'grow', export: 'grow' }));
    const grown = await train(config, { log: (line) => lines.push(line) });
    expect(lines.some((l) => /grew .* 4 layers copied, the new blocks start near the identity$/.test(l))).toBe(true);
    const service = await createInferenceService({ modelsDir: path.join(root, 'models') });
    const input = await sharp(path.join(photos, 'img1.png')).png().toBuffer();
    const raw = async (name: string) => sharp((await service.upscale(input, { scale: 2, model: name })).png).raw().toBuffer();
    const [before, after] = await Promise.all([raw('grow-src'), raw('grow')]);
    let total = 0;
    for (let i = 0; i < before.length; i++) total += Math.abs(before[i]! - after[i]!);
    // Mean absolute difference in 8-bit levels: the two new blocks barely change the function.
    expect(total / before.length).toBeLessThan(1.5);
    expect(grown.step).toBe(1);
  });

  /** 8-bit RGB of img1 upscaled x2 by exported model `name` (a fresh service: no cached model). */
  async function upscaled(name: string): Promise<Buffer> {
    const service = await createInferenceService({ modelsDir: path.join(root, 'models') });
    const input = await sharp(path.join(photos, 'img1.png')).png().toBuffer();
    return sharp((await service.upscale(input, { scale: 2, model: name })).png).raw().toBuffer();
  }
  const meanAbsDiff = (a: Buffer, b: Buffer) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length;

  it('--expansion: trains over-parameterised convs from a plain export, checkpoints them, and exports them folded', async () => {
    const source = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 8, blocks: 1, steps: 3, lr: 1e-2, run: 'exp-src', export: 'exp-src' }), quiet);
    const lines: string[] = [];
    const config = await resolveConfigWithInit(tinyFlags({ task: 'sr', cropSize: 32, expansion: 2, initFrom: source.exportedTo, steps: 1, lr: 1e-12, run: 'exp', export: 'exp' }));
    expect(config.generator).toMatchObject({ kind: 'srnet', features: 8, blocks: 1, expansion: 2 });
    await train(config, { log: (line) => lines.push(line) });
    expect(lines.some((l) => /grew .* 4 layers copied/.test(l))).toBe(true);
    // lr 1e-12: the expanded network started as the plain source, and exports as it.
    expect(meanAbsDiff(await upscaled('exp-src'), await upscaled('exp'))).toBeLessThan(0.01);
    // The checkpoint holds the expanded layers; resuming for more steps exports them folded.
    const resumed = await train({ ...config, steps: 4 }, quiet);
    expect(resumed.step).toBe(4);
    const topology = await fs.readFile(path.join(resumed.exportedTo!, 'model.json'), 'utf8');
    expect(topology).not.toContain('ExpandedConv2D');
    const metadata = JSON.parse(await fs.readFile(path.join(resumed.exportedTo!, 'metadata.json'), 'utf8')) as { architecture: Record<string, unknown>; training: { config: { generator: Record<string, unknown> } } };
    expect(metadata.architecture).toMatchObject({ features: 8, blocks: 1, expansion: 0 });
    expect(metadata.training.config.generator).toMatchObject({ expansion: 2 });
    const weightsBytes = async (dir: string) => (await fs.stat(path.join(dir, 'weights.bin'))).size;
    expect(await weightsBytes(resumed.exportedTo!)).toBe(await weightsBytes(source.exportedTo!));
    // From scratch it trains: real steps change the folded export, steps at lr 1e-12 do not.
    const fresh = (lr: number, name: string) => train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 8, blocks: 1, expansion: 2, steps: 3, lr, run: name, export: name }), quiet);
    await fresh(1e-2, 'exp-moved');
    await fresh(1e-12, 'exp-still');
    expect(meanAbsDiff(await upscaled('exp-moved'), await upscaled('exp-still'))).toBeGreaterThan(0.1);
    await expect(resolveConfigWithInit(tinyFlags({ task: 'colorize', cropSize: 32, expansion: 2 }))).rejects.toThrow(/--expansion: only for --task sr/);
  });

  it('smoke: trains colorize with the GAN for 3 steps and exports valid metadata', async () => {
    const config = tinyConfig({ task: 'colorize', cropSize: 32, ngf: 4, depth: 3, ndf: 4, nLayers: 2, run: 'col-smoke', export: 'colorize' });
    const result = await train(config, quiet);
    const metadata = JSON.parse(await fs.readFile(path.join(result.exportedTo!, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    expect(metadata.task).toBe('colorize');
    expect(metadata.inputEncoding).toBe('lab-l');
    const losses = await readLosses(result.runDir);
    expect(losses).toHaveLength(3);
    for (const l of losses) expect(Number.isFinite(l.lossG) && Number.isFinite(l.lossD) && l.lossD > 0).toBe(true);
  });

  it('--image-side: colorize trains on photos resized to that short side and exports it as the working size', async () => {
    const image = await loadRgbImage(path.join(photos, 'img4.png'), { shortSide: 40, maxSide: 30 });
    expect(Math.min(image.width, image.height)).toBe(40);
    expect(image.width).toBe(Math.round((40 * 92) / 82));
    expect(image.data.length).toBe(image.width * image.height * 3);
    const config = tinyConfig({ task: 'colorize', cropSize: 32, imageSide: 40, ngf: 4, depth: 3, gan: 'none', steps: 1, run: 'col-side', export: 'col-side' });
    expect(config.imageSide).toBe(40);
    const result = await train(config, quiet);
    const metadata = JSON.parse(await fs.readFile(path.join(result.exportedTo!, 'metadata.json'), 'utf8')) as { workingSize: number };
    expect(metadata.workingSize).toBe(40);
    expect(() => tinyConfig({ task: 'sr', cropSize: 32, imageSide: 64 })).toThrow(/only for --task colorize/);
    expect(() => tinyConfig({ task: 'colorize', cropSize: 64, imageSide: 48 })).toThrow(/at least --crop-size 64/);
    expect(() => tinyConfig({ task: 'colorize', cropSize: 32, depth: 3, imageSide: 44 })).toThrow(/multiple of 2\^depth = 8/);
  });

  it('--head classes: colorize learns colour classes, exports a model the service runs, resumes exactly; flags checked', async () => {
    const common = { task: 'colorize', cropSize: 32, ngf: 4, depth: 3, dropout: 0, head: 'classes', abGrid: 20, lr: 5e-3, beta1: 0.9 };
    const config = tinyConfig({ ...common, steps: 2, run: 'col-classes', export: 'col-classes' });
    expect(config.gan).toMatchObject({ mode: 'none', pixelLoss: 'ab-classes', classRebalance: 0.5 });
    expect(config.discriminator).toBeNull();
    expect(config.generator).toMatchObject({ classHead: { grid: 20, temperature: 0.38 } });
    const lines: string[] = [];
    const first = await train(config, { log: (line) => lines.push(line) });
    expect(lines.some((l) => /colour classes: \d+ a\*b\* bins of 20; rebalancing lambda 0.5/.test(l))).toBe(true);
    const resumed = await train({ ...config, steps: 4 }, quiet);
    const whole = await train(tinyConfig({ ...common, steps: 4, run: 'col-classes-whole' }), quiet);
    const [a, b] = [await readLosses(whole.runDir), await readLosses(resumed.runDir)];
    expect(b.map((l) => l.step)).toEqual([1, 2, 3, 4]);
    for (let i = 0; i < 4; i++) expect(b[i]!.lossG).toBeCloseTo(a[i]!.lossG, 4);
    const metadata = JSON.parse(await fs.readFile(path.join(first.exportedTo!, 'metadata.json'), 'utf8')) as { outputEncoding: string; architecture: Record<string, unknown> };
    expect(metadata.outputEncoding).toBe('lab-ab');
    expect(metadata.architecture).toMatchObject({ classHead: { grid: 20, temperature: 0.38 } });
    const service = await createInferenceService({ modelsDir: path.join(root, 'models') });
    const gray = await sharp(path.join(photos, 'img2.png')).grayscale().png().toBuffer();
    const coloured = await service.colorize(gray, { model: 'col-classes' });
    const { info } = await sharp(coloured.png).raw().toBuffer({ resolveWithObject: true });
    const source = await sharp(path.join(photos, 'img2.png')).metadata();
    expect([info.width, info.height]).toEqual([source.width, source.height]);
    // A direct-head model's features start a class head (its last layer is replaced).
    const direct = await train(tinyConfig({ task: 'colorize', cropSize: 32, ngf: 4, depth: 3, dropout: 0, gan: 'none', steps: 1, run: 'col-direct', export: 'col-direct' }), quiet);
    const fromDirect = await resolveConfigWithInit(tinyFlags({ task: 'colorize', cropSize: 32, head: 'classes', abGrid: 20, initFrom: direct.exportedTo, steps: 1, run: 'col-head', export: 'col-head' }));
    const headLines: string[] = [];
    await train(fromDirect, { log: (line) => headLines.push(line) });
    expect(headLines.some((l) => /new output head on .*: \d+ layers copied, the head starts fresh/.test(l))).toBe(true);
    // ...and a class model fine-tunes as itself, its head settings read from its metadata.
    const again = await resolveConfigWithInit(tinyFlags({ task: 'colorize', cropSize: 32, initFrom: first.exportedTo, steps: 1, run: 'col-again' }));
    expect(again.generator).toEqual(config.generator);
    expect(again.gan.pixelLoss).toBe('ab-classes');
    expect(() => tinyConfig({ task: 'sr', cropSize: 32, head: 'classes' })).toThrow(/--head: only for --task colorize/);
    expect(() => tinyConfig({ task: 'colorize', cropSize: 32, temperature: 0.5 })).toThrow(/--temperature: only with --head classes/);
    expect(() => tinyConfig({ task: 'colorize', cropSize: 32, pixelLoss: 'ab-classes' })).toThrow(/needs --head classes/);
    expect(() => tinyConfig({ ...common, pixelLoss: 'l1' })).toThrow(/learns with --pixel-loss ab-classes, not l1/);
    expect(() => tinyConfig({ ...common, gan: 'vanilla' })).toThrow(/drop --gan vanilla/);
  });

  it('resume gives the same next-step losses as an uninterrupted run', async () => {
    const common = { task: 'colorize', cropSize: 32, ngf: 4, depth: 3, ndf: 4, nLayers: 2, dropout: 0, steps: 4 };
    const whole = await train(tinyConfig({ ...common, run: 'whole' }), quiet);
    const controller = new AbortController();
    const interrupted = tinyConfig({ ...common, run: 'parts' });
    const first = await train(interrupted, { ...quiet, signal: controller.signal, progress: (p) => p.step === 2 && controller.abort() });
    expect(first.step).toBe(2);
    expect(first.stoppedBy).toBe('signal');
    const second = await train(interrupted, quiet);
    expect(second.step).toBe(4);
    const a = await readLosses(whole.runDir);
    const b = await readLosses(second.runDir);
    expect(b.map((l) => l.step)).toEqual([1, 2, 3, 4]);
    for (let i = 0; i < 4; i++) {
      expect(b[i]!.lossG).toBeCloseTo(a[i]!.lossG, 4);
      expect(b[i]!.lossD).toBeCloseTo(a[i]!.lossD, 4);
    }
  });

  it('--resume: only the schedule, reporting and export may change; a repeated flag is fine; a new run may not reuse a run name', async () => {
    const common = { task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 1, run: 'resumable' };
    await train(tinyConfig(common), quiet);
    const runsDir = path.join(root, 'runs');
    // The original command line plus --resume, with a longer schedule.
    const resumed = await resolveResumeConfig({ resume: 'resumable', runsDir, task: 'sr', data: path.relative(process.cwd(), photos), scale: '2', features: '4', steps: '5', maxMinutes: '2' });
    expect(resumed).toMatchObject({ run: 'resumable', runsDir, steps: 5, maxMinutes: 2, batchSize: 2, optim: { lr: 5e-4 } });
    await expect(resolveResumeConfig({ resume: 'resumable', runsDir, lr: '1e-3', batchSize: '8', features: '4' })).rejects.toThrow(
      /cannot change: --batch-size 8 \(the run has 2\), --lr 0\.001 \(the run has 0\.0005\)\. A resumed run may change only --steps/,
    );
    await expect(resolveResumeConfig({ resume: 'resumable', runsDir, task: 'colorize' })).rejects.toThrow(/--task colorize \(the run has sr\)/);
    await expect(resolveResumeConfig({ resume: 'nope', runsDir })).rejects.toThrow(/no run to resume at/);
    // Without --resume, the same run name would silently continue the old run with its old settings.
    await expect(resolveNewRunConfig(tinyFlags({ ...common, features: 8 }))).rejects.toThrow(/run resumable already exists .* --resume resumable/);
    await expect(resolveNewRunConfig(tinyFlags({ ...common, run: 'fresh-name' }))).resolves.toMatchObject({ run: 'fresh-name' });
  });

  it('a run stopped by a signal mid-way keeps its checkpoint but does not export over the model; resumed, it exports when done', async () => {
    const existing = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 1, run: 'good', export: 'mid' }), quiet);
    const before = await fs.readFile(path.join(existing.exportedTo!, 'weights.bin'));
    const controller = new AbortController();
    const logged: string[] = [];
    const config = tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 4, run: 'mid-stop', export: 'mid' });
    const stopped = await train(config, { signal: controller.signal, log: (l) => logged.push(l), progress: (p) => p.step === 2 && controller.abort() });
    expect(stopped).toMatchObject({ step: 2, stoppedBy: 'signal', exportedTo: undefined });
    expect(await fs.readFile(path.join(existing.exportedTo!, 'weights.bin'))).toEqual(before);
    expect(logged.some((l) => l.includes('stopped at step 2 of 4') && l.includes(`--resume mid-stop --runs-dir ${config.runsDir}\``) && l.includes(`--run mid-stop --runs-dir ${config.runsDir} --name mid --models-dir ${config.modelsDir}\``))).toBe(true);
    const finished = await train(config, quiet);
    expect(finished).toMatchObject({ step: 4, stoppedBy: 'steps', exportedTo: existing.exportedTo });
    expect(await fs.readFile(path.join(existing.exportedTo!, 'weights.bin'))).not.toEqual(before);
  });

  it('Ctrl-C before the first step saves and exports nothing (an existing model of that name is kept)', async () => {
    const existing = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 1, run: 'keep', export: 'keep' }), quiet);
    const before = await fs.readFile(path.join(existing.exportedTo!, 'weights.bin'));
    const controller = new AbortController();
    controller.abort();
    const logged: string[] = [];
    const result = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 3, run: 'early-stop', export: 'keep' }), {
      signal: controller.signal,
      log: (l) => logged.push(l),
    });
    expect(result).toMatchObject({ step: 0, stoppedBy: 'signal', exportedTo: undefined });
    expect(await fs.readFile(path.join(existing.exportedTo!, 'weights.bin'))).toEqual(before);
    await expect(fs.stat(path.join(result.runDir, 'checkpoint'))).rejects.toThrow();
    expect(logged.some((l) => l.includes('will replace the model') && l.includes('from run keep'))).toBe(true);
    expect(logged.some((l) => l.includes('nothing trained'))).toBe(true);
  });

  it('an abort from another event-loop task (Ctrl-C) stops at the next step, not at the next log line', async () => {
    const controller = new AbortController();
    const original = Pix2PixTrainer.prototype.trainStep;
    const spy = vi.spyOn(Pix2PixTrainer.prototype, 'trainStep').mockImplementation(async function (this: Pix2PixTrainer, ...args) {
      const losses = await original.apply(this, args);
      setTimeout(() => controller.abort(), 0);
      return losses;
    });
    try {
      const result = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 6, logEvery: 100, run: 'abort-now' }), { ...quiet, signal: controller.signal });
      expect(result.stoppedBy).toBe('signal');
      expect(result.step).toBe(1);
      // The losses since the last log line (here: all of them) are logged when it stops.
      expect((await readLosses(result.runDir)).map((l) => l.step)).toEqual([1]);
    } finally {
      spy.mockRestore();
    }
  });

  /** Every record of a run's log.jsonl (unparseable lines as `{ bad: line }`). */
  async function records(runDir: string): Promise<Record<string, unknown>[]> {
    const text = await fs.readFile(path.join(runDir, 'log.jsonl'), 'utf8');
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return { bad: line };
        }
      });
  }

  /** A tiny run (sr unless `overrides` names another task) stopped by a signal after `stopAt` steps. */
  async function stoppedRun(overrides: Record<string, unknown>, stopAt: number, hooks: { log?: (line: string) => void } = {}) {
    const controller = new AbortController();
    const sr = { task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0 };
    const config = tinyConfig({ ...(overrides.task === undefined ? sr : {}), sampleEvery: 100, ...overrides });
    const result = await train(config, { log: hooks.log ?? (() => undefined), signal: controller.signal, progress: (p) => p.step === stopAt && controller.abort() });
    expect(result).toMatchObject({ step: stopAt, stoppedBy: 'signal' });
    return { config, result };
  }

  it('--resume of a renamed or moved run continues where it is now: its folder, its config.json, its checkpoint, its hints', async () => {
    const [runsA, runsB] = [path.join(root, 'runs-a'), path.join(root, 'runs-b')];
    await stoppedRun({ run: 'ren', runsDir: runsA, steps: 6 }, 2);
    await fs.mkdir(runsB);
    await fs.rename(path.join(runsA, 'ren'), path.join(runsB, 'ren2'));
    const config = await resolveResumeConfig({ resume: 'ren2', runsDir: runsB });
    expect(config).toMatchObject({ run: 'ren2', runsDir: runsB });
    const controller = new AbortController();
    const logged: string[] = [];
    const second = await train({ ...config, export: 'ren-model' }, { log: (l) => logged.push(l), signal: controller.signal, progress: (p) => p.step === 4 && controller.abort() });
    expect(second).toMatchObject({ runDir: path.join(runsB, 'ren2'), step: 4 });
    // Nothing was written where the run used to be, and Ctrl-C's hint names where it is.
    expect(await fs.readdir(runsA)).toEqual([]);
    expect(logged.find((l) => l.startsWith('stopped at step 4'))).toContain(`--resume ren2 --runs-dir ${runsB}\``);
    const state = JSON.parse(await fs.readFile(path.join(runsB, 'ren2', 'checkpoint', 'state.json'), 'utf8')) as { step: number; config: TrainConfig };
    expect(state).toMatchObject({ step: 4, config: { run: 'ren2', runsDir: runsB } });
    expect(JSON.parse(await fs.readFile(path.join(runsB, 'ren2', 'config.json'), 'utf8'))).toMatchObject({ run: 'ren2', runsDir: runsB });
    expect(await train(await resolveResumeConfig({ resume: 'ren2', runsDir: runsB }), quiet)).toMatchObject({ step: 6, stoppedBy: 'steps' });
    expect(await fs.readdir(runsA)).toEqual([]);
  });

  it('--resume keeps the held-out photos of the first session when photos were added or removed, and says how the data changed', async () => {
    const data = path.join(root, 'growing');
    await writeFixtures(data, 5);
    const { config, result } = await stoppedRun({ run: 'grow-data', data, steps: 4, valFraction: 0.4 }, 2);
    const heldOutFile = path.join(result.runDir, 'held-out.txt');
    const heldOut = (await fs.readFile(heldOutFile, 'utf8')).trim().split('\n');
    expect(heldOut).toHaveLength(2);
    const trained = ['img0.png', 'img1.png', 'img2.png', 'img3.png', 'img4.png'].filter((name) => !heldOut.includes(name));
    // Six new photos (a fresh 40 % split of 11 would hold out 4, some of them trained on so far), one held-out photo and one trained-on photo gone.
    const extra = path.join(root, 'growing-extra');
    await writeFixtures(extra, 11);
    for (let i = 5; i < 11; i++) await fs.copyFile(path.join(extra, `img${i}.png`), path.join(data, `img${i}.png`));
    await fs.rm(path.join(data, heldOut[0]!));
    await fs.rm(path.join(data, trained[0]!));
    const logged: string[] = [];
    const second = await train(config, { log: (l) => logged.push(l) });
    expect(second.step).toBe(4);
    expect((await fs.readFile(heldOutFile, 'utf8')).trim().split('\n')).toEqual([heldOut[1]]);
    const changed = logged.find((l) => l.startsWith('the data changed since the run started')) ?? '';
    expect(changed).toContain('6 photos new since the run started: they train (img10.png, img5.png, img6.png, img7.png, img8.png and 1 more)');
    expect(changed).toContain(`1 photo trained on before are no longer in the data (${trained[0]})`);
    expect(changed).toContain(`1 photo of the 2 held out are no longer in the data (${heldOut[0]}): validation is on the other 1`);
    const state = JSON.parse(await fs.readFile(path.join(second.runDir, 'checkpoint', 'state.json'), 'utf8')) as { split: { heldOut: string[]; trained: string[] } };
    expect(state.split.heldOut).toEqual([heldOut[1]]);
    expect(state.split.trained.sort()).toEqual([...trained.slice(1), ...['img5.png', 'img6.png', 'img7.png', 'img8.png', 'img9.png', 'img10.png']].sort());
    // The images count is of photos, each once: 8 trained on and 1 held out.
    expect((await records(second.runDir)).filter((r) => r.type === 'data').at(-1)).toMatchObject({ images: 9 });
  });

  it('a run repeats exactly with dropout and WGAN-GP (the masks and mixing weights are seeded per step), interrupted or not', async () => {
    // Depth 6: the shallowest U-Net with a dropout layer (pix2pix puts them on the decoder's deep levels).
    const common = { task: 'colorize', cropSize: 64, ngf: 4, depth: 6, ndf: 4, nLayers: 2, dropout: 0.5, gan: 'wgangp', steps: 4 };
    const whole = await train(tinyConfig({ ...common, run: 'drop-whole' }), quiet);
    const again = await train(tinyConfig({ ...common, run: 'drop-again' }), quiet);
    const { config } = await stoppedRun({ ...common, run: 'drop-parts' }, 2);
    const resumed = await train(config, quiet);
    const [a, b, c] = await Promise.all([readLosses(whole.runDir), readLosses(again.runDir), readLosses(resumed.runDir)]);
    expect(c.map((l) => l.step)).toEqual([1, 2, 3, 4]);
    // WGAN losses run to hundreds: compared relatively (a resumed Adam's bias correction differs in
    // the last float bits; an unseeded mask moves a loss by percents).
    const near = (x: number, y: number) => Math.abs(x - y) <= 1e-5 * Math.abs(y);
    for (let i = 0; i < 4; i++) {
      expect([b[i]!.lossG, b[i]!.lossD]).toEqual([a[i]!.lossG, a[i]!.lossD]);
      expect(near(c[i]!.lossG, a[i]!.lossG) && near(c[i]!.lossD, a[i]!.lossD), `step ${i + 1}: ${JSON.stringify([c[i], a[i]])}`).toBe(true);
    }
  });

  it('--resume of a run without a checkpoint says it starts over and starts a fresh log, keeping the old one aside', async () => {
    const runsDir = path.join(root, 'runs-nockpt');
    const config = tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 2, sampleEvery: 1, run: 'no-ckpt', runsDir });
    const runDir = path.join(runsDir, 'no-ckpt');
    // What a session killed before its first checkpoint leaves: its config, a log up to step 90, samples.
    await fs.mkdir(path.join(runDir, 'samples'), { recursive: true });
    await fs.writeFile(path.join(runDir, 'config.json'), JSON.stringify(config));
    const old = [10, 50, 90].map((step) => JSON.stringify({ type: 'train', step, lossG: 1, lossD: 0, lr: 1e-4 }) + '\n').join('');
    await fs.writeFile(path.join(runDir, 'log.jsonl'), old);
    await fs.writeFile(path.join(runDir, 'samples', 'step-00000090.png'), 'old');
    const logged: string[] = [];
    const result = await train(await resolveResumeConfig({ resume: 'no-ckpt', runsDir }), { log: (l) => logged.push(l) });
    expect(result.step).toBe(2);
    expect(logged.find((l) => l.startsWith(`no checkpoint in ${runDir} yet: starting over at step 0`))).toMatch(/log to log-\d{8}-\d{6}\.jsonl, its samples to samples-\d{8}-\d{6}\//);
    expect((await readLosses(runDir)).map((l) => l.step)).toEqual([1, 2]);
    const files = await fs.readdir(runDir);
    const aside = files.find((f) => /^log-.*\.jsonl$/.test(f))!;
    expect(await fs.readFile(path.join(runDir, aside), 'utf8')).toBe(old);
    expect(await fs.readdir(path.join(runDir, 'samples'))).toEqual(['step-00000001.png', 'step-00000002.png']);
    // The Training page reads the fresh log alone.
    const { readRun } = await import('@/lib/server/runs');
    expect((await readRun('no-ckpt', runsDir))?.train.map((p) => p.step)).toEqual([1, 2]);
  });

  it('log.jsonl: lr is the rate each step used, a half-written last line does not swallow the next record, images counts photos once', async () => {
    const lr = 1e-3;
    const { config, result } = await stoppedRun({ run: 'log-lines', steps: 3, decaySteps: 3, lr, valFraction: 0 }, 1);
    await fs.appendFile(path.join(result.runDir, 'log.jsonl'), '{"type":"train","st');
    await train(config, quiet);
    const all = await records(result.runDir);
    expect(all.filter((r) => 'bad' in r)).toEqual([{ bad: '{"type":"train","st' }]);
    expect(all.filter((r) => r.type === 'data')).toHaveLength(2);
    // Linear decay over all 3 steps: the steps ran at lr, 2/3 lr and 1/3 lr (none at 0).
    const train_ = all.filter((r) => r.type === 'train') as { step: number; lr: number }[];
    expect(train_.map((r) => r.step)).toEqual([1, 2, 3]);
    train_.forEach((r, i) => expect(r.lr).toBeCloseTo((lr * (3 - i)) / 3, 12));
    // --val-fraction 0: all 5 photos train and validation reuses one of them, counted once.
    expect(all.find((r) => r.type === 'data')).toMatchObject({ images: 5 });
    const one = path.join(root, 'one-photo');
    await writeFixtures(one, 1);
    const single = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 1, data: one, run: 'one-photo' }), quiet);
    expect((await records(single.runDir)).find((r) => r.type === 'data')).toMatchObject({ images: 1 });
    // sr's scaled copies are not photos.
    const scaled = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 1, hrScales: '0.8', valFraction: 0.4, run: 'scaled-copies' }), quiet);
    expect((await records(scaled.runDir)).find((r) => r.type === 'data')).toMatchObject({ description: `5 images from ${photos}; 3 extra training images at 0.8 of full size`, images: 5 });
  });

  it('the ETA counts down to --max-minutes when the time box ends the run first, and says so', async () => {
    const etas: { etaSec: number; etaBy: string }[] = [];
    const result = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 100000, maxMinutes: 0.01, sampleEvery: 100000, valEvery: 100000, run: 'eta' }), {
      ...quiet,
      progress: (p) => etas.push({ etaSec: p.etaSec, etaBy: p.etaBy }),
    });
    expect(result.stoppedBy).toBe('time');
    expect(etas.length).toBeGreaterThan(0);
    for (const eta of etas) {
      expect(eta.etaBy).toBe('max-minutes');
      expect(eta.etaSec).toBeLessThanOrEqual(0.6);
    }
    expect(estimateEta({ stepsLeft: 10, batchSize: 2, imagesPerSec: 4, maxMinutes: 1, sessionSec: 50 })).toEqual({ etaSec: 5, etaBy: 'steps' });
    expect(estimateEta({ stepsLeft: 10, batchSize: 2, imagesPerSec: 4, maxMinutes: 1, sessionSec: 58 })).toEqual({ etaSec: 2, etaBy: 'max-minutes' });
    expect(estimateEta({ stepsLeft: 10, batchSize: 2, imagesPerSec: 4, maxMinutes: null, sessionSec: 58 })).toEqual({ etaSec: 5, etaBy: 'steps' });
  });

  it('a --runs-dir or --models-dir that is a file stops the run before the data is loaded', async () => {
    const file = path.join(root, 'a-file');
    await fs.writeFile(file, 'x');
    const missingData = path.join(root, 'no-such-data');
    await expect(train(tinyConfig({ task: 'sr', data: missingData, runsDir: file, run: 'f' }), quiet)).rejects.toThrow(new TrainSetupError(`--runs-dir: the run folder ${path.join(file, 'f')}: ${file} is a file, not a folder`));
    await expect(train(tinyConfig({ task: 'sr', data: missingData, modelsDir: path.join(file, 'sub'), export: 'm', run: 'g' }), quiet)).rejects.toThrow(TrainSetupError);
  });

  it('an --export naming a folder that holds files but no model stops the run before the data is loaded, and the folder is kept', async () => {
    const modelsDir = path.join(root, 'models-with-other');
    const other = path.join(modelsDir, 'keep');
    await fs.mkdir(other, { recursive: true });
    await fs.writeFile(path.join(other, 'notes.txt'), 'mine');
    const missingData = path.join(root, 'no-such-data');
    await expect(train(tinyConfig({ task: 'sr', data: missingData, modelsDir, export: 'keep', run: 'h' }), quiet)).rejects.toThrow(
      new TrainSetupError(`--export: ${other} is a folder but not a model (no metadata.json), and writing the model would replace it whole: choose another name`),
    );
    expect(await fs.readFile(path.join(other, 'notes.txt'), 'utf8')).toBe('mine');
    // An empty folder of that name is fine to replace: the run gets as far as the data.
    await fs.mkdir(path.join(modelsDir, 'empty'));
    await expect(train(tinyConfig({ task: 'sr', data: missingData, modelsDir, export: 'empty', run: 'i' }), quiet)).rejects.toThrow(DataError);
  });

  it('fails before training on a missing or empty data folder', async () => {
    await expect(train(tinyConfig({ task: 'sr', data: path.join(root, 'nope'), run: 'x' }), quiet)).rejects.toThrow(DataError);
    const empty = path.join(root, 'empty');
    await fs.mkdir(empty, { recursive: true });
    await fs.writeFile(path.join(empty, 'notes.txt'), 'not an image');
    await expect(train(tinyConfig({ task: 'sr', data: empty, run: 'y' }), quiet)).rejects.toThrow(/No images/);
  });

  it('skips unreadable and too-small files and still trains', async () => {
    const mixed = path.join(root, 'mixed');
    await writeFixtures(mixed, 2);
    await fs.writeFile(path.join(mixed, 'broken.jpg'), 'definitely not a jpeg');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toFile(path.join(mixed, 'tiny.png'));
    const logged: string[] = [];
    const result = await train(tinyConfig({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, data: mixed, run: 'mixed', steps: 1 }), { log: (l) => logged.push(l) });
    expect(result.step).toBe(1);
    expect(logged.some((l) => l.includes('broken.jpg') && l.includes('unreadable'))).toBe(true);
    expect(logged.some((l) => l.includes('tiny.png') && l.includes('too small'))).toBe(true);
  });
});

describe('train flags', () => {
  it('rejects unknown flags and bad values', () => {
    expect(trainFlagsSchema.safeParse({ task: 'sr', data: 'x', bogus: '1' }).success).toBe(false);
    expect(trainFlagsSchema.safeParse({ task: 'sr', data: 'x', scale: '3' }).success).toBe(false);
    expect(trainFlagsSchema.safeParse({ task: 'nope', data: 'x' }).success).toBe(false);
    expect(() => resolveConfig(trainFlagsSchema.parse({ task: 'colorize', data: 'x', cropSize: '100' }))).toThrow(/multiple of 2\^depth/);
  });

  it('an empty RUNS_DIR or MODELS_DIR means unset (./runs, ./models), as in the app, not the current folder', () => {
    const saved = { runs: process.env.RUNS_DIR, models: process.env.MODELS_DIR };
    try {
      process.env.RUNS_DIR = '';
      process.env.MODELS_DIR = ' ';
      const config = resolveConfig(trainFlagsSchema.parse({ task: 'sr', data: 'x' }));
      expect([config.runsDir, config.modelsDir]).toEqual([path.resolve('runs'), path.resolve('models')]);
    } finally {
      for (const [name, value] of [['RUNS_DIR', saved.runs], ['MODELS_DIR', saved.models]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('the CLI exits with code 2 and one clear message on a bad flag', async () => {
    const run = promisify(execFile);
    const error = await run('npx', ['tsx', 'scripts/train.ts', '--task', 'sr', '--data', 'x', '--bogus', '1'], { cwd: process.cwd() }).catch((e: { code: number; stderr: string }) => e);
    expect((error as { code: number }).code).toBe(2);
    expect((error as { stderr: string }).stderr).toMatch(/Unknown option '--bogus'/);
    const twice = await run('npx', ['tsx', 'scripts/train.ts', '--task', 'sr', '--data', 'x', '--steps', '1', '--steps', '2'], { cwd: process.cwd() }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((twice as { code: number }).code).toBe(2);
    expect((twice as { stderr: string }).stderr).toMatch(/--steps is given twice \(1, 2\); give it once/);
  });
});

describe('summariseRunLog', () => {
  it("takes the validation at the checkpoint's step (the last one logged there) and the last data record, skipping bad lines; older logs have no data", () => {
    const lines = [
      { type: 'data', description: '9 images from /a', images: 9 },
      { type: 'val', step: 5, metrics: { psnr: 20 } },
      { type: 'data', description: '10 images from /a', images: 10 },
      { type: 'val', step: 9, metrics: { psnr: 21.5 } },
      { type: 'val', step: 9, metrics: { psnr: 21.7 } },
    ].map((l) => JSON.stringify(l));
    expect(summariseRunLog([...lines, '{"type":"tr'].join('\n'), 9)).toEqual({ metrics: { val_psnr: 21.7 }, data: { description: '10 images from /a', images: 10 } });
    expect(summariseRunLog(lines[1]!, 5)).toEqual({ metrics: { val_psnr: 20 } });
    // A checkpoint at step 7 (a killed run validated at 9 after it): those scores are of other weights.
    expect(summariseRunLog(lines.join('\n'), 7)).toEqual({ metrics: {}, data: { description: '10 images from /a', images: 10 } });
    // A run that held nothing out validated on a training image: no metrics to export as held-out ones.
    const noHoldOut = [JSON.stringify({ type: 'data', description: '4 images from /b', images: 4, heldOut: 0 }), lines[1]!].join('\n');
    expect(summariseRunLog(noHoldOut, 5)).toEqual({ metrics: {}, data: { description: '4 images from /b', images: 4 }, heldOut: 0 });
    const heldOne = [JSON.stringify({ type: 'data', description: '4 images from /b', images: 4, heldOut: 1 }), lines[1]!].join('\n');
    expect(summariseRunLog(heldOne, 5)).toEqual({ metrics: { val_psnr: 20 }, data: { description: '4 images from /b', images: 4 }, heldOut: 1 });
  });
});
