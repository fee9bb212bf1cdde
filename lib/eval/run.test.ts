import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from './data';
import { loadImages } from './run';

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
    expect(loaded.skipped).toEqual(['b-truncated.png', 'd-text.png']);
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
});
