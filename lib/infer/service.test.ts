import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '@/lib/tf/backend';
import { listModelDirs, loadModel, loadModels } from './models';
import { getInferenceService } from './app-service';
import { createInferenceService, describeModelProblem, ModelUnavailableError, type LoadedInferenceService } from './service';
import { nearestSrNet, noisePng as png, randomColorizer, randomSrNet, saveTestModel, testMetadata } from './test-models';
import { InputError } from './types';

let dir: string;
let service: LoadedInferenceService;


async function expectInputError(promise: Promise<unknown>, code: string): Promise<InputError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).code).toBe(code);
  return error as InputError;
}

beforeAll(async () => {
  await initBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'infer-service-'));
  const models = path.join(dir, 'models');
  await saveTestModel(randomSrNet(2), path.join(models, 'sr-x2'), testMetadata({ task: 'sr', scale: 2 }));
  await saveTestModel(randomSrNet(2, 9), path.join(models, 'sr-x2-sharp'), testMetadata({ task: 'sr', scale: 2 }, { variant: 'sharp' }));
  await saveTestModel(nearestSrNet(4), path.join(models, 'sr-x4-faithful'), testMetadata({ task: 'sr', scale: 4 }, { variant: 'faithful' }));
  await saveTestModel(randomSrNet(4), path.join(models, 'sr-x4'), testMetadata({ task: 'sr', scale: 4 }));
  await saveTestModel(randomColorizer(), path.join(models, 'colorize'), testMetadata({ task: 'colorize', scale: 1 }));
  // broken: metadata says x4, the network does x2 (caught by the warm-up)
  await saveTestModel(randomSrNet(2), path.join(models, 'broken-scale'), testMetadata({ task: 'sr', scale: 4 }));
  // broken: invalid metadata
  await saveTestModel(randomSrNet(2), path.join(models, 'broken-meta'), testMetadata({ task: 'sr', scale: 2 }));
  await fs.writeFile(path.join(models, 'broken-meta', 'metadata.json'), JSON.stringify({ formatVersion: 1, task: 'sr' }));
  // not a model: no metadata.json
  await fs.mkdir(path.join(models, 'notes'));
  service = await createInferenceService({ modelsDir: models });
});

afterAll(async () => {
  service?.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('models', () => {
  it('lists folders with metadata.json only, loads the good ones and reports the broken ones', async () => {
    const dirs = await listModelDirs(path.join(dir, 'models'));
    expect(dirs.map((d) => path.basename(d))).toEqual(['broken-meta', 'broken-scale', 'colorize', 'sr-x2', 'sr-x2-sharp', 'sr-x4', 'sr-x4-faithful']);
    expect(service.models.map((m) => m.name).sort()).toEqual(['colorize', 'sr-x2', 'sr-x2-sharp', 'sr-x4', 'sr-x4-faithful']);
    expect(service.problems).toHaveLength(2);
    expect(service.problems.find((p) => p.includes('broken-meta'))).toMatch(/Invalid model metadata.*name/);
    expect(service.problems.find((p) => p.includes('broken-scale'))).toMatch(/metadata promises/);
    expect(service.models.find((m) => m.name === 'sr-x4-faithful')).toMatchObject({ task: 'sr', scale: 4, variant: 'faithful', inputChannels: 3 });
  });

  it('explicit folders: quiet leaves the reporting to the caller, describeModelProblem says it in one line', async () => {
    const notes = path.join(dir, 'models', 'notes');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const quiet = await createInferenceService({ modelDirs: [notes, path.join(dir, 'models', 'broken-meta')], quiet: true });
      expect(warn).not.toHaveBeenCalled();
      expect(quiet.problems).toHaveLength(2);
      expect(describeModelProblem(quiet.problems[0]!, notes)).toBe('not an exported model folder (it has no metadata.json)');
      expect(describeModelProblem(quiet.problems[0]!, path.join(dir, 'models', 'broken-meta'))).toBeUndefined();
      const broken = describeModelProblem(quiet.problems[1]!, path.join(dir, 'models', 'broken-meta'));
      expect(broken).toBeDefined();
      expect(broken!.startsWith(path.join(dir, 'models', 'broken-meta') + ':')).toBe(false);
      quiet.dispose();
      (await createInferenceService({ modelDirs: [notes] })).dispose();
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
    expect(describeModelProblem(`${path.resolve('gone')}: Cannot read ${path.resolve('gone', 'metadata.json')}: ENOENT: no such file`, 'gone')).toBe('no such folder');
  });

  it('defaultModel: the faithful one, else the one without a variant, not the first by name', () => {
    expect(service.defaultModel('sr', 4)?.name).toBe('sr-x4-faithful');
    expect(service.defaultModel('sr', 2)?.name).toBe('sr-x2');
    expect(service.defaultModel('colorize')?.name).toBe('colorize');
    expect(service.defaultModel('sr', 3)).toBeUndefined();
  });

  it('follows a symbolic link to a model folder, and ignores one to a file', async () => {
    const linked = path.join(dir, 'linked-models');
    await fs.mkdir(linked, { recursive: true });
    await fs.symlink(path.join(dir, 'models', 'sr-x2'), path.join(linked, 'my-sr'));
    await fs.writeFile(path.join(dir, 'plain-file'), 'x');
    await fs.symlink(path.join(dir, 'plain-file'), path.join(linked, 'a-file'));
    expect((await listModelDirs(linked)).map((d) => path.basename(d))).toEqual(['my-sr']);
  });

  it('returns an empty list for a missing models folder', async () => {
    expect(await listModelDirs(path.join(dir, 'nowhere'))).toEqual([]);
    expect(await loadModels({ modelsDir: path.join(dir, 'nowhere') })).toEqual({ models: [], problems: [] });
  });

  it('honours trainingModeAtInference: dropout in training mode is random, predict is not', async () => {
    const on = await loadModel(
      await saveTestModel(randomSrNet(2, 1, 0.5), path.join(dir, 'dropout-on'), testMetadata({ task: 'sr', scale: 2 }, { trainingModeAtInference: { dropout: true } })),
    );
    const off = await loadModel(await saveTestModel(randomSrNet(2, 1, 0.5), path.join(dir, 'dropout-off'), testMetadata({ task: 'sr', scale: 2 })));
    expect([on.trainingMode, off.trainingMode]).toEqual([true, false]);
    const { runModel } = await import('./models');
    const differs = (m: typeof on) =>
      tf.tidy(() => {
        const x = tf.randomUniform([1, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
        return tf.max(tf.abs(tf.sub(runModel(m, x), runModel(m, x)))).dataSync()[0]!;
      });
    expect(differs(on)).toBeGreaterThan(1e-3);
    expect(differs(off)).toBe(0);
    on.model.dispose();
    off.model.dispose();
  });
});

describe('InferenceService', () => {
  it('upscales x2 and x4 to exact sizes and reports the model and backend', async () => {
    const input = await png(13, 7);
    const x2 = await service.upscale(input, { scale: 2 });
    expect(x2).toMatchObject({ width: 26, height: 14, inputWidth: 13, inputHeight: 7, model: 'sr-x2', backend: service.backend });
    expect(await sharp(x2.png).metadata()).toMatchObject({ width: 26, height: 14, format: 'png' });
    const x4 = await service.upscale(input, { scale: 4 });
    // the faithful variant is preferred
    expect(x4).toMatchObject({ width: 52, height: 28, model: 'sr-x4-faithful' });
    expect(x4.ms).toBeGreaterThan(0);
  });

  it('uses a named model when asked, and refuses a wrong or unknown one', async () => {
    const input = await png(5, 5);
    expect((await service.upscale(input, { scale: 2, model: 'sr-x2-sharp' })).model).toBe('sr-x2-sharp');
    await expect(service.upscale(input, { scale: 4, model: 'sr-x2' })).rejects.toBeInstanceOf(ModelUnavailableError);
    await expect(service.upscale(input, { scale: 2, model: 'nope' })).rejects.toThrow(/available: /);
    await expect(service.colorize(input, { model: 'sr-x2' })).rejects.toBeInstanceOf(ModelUnavailableError);
    await expect(service.upscale(input, { scale: 3 as 2 })).rejects.toThrow(/scale must be 2 or 4/);
  });

  it('names the task of a wrong model as it names the one asked for (not "a sr x2")', async () => {
    const input = await png(5, 5);
    await expect(service.upscale(input, { scale: 4, model: 'sr-x2' })).rejects.toThrow('Model "sr-x2" is a super-resolution x2 model, not super-resolution x4.');
    await expect(service.colorize(input, { model: 'sr-x2' })).rejects.toThrow('Model "sr-x2" is a super-resolution x2 model, not colorize.');
    await expect(service.upscale(input, { scale: 2, model: 'colorize' })).rejects.toThrow('Model "colorize" is a colorize model, not super-resolution x2.');
  });

  it('colorizes to the same size and keeps alpha', async () => {
    const input = await png(11, 6, 4, 3);
    const result = await service.colorize(input);
    expect(result).toMatchObject({ width: 11, height: 6, model: 'colorize' });
    const decoded = await sharp(result.png).raw().toBuffer({ resolveWithObject: true });
    expect(decoded.info.channels).toBe(4);
    const original = await sharp(input).raw().toBuffer();
    for (let i = 3; i < original.length; i += 4) expect(decoded.data[i]).toBe(original[i]);
  });

  it('keeps and upscales alpha through the PNG', async () => {
    const result = await service.upscale(await png(6, 4, 4, 8), { scale: 4 });
    const meta = await sharp(result.png).metadata();
    expect([meta.width, meta.height, meta.channels, meta.hasAlpha]).toEqual([24, 16, 4, true]);
  });

  it('maps bad input to InputError codes, with the limit in the message', async () => {
    await expectInputError(service.upscale(Buffer.from('not an image at all'), { scale: 2 }), 'unsupported_image');
    await expectInputError(service.colorize(Buffer.alloc(0)), 'unsupported_image');
    const input = await png(20, 10);
    const tooBig = await expectInputError(service.colorize(input, { maxInputPixels: 199 }), 'too_large');
    expect(tooBig.message).toContain('199');
    const tooBigOut = await expectInputError(service.upscale(input, { scale: 4, maxOutputPixels: 3199 }), 'too_large');
    expect(tooBigOut.message).toContain('3,199');
    await expect(service.upscale(input, { scale: 4, maxOutputPixels: 3200 })).resolves.toMatchObject({ width: 80 });
    // Over both limits: the input's own limit is the one named.
    const inputOver = await expectInputError(service.upscale(input, { scale: 2, maxInputPixels: 199, maxOutputPixels: 700 }), 'too_large');
    expect(inputOver.message).toMatch(/^The image is 20x10 = 200 pixels; the limit is 199 pixels/);
  });

  it('refuses from the header, whatever limit the caller gives, a result larger than can be written (16383 x 16383)', async () => {
    // A uniform 4100 x 4100 PNG is small; x4 it would be 16400 x 16400, just over what sharp encodes.
    const big = await sharp({ create: { width: 4100, height: 4100, channels: 3, background: { r: 90, g: 90, b: 90 } } }).png().toBuffer();
    const start = performance.now();
    const refused = await expectInputError(service.upscale(big, { scale: 4, maxOutputPixels: 1e12 }), 'too_large');
    expect(refused.message).toContain('the limit is 268,402,689 pixels');
    await expectInputError(service.upscale(big, { scale: 4 }), 'too_large');
    // Refused before any tile ran (a 4100 px image takes minutes to upscale).
    expect(performance.now() - start).toBeLessThan(5000);
  });

  it('cancels with AbortError and reports progress up to the total', async () => {
    const seen: number[] = [];
    let total = 0;
    await service.upscale(await png(40, 40), {
      scale: 2,
      onProgress: (p) => {
        seen.push(p.done);
        total = p.total;
      },
    });
    expect(total).toBe(9); // tile size 16 -> 3 x 3 tiles
    expect(seen.at(-1)).toBe(total);
    const controller = new AbortController();
    controller.abort();
    await expect(service.upscale(await png(8, 8), { scale: 2, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('leaks no tensors across calls', async () => {
    const input = await png(21, 19);
    await service.upscale(input, { scale: 2 });
    const before = tf.memory().numTensors;
    await service.upscale(input, { scale: 4 });
    await service.colorize(input);
    await service.upscale(Buffer.from('junk'), { scale: 2 }).catch(() => undefined);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('getInferenceService is one instance per process (MODELS_DIR)', async () => {
    const previous = process.env.MODELS_DIR;
    process.env.MODELS_DIR = path.join(dir, 'models');
    try {
      const [a, b] = await Promise.all([getInferenceService(), getInferenceService()]);
      expect(a).toBe(b);
      expect(a).toBe(await getInferenceService());
      expect(a.source).toBe(path.join(dir, 'models'));
      a.dispose();
    } finally {
      if (previous === undefined) delete process.env.MODELS_DIR;
      else process.env.MODELS_DIR = previous;
      delete (globalThis as Record<symbol, unknown>)[Symbol.for('pix2pix-tfjs.infer.service')];
    }
  });
});
