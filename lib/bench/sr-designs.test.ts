import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareSrDesigns, cropSizeProblem, srDesignsTable } from './sr-designs';

let root: string;

async function writeImages(dir: string, count: number, size: number): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const data = Buffer.alloc(size * size * 3);
    for (let k = 0; k < data.length; k++) data[k] = (128 + 100 * Math.sin((k % (size * 3)) / (5 + i) + Math.floor(k / (size * 3)) / 7)) | 0;
    await sharp(data, { raw: { width: size, height: size, channels: 3 } }).png().toFile(path.join(dir, `img${i}.png`));
  }
}

describe('SR design comparison', () => {
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'sr-designs-'));
    await writeImages(path.join(root, 'photos'), 4, 72);
    await writeImages(path.join(root, 'bench'), 2, 40);
    process.env.TF_BACKEND = 'wasm';
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('trains both designs for the same CPU budget and scores them on the benchmark', async () => {
    const options = { data: path.join(root, 'photos'), bench: path.join(root, 'bench'), scale: 2 as const, cpuSeconds: 1, evaluations: 2, cropSize: 32, batchSize: 2, designs: ['srnet', 'unet-pre'] as const, log: () => undefined };
    const results = await compareSrDesigns(options);
    expect(results.map((r) => r.design)).toEqual(['srnet', 'unet-pre']);
    for (const r of results) {
      expect(r.points).toHaveLength(2);
      expect(r.points[1]!.steps).toBeGreaterThanOrEqual(r.points[0]!.steps);
      // The budget is reached, and overshot by at most a few steps.
      expect(r.points[1]!.cpuSeconds).toBeGreaterThanOrEqual(1);
      for (const p of r.points) expect(Number.isFinite(p.psnr) && p.psnr > 5 && p.psnr < 80).toBe(true);
      expect(r.inferCpuMsPerMegapixel).toBeGreaterThan(0);
    }
    const table = srDesignsTable(results, options);
    expect(table).toContain('| srnet |');
    expect(table).toContain('| unet-pre |');
  });
});

describe('cropSizeProblem', () => {
  it('refuses, before any training, crops unet-pre cannot halve 5 times or that the scale does not divide', () => {
    expect(cropSizeProblem(['srnet', 'unet-pre'], 96, 4)).toBeUndefined();
    expect(cropSizeProblem(['srnet', 'unet-pre'], 48, 4)).toBe(
      '--crop-size 48: unet-pre halves its input 5 times, so it must be a multiple of 32 (e.g. 64), or leave unet-pre out of --designs',
    );
    expect(cropSizeProblem(['srnet'], 48, 4)).toBeUndefined();
    expect(cropSizeProblem(['srnet'], 50, 4)).toBe('--crop-size 50 must be a multiple of --scale 4');
  });
});
