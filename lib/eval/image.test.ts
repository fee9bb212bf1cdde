import { describe, expect, it } from 'vitest';
import { crop, cropToMultiple, createImage, fromBytes, quantize, toBytes } from './image';

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
});
