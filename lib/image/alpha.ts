/**
 * Colour under fully transparent pixels. Image files keep whatever RGB an editor left there (often
 * black, sometimes anything), and it is invisible until a filter mixes it with its neighbours: the
 * SR network's receptive field and the cubic upscaling of alpha both do, so a white cut-out over
 * transparent black came out with a dark fringe. Filling those pixels from the visible ones first
 * ("alpha bleeding") makes what the filters mix in the colour of the nearest visible content.
 */

/**
 * Returns a copy of `rgb` in which every pixel with `alpha` 0 takes the mean colour of the visible
 * pixels (alpha > 0) nearest to it, by push-pull over a 2x pyramid: each level sums 2 x 2 blocks of
 * visible colour and count, and a pixel with nothing visible in its block takes its parent block's
 * mean. Pixels with alpha > 0 are unchanged. When no pixel is hidden, or none is visible, `rgb`
 * itself is returned (most RGBA files are opaque throughout: no copy for them).
 *
 * Memory: about 16 bytes per pixel of the half-size level (and a quarter of that for each next one).
 *
 * @param rgb interleaved RGB, `width * height * 3`, 0..255.
 * @param alpha `width * height`, 0..255.
 * @returns interleaved RGB of the same size; `rgb` itself is never modified.
 */
export function fillTransparentRgb(rgb: Uint8Array, alpha: Uint8Array, width: number, height: number): Uint8Array {
  const n = width * height;
  if (rgb.length !== n * 3 || alpha.length !== n) {
    throw new Error(`fillTransparentRgb: ${width}x${height} needs ${n * 3} RGB and ${n} alpha values, got ${rgb.length} and ${alpha.length}`);
  }
  let hidden = 0;
  for (let i = 0; i < n; i++) if (alpha[i] === 0) hidden++;
  if (hidden === 0 || hidden === n) return rgb;

  // Level 0 is read straight from the bytes; levels 1.. hold colour sums and visible counts.
  interface Level {
    width: number;
    height: number;
    sum: Float32Array;
    count: Float32Array;
  }
  const levels: Level[] = [];
  // The level-0 "child" is the image itself: visible colours and a count of 1 per visible pixel.
  let childWidth = width;
  let childHeight = height;
  let childSum = new Float32Array(0);
  let childCount = new Float32Array(0);
  while (childWidth > 1 || childHeight > 1) {
    const w = Math.ceil(childWidth / 2);
    const h = Math.ceil(childHeight / 2);
    const sum = new Float32Array(w * h * 3);
    const count = new Float32Array(w * h);
    const fromImage = levels.length === 0;
    for (let y = 0; y < childHeight; y++) {
      for (let x = 0; x < childWidth; x++) {
        const i = y * childWidth + x;
        const parent = (y >> 1) * w + (x >> 1);
        if (fromImage) {
          if (alpha[i] === 0) continue;
          count[parent]! += 1;
          for (let c = 0; c < 3; c++) sum[parent * 3 + c]! += rgb[i * 3 + c]!;
        } else {
          count[parent]! += childCount[i]!;
          for (let c = 0; c < 3; c++) sum[parent * 3 + c]! += childSum[i * 3 + c]!;
        }
      }
    }
    levels.push({ width: w, height: h, sum, count });
    [childWidth, childHeight, childSum, childCount] = [w, h, sum, count];
  }

  // Pull: from the top (1 x 1, which has visible pixels since some are visible) down, a block with
  // nothing visible gets its parent's mean; a block with something visible keeps its own mean.
  for (let l = levels.length - 1; l >= 0; l--) {
    const level = levels[l]!;
    const parent = levels[l + 1];
    for (let y = 0; y < level.height; y++) {
      for (let x = 0; x < level.width; x++) {
        const i = y * level.width + x;
        const count = level.count[i]!;
        for (let c = 0; c < 3; c++) {
          level.sum[i * 3 + c] =
            count > 0 ? level.sum[i * 3 + c]! / count : parent!.sum[((y >> 1) * parent!.width + (x >> 1)) * 3 + c]!;
        }
        level.count[i] = 1;
      }
    }
  }
  const out = Uint8Array.from(rgb);
  const first = levels[0]!;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (alpha[i] !== 0) continue;
      const p = ((y >> 1) * first.width + (x >> 1)) * 3;
      for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(first.sum[p + c]!);
    }
  }
  return out;
}
