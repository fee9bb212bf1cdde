import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from './data';
import { colorizeFilter, loadImages, minSrSide, skippedNotes, srFilter } from './run';

const root = mkdtempSync(path.join(os.tmpdir(), 'eval-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let good: Buffer;
beforeAll(async () => {
  good = await sharp({ create: { width: 24, height: 16, channels: 3, background: '#4080c0' } }).png().toBuffer();
});

describe('loadImages', () => {
  it('skips a truncated PNG and a text file named .png, naming each once, and evaluates the rest', async () => {
    const dir = path.join(root, 'mixed');
    const files: Record<string, Buffer | string> = {
      'a.png': good,
      'b-truncated.png': good.subarray(0, 60),
      'c.png': good,
      'd-text.png': 'not an image\n',
      'e.png': good,
    };
    mkdirSync(dir);
    for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, name), data);
    const lines: string[] = [];
    const loaded = await loadImages(dir, undefined, (line) => lines.push(line));
    expect(loaded.images.map((i) => i.name)).toEqual(['a.png', 'c.png', 'e.png']);
    expect(loaded.images[0]!.image).toMatchObject({ width: 24, height: 16, channels: 3 });
    expect(loaded.skipped.map((s) => [s.name, s.kind])).toEqual([
      ['b-truncated.png', 'unreadable'],
      ['d-text.png', 'unreadable'],
    ]);
    expect(lines.filter((l) => l.includes('b-truncated.png'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('d-text.png'))).toHaveLength(1);
    expect(lines.find((l) => l.includes('d-text.png'))).toMatch(/^skipped d-text\.png: .*unsupported image format/);
    expect(lines.at(-1)).toBe(`3 images from ${dir} (2 unreadable, skipped)`);

    // --limit counts the readable images.
    expect((await loadImages(dir, 2, () => {})).images.map((i) => i.name)).toEqual(['a.png', 'c.png']);
  });

  it('is a data error, naming the folder, when no image can be read', async () => {
    const dir = mkdtempSync(path.join(root, 'broken-'));
    writeFileSync(path.join(dir, 'x.png'), 'text');
    const error = await loadImages(dir, undefined, () => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toContain(`No readable images in ${dir}`);
  });

  it('skips images too small to score, with their size, and still scores the rest', async () => {
    const dir = mkdtempSync(path.join(root, 'small-'));
    const solid = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#4080c0' } }).png().toBuffer();
    writeFileSync(path.join(dir, 'a.png'), good);
    writeFileSync(path.join(dir, 'long.png'), await solid(200, 10));
    writeFileSync(path.join(dir, 'one.png'), await solid(1, 1));
    writeFileSync(path.join(dir, 'x-text.png'), 'not an image');
    writeFileSync(path.join(dir, 'z.png'), good);
    const lines: string[] = [];
    const filter = srFilter(2);
    const loaded = await loadImages(dir, undefined, (line) => lines.push(line), filter);
    expect(loaded.images.map((i) => i.name)).toEqual(['a.png', 'z.png']);
    expect(loaded.skipped).toEqual([
      { name: 'long.png', kind: 'too small', reason: '200x10' },
      { name: 'one.png', kind: 'too small', reason: '1x1' },
      { name: 'x-text.png', kind: 'unreadable', reason: expect.stringMatching(/unsupported image format/) },
    ]);
    expect(lines).toContain('skipped one.png: too small to score (1x1; x2 needs at least 16 x 16 px)');
    expect(lines.at(-1)).toBe(`2 images from ${dir} (1 unreadable, 2 too small, skipped)`);
    expect(skippedNotes(loaded.skipped, filter.sizeRule)).toEqual([
      '1 unreadable file skipped: x-text.png.',
      '2 images too small to score skipped (x2 needs at least 16 x 16 px): long.png (200x10), one.png (1x1).',
    ]);
    // --limit counts the images that are scored.
    expect((await loadImages(dir, 2, () => {}, filter)).images.map((i) => i.name)).toEqual(['a.png', 'z.png']);

    // Nothing left to score is the data error of an empty folder, saying why.
    const tiny = mkdtempSync(path.join(root, 'tiny-'));
    writeFileSync(path.join(tiny, 'one.png'), await solid(1, 1));
    const error = await loadImages(tiny, undefined, () => {}, filter).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toBe(`No image in ${tiny} can be scored. 1 image too small to score skipped (x2 needs at least 16 x 16 px): one.png (1x1).`);
  });

  it('sizes SR images by what survives the crop to a multiple of the scale and the shave', () => {
    // x2: 16 - 2 * 2 = 12 >= 11, while 15 crops to 14 and leaves 10; x4: 20 - 8 = 12, 19 crops to 16 and leaves 8.
    expect(minSrSide(2)).toBe(16);
    expect(minSrSide(4)).toBe(20);
  });

  it('colorize: skips black-and-white photos (the gray input would score infinite PSNR)', async () => {
    const dir = mkdtempSync(path.join(root, 'bw-'));
    writeFileSync(path.join(dir, 'colour.png'), good);
    writeFileSync(path.join(dir, 'bw.png'), await sharp(good).toColourspace('b-w').png().toBuffer());
    const lines: string[] = [];
    const loaded = await loadImages(dir, undefined, (line) => lines.push(line), colorizeFilter);
    expect(loaded.images.map((i) => i.name)).toEqual(['colour.png']);
    expect(loaded.skipped).toEqual([{ name: 'bw.png', kind: 'no colour', reason: "every pixel's a* and b* round to 0" }]);
    expect(lines).toContain("skipped bw.png: no colour to compare with (every pixel's a* and b* round to 0)");
    expect(skippedNotes(loaded.skipped)).toEqual([
      "1 image without colour skipped (every pixel's a* and b* round to 0: the gray input would score as a perfect colorization): bw.png.",
    ]);
  });
});
