import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { headerSize } from './header';

/** A noisy image (so that encoders cannot shrink it to nothing) of the given size. */
function noisy(width: number, height: number, channels: 3 | 4 = 3) {
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return sharp(data, { raw: { width, height, channels } });
}

describe('headerSize (the app thread reads sizes without sharp)', () => {
  it("reads what sharp reads for PNG, JPEG (baseline, progressive, with EXIF), WebP (lossy, lossless, extended) and GIF", async () => {
    const cases: [string, Buffer][] = [
      ['png', await noisy(301, 17).png().toBuffer()],
      ['png rgba', await noisy(5, 1200, 4).png().toBuffer()],
      ['jpeg', await noisy(640, 481).jpeg().toBuffer()],
      ['jpeg progressive', await noisy(1023, 77).jpeg({ progressive: true }).toBuffer()],
      ['jpeg exif rotated', await noisy(200, 90).jpeg().withMetadata({ orientation: 6 }).toBuffer()],
      ['webp lossy', await noisy(333, 222).webp().toBuffer()],
      ['webp lossless', await noisy(16383, 2).webp({ lossless: true }).toBuffer()],
      ['webp alpha (extended)', await noisy(70, 71, 4).webp().toBuffer()],
      ['gif', await noisy(123, 45).gif().toBuffer()],
    ];
    for (const [name, bytes] of cases) {
      const { width, height } = await sharp(bytes).metadata();
      expect(headerSize(bytes), name).toEqual({ width, height });
    }
  });

  it('is undefined for other formats, cut or damaged headers and non-images, instead of a wrong size or a throw', async () => {
    const png = await noisy(40, 30).png().toBuffer();
    const jpeg = await noisy(40, 30).jpeg().toBuffer();
    expect(headerSize(await noisy(40, 30).tiff().toBuffer())).toBeUndefined();
    expect(headerSize(png.subarray(0, 20))).toBeUndefined();
    expect(headerSize(jpeg.subarray(0, 10))).toBeUndefined();
    expect(headerSize(new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toBeUndefined();
    expect(headerSize(new Uint8Array([0xff, 0xd8, 0x00, 0x00, 0, 2]))).toBeUndefined();
    expect(headerSize(Buffer.from('RIFF\0\0\0\0WEBPVP8Z' + '\0'.repeat(20)))).toBeUndefined();
    expect(headerSize(new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect(headerSize(new Uint8Array())).toBeUndefined();
    // A zero side is no size.
    const zero = Buffer.from(png);
    zero.writeUInt32BE(0, 16);
    expect(headerSize(zero)).toBeUndefined();
    // A view into a larger buffer (as Node's pooled Buffers are) reads from its own start.
    const pooled = Buffer.concat([Buffer.alloc(7, 9), png]).subarray(7);
    expect(headerSize(pooled)).toEqual({ width: 40, height: 30 });
  });
});
