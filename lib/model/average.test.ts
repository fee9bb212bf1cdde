import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { io } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nearestSrNet, randomSrNet, saveTestModel, testMetadata } from '@/lib/infer/test-models';
import { initBackend } from '@/lib/tf/backend';
import { averageModels, averageWeightBuffers, readModelFolder } from './average';
import { fileSystemIO } from './io';
import { parseMetadata } from './metadata';

let dir: string;
const metadata = testMetadata({ task: 'sr', scale: 2 }, { architecture: { kind: 'test', blocks: 1 }, metrics: { val_psnr: 30 } });

async function weightsOf(modelDir: string): Promise<Float32Array[]> {
  const model = await tfl.loadLayersModel(fileSystemIO(modelDir));
  const values = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  return values;
}

beforeAll(async () => {
  await initBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'average-'));
  await saveTestModel(randomSrNet(2, 1), path.join(dir, 'a'), { ...metadata, name: 'a', training: { ...metadata.training, steps: 100, wallTimeSeconds: 60 } });
  await saveTestModel(randomSrNet(2, 2), path.join(dir, 'b'), { ...metadata, name: 'b', training: { ...metadata.training, steps: 300, wallTimeSeconds: 120 } });
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('averageModels', () => {
  it('writes the element-wise weighted mean as a loadable model with self-describing metadata', async () => {
    const before = tf.memory().numTensors;
    const meta = await averageModels([path.join(dir, 'a'), path.join(dir, 'b')], path.join(dir, 'mean'), { name: 'mean', coefficients: [3, 1] });
    expect(tf.memory().numTensors).toBe(before);
    const [a, b, mean] = await Promise.all(['a', 'b', 'mean'].map((n) => weightsOf(path.join(dir, n))));
    expect(mean!.length).toBe(a!.length);
    for (let t = 0; t < a!.length; t++) {
      const expected = a![t]!.map((v, i) => 0.75 * v + 0.25 * b![t]![i]!);
      // The sources differ (different seeds), so a copy of either would fail this.
      expect(Math.max(...expected.map((v, i) => Math.abs(v - mean![t]![i]!)))).toBeLessThan(1e-6);
    }
    expect(meta.name).toBe('mean');
    expect(meta.metrics).toEqual({});
    expect(meta.training.wallTimeSeconds).toBe(180);
    expect(meta.averagedFrom).toEqual([
      { name: 'a', steps: 100, weight: 0.75 },
      { name: 'b', steps: 300, weight: 0.25 },
    ]);
    const onDisk = parseMetadata(JSON.parse(await fs.readFile(path.join(dir, 'mean', 'metadata.json'), 'utf8')), 'mean');
    expect(onDisk).toEqual(meta);
    const model = await tfl.loadLayersModel(fileSystemIO(path.join(dir, 'mean')));
    const out = tf.tidy(() => (model.predict(tf.zeros([1, 5, 7, 3])) as tf.Tensor).shape);
    expect(out).toEqual([1, 10, 14, 3]);
    model.dispose();
  });

  it('gives back the same network when every source is the same', async () => {
    // Copies: one folder given twice is refused (below).
    for (const copy of ['a-copy1', 'a-copy2']) await fs.cp(path.join(dir, 'a'), path.join(dir, copy), { recursive: true });
    await averageModels([path.join(dir, 'a'), path.join(dir, 'a-copy1'), path.join(dir, 'a-copy2')], path.join(dir, 'same'), { name: 'same' });
    const [a, same] = await Promise.all([weightsOf(path.join(dir, 'a')), weightsOf(path.join(dir, 'same'))]);
    for (let t = 0; t < a.length; t++) for (let i = 0; i < a[t]!.length; i++) expect(same[t]![i]).toBeCloseTo(a[t]![i]!, 6);
  });

  it('refuses models that cannot be averaged, naming the difference', async () => {
    await saveTestModel(randomSrNet(2, 3), path.join(dir, 'other-arch'), { ...metadata, architecture: { kind: 'test', blocks: 2 } });
    await saveTestModel(nearestSrNet(2), path.join(dir, 'other-layout'), metadata);
    await saveTestModel(randomSrNet(4, 1), path.join(dir, 'x4'), testMetadata({ task: 'sr', scale: 4 }));
    const a = path.join(dir, 'a');
    await expect(averageModels([a, path.join(dir, 'other-arch')], path.join(dir, 'bad1'), { name: 'bad1' })).rejects.toThrow(/architecture differs/);
    await expect(averageModels([a, path.join(dir, 'other-layout')], path.join(dir, 'bad2'), { name: 'bad2' })).rejects.toThrow(/weight tensors/);
    await expect(averageModels([a, path.join(dir, 'x4')], path.join(dir, 'bad3'), { name: 'bad3' })).rejects.toThrow(/scale differs/);
    await expect(averageModels([a], path.join(dir, 'bad4'), { name: 'bad4' })).rejects.toThrow(/at least two/);
    await expect(averageModels([a, path.join(dir, 'b')], a, { name: 'a' })).rejects.toThrow(/one of the models being averaged/);
    await expect(averageModels([a, path.join(dir, 'missing')], path.join(dir, 'bad5'), { name: 'bad5' })).rejects.toThrow(/Cannot read .*missing/);
    await expect(averageModels([a, path.join(dir, 'b')], path.join(dir, 'bad6'), { name: 'bad6', coefficients: [1, -1] })).rejects.toThrow(/positive/);
    // One folder twice, however it is written or linked, would silently count double.
    await fs.symlink(a, path.join(dir, 'a-link'));
    await expect(averageModels([a, path.join(dir, 'b'), a], path.join(dir, 'bad7'), { name: 'bad7' })).rejects.toThrow(`${a} is given twice; give each model once`);
    await expect(averageModels([a, `${a}/`], path.join(dir, 'bad8'), { name: 'bad8' })).rejects.toThrow(`${a} and ${a}/ are the same folder`);
    await expect(averageModels([a, path.join(dir, 'a-link')], path.join(dir, 'bad9'), { name: 'bad9' })).rejects.toThrow(/are the same folder/);
    // Nothing half-written for a refused average, and the sources are untouched.
    await expect(fs.access(path.join(dir, 'bad1'))).rejects.toThrow();
    expect((await readModelFolder(a)).metadata.name).toBe('a');
  });
});

describe('averageModels weights', () => {
  it('takes only the ratios of the weights, also when their sum overflows', async () => {
    const meta = await averageModels([path.join(dir, 'a'), path.join(dir, 'b')], path.join(dir, 'huge'), { name: 'huge', coefficients: [1e308, 1e308] });
    expect(meta.averagedFrom?.map((s) => s.weight)).toEqual([0.5, 0.5]);
    const [a, b, huge] = await Promise.all(['a', 'b', 'huge'].map((n) => weightsOf(path.join(dir, n))));
    const expected = a![0]!.map((v, i) => 0.5 * v + 0.5 * b![0]![i]!);
    expect(Math.max(...expected.map((v, i) => Math.abs(v - huge![0]![i]!)))).toBeLessThan(1e-6);
  });
});

describe('averageWeightBuffers', () => {
  const floatSpec: io.WeightsManifestEntry = { name: 'k', shape: [2], dtype: 'float32' };
  const intSpec: io.WeightsManifestEntry = { name: 'n', shape: [1], dtype: 'int32' };
  const buffer = (floats: number[], int: number) => {
    const b = new ArrayBuffer(12);
    new Float32Array(b, 0, 2).set(floats);
    new Int32Array(b, 8, 1).set([int]);
    return b;
  };

  it('weights 1e308 : 1.5e308 as 2 : 3 (their sum is past the largest double: scaled, not Infinity)', () => {
    const out = averageWeightBuffers([floatSpec, intSpec], [buffer([10, 0], 7), buffer([0, 10], 7)], [1e308, 1.5e308]);
    const [first, second] = new Float32Array(out, 0, 2);
    expect(first).toBeCloseTo(4, 5);
    expect(second).toBeCloseTo(6, 5);
  });

  it('averages floats, copies equal integers and refuses differing ones', () => {
    const out = averageWeightBuffers([floatSpec, intSpec], [buffer([1, 2], 7), buffer([3, 6], 7)]);
    expect([...new Float32Array(out, 0, 2)]).toEqual([2, 4]);
    expect(new Int32Array(out, 8, 1)[0]).toBe(7);
    expect(() => averageWeightBuffers([floatSpec, intSpec], [buffer([1, 2], 7), buffer([3, 6], 8)])).toThrow(/Integer weight n differs/);
  });

  it('refuses quantised weights and buffers that do not match the manifest', () => {
    const quantised: io.WeightsManifestEntry = { ...floatSpec, quantization: { dtype: 'uint8', scale: 1, min: 0 } };
    expect(() => averageWeightBuffers([quantised, intSpec], [buffer([1, 2], 7), buffer([1, 2], 7)])).toThrow(/quantised/);
    expect(() => averageWeightBuffers([floatSpec], [buffer([1, 2], 7), buffer([1, 2], 7)])).toThrow(/beyond its manifest/);
    expect(() => averageWeightBuffers([floatSpec, intSpec], [buffer([1, 2], 7), new ArrayBuffer(8)])).toThrow(/differ in size/);
    expect(() => averageWeightBuffers([floatSpec, intSpec], [])).toThrow(/no models/);
  });
});
