import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crop, cropToMultiple, createImage, fromBytes, ImageFileError, quantize, readImageFile, toBytes } from './image';

const root = mkdtempSync(path.join(os.tmpdir(), 'eval-image-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('eval images', () => {
  it('round-trips 8-bit pixels through [0, 1] floats', () => {
    const bytes = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => (i * 37) % 256);
    const image = fromBytes(bytes, 3, 2, 3);
    expect(image.data[1]).toBeCloseTo(37 / 255, 7);
    expect(Array.from(toBytes(image))).toEqual(Array.from(bytes));
  });

  it('quantize clips and rounds to 8-bit levels', () => {
    const image = { data: Float32Array.from([-0.2, 0.5, 1.3, 100.4 / 255, 100.6 / 255]), width: 5, height: 1, channels: 1 };
    expect(Array.from(toBytes(quantize(image)))).toEqual([0, 128, 255, 100, 101]);
  });

  it('crops to a multiple of the scale from the top-left', () => {
    const image = fromBytes(Uint8Array.from({ length: 7 * 5 }, (_, i) => i), 7, 5, 1);
    const cropped = cropToMultiple(image, 4);
    expect([cropped.width, cropped.height]).toEqual([4, 4]);
    expect(Array.from(toBytes(cropped))).toEqual([0, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 17, 21, 22, 23, 24]);
    expect(cropToMultiple(image, 1)).toBe(image);
  });

  it('crops windows and rejects ones outside the image', () => {
    const image = fromBytes(Uint8Array.from({ length: 4 * 3 * 2 }, (_, i) => i), 4, 3, 2);
    expect(Array.from(toBytes(crop(image, 2, 1, 1, 2)))).toEqual([18, 19, 20, 21]);
    expect(() => crop(image, 4, 2, 1, 0)).toThrow(/outside/);
    expect(() => createImage(0, 3, 3)).toThrow(/bad shape/);
  });

  it('readImageFile names the file it cannot read or decode', async () => {
    const text = path.join(root, 'text.png');
    writeFileSync(text, 'not an image');
    const error = await readImageFile(text).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFileError);
    expect((error as Error).message.startsWith(`${text}: `)).toBe(true);
    expect((error as Error).message).toMatch(/unsupported image format/);
    await expect(readImageFile(path.join(root, 'missing.png'))).rejects.toThrow(`${path.join(root, 'missing.png')}: file not found`);
  });
});
