import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { jpegRoundTrip, scaledQuantTable } from './jpeg';

interface TestImage {
  name: string;
  data: Uint8Array;
  width: number;
  height: number;
}

const PHOTOS = path.join(process.cwd(), 'data/demo/photos');

/** A demo photo shrunk to a few thousand pixels (which also washes out its own JPEG blocks). */
async function photo(file: string, width: number): Promise<TestImage> {
  const { data, info } = await sharp(path.join(PHOTOS, file)).resize({ width }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { name: file, data: new Uint8Array(data), width: info.width, height: info.height };
}

/** Smooth colour waves plus seeded uniform noise: edges, flat areas and fine detail in one image. */
function synthetic(width: number, height: number): TestImage {
  let state = 12345;
  const random = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = (y * width + x) * 3;
      data[k] = Math.floor(120 + 70 * Math.sin(x / 5) + 40 * random());
      data[k + 1] = Math.floor(120 + 70 * Math.cos(y / 7) + 40 * random());
      data[k + 2] = x > width / 2 ? 220 : Math.floor(40 + 30 * random());
    }
  }
  return { name: `synthetic ${width}x${height}`, data, width, height };
}

async function sharpRoundTrip(image: TestImage, quality: number): Promise<Uint8Array> {
  const file = await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0' })
    .toBuffer();
  return new Uint8Array(await sharp(file).raw().toBuffer());
}

function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / sum);
}

describe('scaledQuantTable', () => {
  it('scales the IJG tables as libjpeg does', () => {
    const base = Array.from({ length: 64 }, (_, i) => i + 1);
    expect([...scaledQuantTable(base, 50)]).toEqual(base);
    expect([...scaledQuantTable(base, 100)]).toEqual(base.map(() => 1));
    // q 10: factor 500 %, capped at 255 for baseline.
    expect(scaledQuantTable(base, 10)[0]).toBe(5);
    expect(scaledQuantTable(base, 10)[63]).toBe(255);
    // q 75: factor 50 %, (b * 50 + 50) / 100 truncated.
    expect(scaledQuantTable([16, 11, 99, 1], 75)).toEqual(Int32Array.from([8, 6, 50, 1]));
  });
});

describe('jpegRoundTrip', () => {
  it('matches sharp (libjpeg) encode + decode on photos and a synthetic image, including partial blocks', async () => {
    const images = [
      await photo('enlightenment-data__Bamboo.jpg', 96),
      await photo('enlightenment-data__Red-Maple.jpg', 75),
      await photo('enlightenment-data__Sea-of-Lanterns.jpg', 64),
      synthetic(48, 40),
      synthetic(13, 9),
    ];
    const rows: string[] = [];
    for (const image of images) {
      for (const quality of [10, 30, 50, 75, 95]) {
        const ours = jpegRoundTrip(image.data, image.width, image.height, quality);
        const theirs = await sharpRoundTrip(image, quality);
        const agreement = psnr(ours, theirs);
        const oursLoss = psnr(ours, image.data);
        const theirLoss = psnr(theirs, image.data);
        rows.push(`${image.name} ${image.width}x${image.height} q${quality}: ours vs sharp ${agreement.toFixed(2)} dB; vs original ours ${oursLoss.toFixed(2)}, sharp ${theirLoss.toFixed(2)}`);
        expect(agreement, rows.at(-1)).toBeGreaterThan(35);
        // The same amount of damage, not just similar pixels.
        expect(Math.abs(oursLoss - theirLoss), rows.at(-1)).toBeLessThan(0.25);
      }
    }
    if (process.env.JPEG_REPORT) console.log(rows.join('\n'));
  });

  it('keeps the layout and loses more at lower quality', () => {
    const image = synthetic(32, 32);
    const high = jpegRoundTrip(image.data, 32, 32, 95);
    const low = jpegRoundTrip(image.data, 32, 32, 10);
    expect(high).toHaveLength(32 * 32 * 3);
    // Chroma subsampling costs this colourful image a fixed few dB at any quality, hence the modest gap.
    expect(psnr(high, image.data)).toBeGreaterThan(psnr(low, image.data) + 3);
    expect(jpegRoundTrip(image.data, 32, 32, 95)).toEqual(high);
  });

  it('rejects a buffer of the wrong size', () => {
    expect(() => jpegRoundTrip(new Uint8Array(10), 2, 2, 50)).toThrow(/12|10 values/);
  });
});
