import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InputError } from '@/lib/infer/types';
import { decodeImage, encodePng, sharpErrorMessage } from './decode';

/** A 2-colour test pattern whose left and right halves differ, so orientation is observable. */
function halves(width: number, height: number, left: number[], right: number[]): Buffer {
  const ch = left.length;
  const data = Buffer.alloc(width * height * ch);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour = x < width / 2 ? left : right;
      for (let c = 0; c < ch; c++) data[(y * width + x) * ch + c] = colour[c]!;
    }
  }
  return data;
}

async function expectInputError(promise: Promise<unknown>, code: string): Promise<InputError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).code).toBe(code);
  return error as InputError;
}

describe('decodeImage', () => {
  it('decodes RGB PNG exactly, from a buffer and from a path', async () => {
    const raw = halves(6, 4, [10, 20, 30], [200, 150, 100]);
    const png = await sharp(raw, { raw: { width: 6, height: 4, channels: 3 } }).png().toBuffer();
    const image = await decodeImage(png);
    expect(image).toMatchObject({ width: 6, height: 4, channels: 3, hasAlpha: false });
    expect(image.alpha).toBeUndefined();
    expect(Buffer.from(image.data).equals(raw)).toBe(true);

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'decode-'));
    const file = path.join(dir, 'a.png');
    await fs.writeFile(file, png);
    const fromPath = await decodeImage(file);
    expect(Buffer.from(fromPath.data).equals(raw)).toBe(true);
    await fs.rm(dir, { recursive: true });
  });

  it('keeps alpha apart from RGB', async () => {
    const raw = halves(4, 2, [1, 2, 3, 0], [250, 251, 252, 128]);
    const png = await sharp(raw, { raw: { width: 4, height: 2, channels: 4 } }).png().toBuffer();
    const image = await decodeImage(png);
    expect(image.channels).toBe(3);
    expect(image.hasAlpha).toBe(true);
    expect(Array.from(image.alpha!)).toEqual([0, 0, 128, 128, 0, 0, 128, 128]);
    expect(Array.from(image.data.slice(0, 3))).toEqual([1, 2, 3]);
    expect(Array.from(image.data.slice(9, 12))).toEqual([250, 251, 252]);
  });

  it('expands gray and gray+alpha to 3 equal channels', async () => {
    const gray = await sharp(halves(4, 2, [40], [220]), { raw: { width: 4, height: 2, channels: 1 } }).png().toBuffer();
    const g = await decodeImage(gray);
    expect(g).toMatchObject({ channels: 3, hasAlpha: false });
    expect(Array.from(g.data.slice(0, 3))).toEqual([40, 40, 40]);
    expect(Array.from(g.data.slice(9, 12))).toEqual([220, 220, 220]);

    const grayAlpha = await sharp(halves(4, 2, [40, 255], [220, 7]), { raw: { width: 4, height: 2, channels: 2 } })
      .png()
      .toBuffer();
    const ga = await decodeImage(grayAlpha);
    expect(ga).toMatchObject({ channels: 3, hasAlpha: true });
    expect(Array.from(ga.alpha!)).toEqual([255, 255, 7, 7, 255, 255, 7, 7]);
    expect(Array.from(ga.data.slice(9, 12))).toEqual([220, 220, 220]);
  });

  it('reduces 16-bit PNG to 8-bit', async () => {
    const width = 4;
    const height = 1;
    const values = [0, 65535, 32896, 4112]; // 0, 255, 128, 16 in 8 bits
    const raw16 = new Uint16Array(width * height * 3);
    values.forEach((v, i) => raw16.fill(v, i * 3, i * 3 + 3));
    const png16 = await sharp(raw16, { raw: { width, height, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const image = await decodeImage(png16);
    expect([image.width, image.height, image.channels]).toEqual([width, height, 3]);
    expect(Array.from(image.data)).toEqual([0, 0, 0, 255, 255, 255, 128, 128, 128, 16, 16, 16]);
    expect(image.data).toBeInstanceOf(Uint8Array);
  });

  it('converts CMYK JPEG to sRGB', async () => {
    const raw = halves(8, 8, [255, 0, 0], [0, 0, 255]);
    const cmyk = await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } }).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const image = await decodeImage(cmyk);
    expect(image).toMatchObject({ width: 8, height: 8, channels: 3 });
    const [r, g, b] = image.data.slice(0, 3);
    expect(r!).toBeGreaterThan(180);
    expect(g!).toBeLessThan(90);
    expect(b!).toBeLessThan(90);
  });

  it('decodes palette PNG', async () => {
    const raw = halves(8, 2, [255, 0, 0], [0, 255, 0]);
    const pal = await sharp(raw, { raw: { width: 8, height: 2, channels: 3 } }).png({ palette: true, colours: 4 }).toBuffer();
    const image = await decodeImage(pal);
    expect(image.channels).toBe(3);
    expect(Array.from(image.data.slice(0, 3))).toEqual([255, 0, 0]);
    expect(Array.from(image.data.slice(7 * 3, 8 * 3))).toEqual([0, 255, 0]);
  });

  it('applies EXIF orientation', async () => {
    // Stored 6 wide x 2 high, orientation 6 (rotate 90 clockwise to display): displayed 2 wide x 6 high,
    // with the stored left half (red) on top.
    const raw = halves(6, 2, [255, 0, 0], [0, 0, 255]);
    const jpeg = await sharp(raw, { raw: { width: 6, height: 2, channels: 3 } })
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const image = await decodeImage(jpeg);
    expect([image.width, image.height]).toEqual([2, 6]);
    expect(image.data[0]!).toBeGreaterThan(200); // top: red
    expect(image.data[(5 * 2) * 3 + 2]!).toBeGreaterThan(200); // bottom: blue
  });

  it('rejects garbage and empty input as unsupported_image', async () => {
    await expectInputError(decodeImage(Buffer.from('definitely not an image')), 'unsupported_image');
    await expectInputError(decodeImage(Buffer.alloc(0)), 'unsupported_image');
  });

  it('calls an image of a format it reads that is cut short damaged (unusable_image), naming the format when the header is intact', async () => {
    const raw = halves(64, 48, [1, 2, 3], [200, 100, 50]);
    for (const format of ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const) {
      const encoded = await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } }).toFormat(format).toBuffer();
      const error = await expectInputError(decodeImage(encoded.subarray(0, Math.floor(encoded.length * 0.6))), 'unusable_image');
      expect(error.message, format).toMatch(/damaged or incomplete/);
      expect(error.message, format).not.toMatch(/corrupt header/);
    }
    const jpeg = await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } }).jpeg().toBuffer();
    expect((await expectInputError(decodeImage(jpeg.subarray(0, jpeg.length - 20)), 'unusable_image')).message).toMatch(/^The JPEG image is damaged/);
  });

  it('reports a truncated TIFF or AVIF in one line, without libvips\' "bad seek" noise', async () => {
    const raw = halves(20, 12, [10, 200, 30], [240, 20, 90]);
    for (const format of ['tiff', 'avif'] as const) {
      const encoded = await sharp(raw, { raw: { width: 20, height: 12, channels: 3 } }).toFormat(format).toBuffer();
      const error = await expectInputError(decodeImage(encoded.subarray(0, Math.floor(encoded.length / 2))), 'unusable_image');
      expect(error.message, format).not.toContain('\n');
      expect(error.message, format).not.toMatch(/bad seek|:$/);
    }
  });

  it('sharpErrorMessage joins libvips error lines, dropping repeats and seek noise', () => {
    const message = 'Input buffer has corrupt header: source: bad seek to 1024\nsource: bad seek to 512\nheif: Invalid input\n';
    expect(sharpErrorMessage(new Error(message))).toBe('Input buffer has corrupt header: heif: Invalid input');
    expect(sharpErrorMessage(new Error('source: bad seek to 9\ntiff2vips: bad table\ntiff2vips: bad table\ntiff2vips: read error'))).toBe(
      'tiff2vips: bad table; tiff2vips: read error',
    );
    expect(sharpErrorMessage(new Error('Input buffer has corrupt header:\n'))).toBe('Input buffer has corrupt header');
    expect(sharpErrorMessage(new Error('VipsJpeg: premature end of JPEG image'))).toBe('VipsJpeg: premature end of JPEG image');
  });

  it('rejects images over maxInputPixels as too_large, naming the limit', async () => {
    const png = await sharp(halves(20, 10, [1, 2, 3], [4, 5, 6]), { raw: { width: 20, height: 10, channels: 3 } })
      .png()
      .toBuffer();
    const error = await expectInputError(decodeImage(png, { maxInputPixels: 199 }), 'too_large');
    expect(error.message).toContain('199');
    await expect(decodeImage(png, { maxInputPixels: 200 })).resolves.toMatchObject({ width: 20 });
  });

  it('lets a missing file fail as a file-system error', async () => {
    await expect(decodeImage('/nonexistent/definitely/missing.png')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('encodePng', () => {
  it('round-trips RGB and RGB + alpha through decodeImage', async () => {
    const width = 5;
    const height = 3;
    const data = new Uint8Array(width * height * 3).map((_, i) => (i * 37) % 256);
    const alpha = new Uint8Array(width * height).map((_, i) => (i * 53) % 256);
    const plain = await decodeImage(await encodePng({ data, width, height, channels: 3 }));
    expect(Array.from(plain.data)).toEqual(Array.from(data));
    expect(plain.hasAlpha).toBe(false);
    const withAlpha = await decodeImage(await encodePng({ data, width, height, channels: 3 }, alpha));
    expect(Array.from(withAlpha.data)).toEqual(Array.from(data));
    expect(Array.from(withAlpha.alpha!)).toEqual(Array.from(alpha));
  });

  it('rejects mismatched sizes', async () => {
    await expect(encodePng({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 })).rejects.toThrow();
    await expect(
      encodePng({ data: new Uint8Array(6), width: 2, height: 1, channels: 3 }, new Uint8Array(3)),
    ).rejects.toThrow();
  });
});
