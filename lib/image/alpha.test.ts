import { describe, expect, it } from 'vitest';
import { fillTransparentRgb } from './alpha';

/** A width x height image: `visible(x, y)` gives the colour of a visible pixel, or undefined for a transparent one. */
function picture(width: number, height: number, visible: (x: number, y: number) => [number, number, number] | undefined, hidden: [number, number, number]) {
  const rgb = new Uint8Array(width * height * 3);
  const alpha = new Uint8Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const colour = visible(x, y);
      rgb.set(colour ?? hidden, i * 3);
      alpha[i] = colour ? 255 : 0;
    }
  return { rgb, alpha };
}

describe('fillTransparentRgb', () => {
  it('keeps every visible pixel and gives hidden ones the colour of the visible content, not what was under them', () => {
    // A white disc over transparent black, on an odd-sized canvas.
    const { rgb, alpha } = picture(37, 23, (x, y) => ((x - 18) ** 2 + (y - 11) ** 2 < 64 ? [240, 240, 240] : undefined), [0, 0, 0]);
    const filled = fillTransparentRgb(rgb, alpha, 37, 23);
    for (let i = 0; i < alpha.length; i++) {
      const pixel = [...filled.subarray(i * 3, i * 3 + 3)];
      expect(pixel).toEqual(alpha[i] ? [...rgb.subarray(i * 3, i * 3 + 3)] : [240, 240, 240]);
    }
    expect(rgb[0]).toBe(0);
  });

  it('takes the nearest visible colour: two regions keep their own colours at their edges', () => {
    // Left quarter red, right quarter blue, middle transparent green.
    const { rgb, alpha } = picture(64, 8, (x) => (x < 16 ? [255, 0, 0] : x >= 48 ? [0, 0, 255] : undefined), [0, 255, 0]);
    const filled = fillTransparentRgb(rgb, alpha, 64, 8);
    const at = (x: number, y: number) => [...filled.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
    expect(at(16, 3)).toEqual([255, 0, 0]);
    expect(at(17, 4)).toEqual([255, 0, 0]);
    expect(at(47, 3)).toEqual([0, 0, 255]);
    for (let i = 0; i < alpha.length; i++) expect(filled[i * 3 + 1]).toBe(0);
  });

  it('counts partly transparent pixels as visible and leaves images with no or only transparent pixels as they are', () => {
    const rgb = Uint8Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect([...fillTransparentRgb(rgb, Uint8Array.from([1, 0, 0]), 3, 1)]).toEqual([10, 20, 30, 10, 20, 30, 10, 20, 30]);
    expect([...fillTransparentRgb(rgb, Uint8Array.from([0, 0, 0]), 3, 1)]).toEqual([...rgb]);
    expect([...fillTransparentRgb(rgb, Uint8Array.from([255, 9, 1]), 3, 1)]).toEqual([...rgb]);
    expect(() => fillTransparentRgb(rgb, Uint8Array.from([255, 9]), 3, 1)).toThrow(/needs 9 RGB and 3 alpha/);
  });
});
