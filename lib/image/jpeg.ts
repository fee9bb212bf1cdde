/**
 * The lossy half of a baseline JPEG encode + decode, as a pure synchronous function, so that the SR
 * task can add compression artefacts to a training input inside its synchronous `sample()` (sharp is
 * async). Entropy coding is lossless and is left out.
 *
 * It follows what libjpeg(-turbo) does by default, so the artefacts look like a real file's: JFIF
 * YCbCr, 4:2:0 chroma (2x2 averages, triangular "fancy" upsampling on decode), 8x8 DCT, the IJG
 * (Annex K) tables scaled by quality as `jpeg_set_quality` scales them, edge-replicated padding of
 * partial blocks. The DCT is exact floating point where libjpeg uses an integer approximation, so
 * results differ from a real file by a level here and there.
 */

/** IJG / JPEG Annex K luminance quantisation table, row-major (not zig-zag). */
const LUMA_TABLE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109,
  103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** IJG / JPEG Annex K chrominance quantisation table, row-major. */
const CHROMA_TABLE = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/**
 * A base table scaled for `quality` (1..100) the way libjpeg does it, with baseline's 1..255 limit.
 *
 * @returns 64 divisors, row-major.
 */
export function scaledQuantTable(base: readonly number[], quality: number): Int32Array {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const factor = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
  return Int32Array.from(base, (b) => Math.min(255, Math.max(1, Math.floor((b * factor + 50) / 100))));
}

/** `COS[x * 8 + u]` = C(u) / 2 * cos((2x + 1) u pi / 16): the orthonormal 8-point DCT-II basis. */
const COS = (() => {
  const table = new Float64Array(64);
  for (let x = 0; x < 8; x++) {
    for (let u = 0; u < 8; u++) table[x * 8 + u] = (u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  }
  return table;
})();

/**
 * Quantises one 8x8 block in place through the DCT domain and back: `block` holds level-shifted
 * samples (value - 128), row-major; on return it holds the decoded samples, still level-shifted
 * and unrounded.
 */
function quantiseBlock(block: Float64Array, table: Int32Array, tmp: Float64Array): void {
  // Forward 2-D DCT, rows then columns (separable); the result lands back in `block`.
  for (let y = 0; y < 8; y++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let x = 0; x < 8; x++) s += block[y * 8 + x]! * COS[x * 8 + u]!;
      tmp[y * 8 + u] = s;
    }
  }
  for (let u = 0; u < 8; u++) {
    for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let y = 0; y < 8; y++) s += tmp[y * 8 + u]! * COS[y * 8 + v]!;
      // libjpeg rounds the quotient half away from zero; dequantising is the decoder's multiply.
      const q = table[v * 8 + u]!;
      const level = Math.sign(s) * Math.floor(Math.abs(s) / q + 0.5);
      block[v * 8 + u] = level * q;
    }
  }
  // Inverse 2-D DCT.
  for (let v = 0; v < 8; v++) {
    for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let u = 0; u < 8; u++) s += block[v * 8 + u]! * COS[x * 8 + u]!;
      tmp[v * 8 + x] = s;
    }
  }
  for (let x = 0; x < 8; x++) {
    for (let y = 0; y < 8; y++) {
      let s = 0;
      for (let v = 0; v < 8; v++) s += tmp[v * 8 + x]! * COS[y * 8 + v]!;
      block[y * 8 + x] = s;
    }
  }
}

/**
 * Runs every 8x8 block of a plane (sides multiples of 8) through {@link quantiseBlock}; the
 * decoded samples are rounded and clamped to 0..255 as the decoder's IDCT output is.
 */
function quantisePlane(plane: Float64Array, width: number, height: number, table: Int32Array): void {
  const block = new Float64Array(64);
  const tmp = new Float64Array(64);
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[(by + y) * width + bx + x]! - 128;
      quantiseBlock(block, table, tmp);
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) plane[(by + y) * width + bx + x] = Math.min(255, Math.max(0, Math.round(block[y * 8 + x]! + 128)));
      }
    }
  }
}

/**
 * 2x upsampling of a chroma plane with the triangular filter libjpeg's decoder uses by default
 * (3/4 nearer, 1/4 farther sample on each axis, edges replicated), including its integer rounding
 * (biases 8 and 7 alternate so that the rounding error does not drift one way).
 *
 * @returns a `2 * width` x `2 * height` plane.
 */
function upsampleFancy(plane: Float64Array, width: number, height: number): Float64Array {
  const outWidth = 2 * width;
  const out = new Float64Array(outWidth * 2 * height);
  const colsum = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    for (let half = 0; half < 2; half++) {
      const neighbour = Math.min(height - 1, Math.max(0, half === 0 ? y - 1 : y + 1));
      for (let x = 0; x < width; x++) colsum[x] = 3 * plane[y * width + x]! + plane[neighbour * width + x]!;
      const row = (2 * y + half) * outWidth;
      for (let x = 0; x < width; x++) {
        const here = colsum[x]!;
        const left = colsum[Math.max(0, x - 1)]!;
        const right = colsum[Math.min(width - 1, x + 1)]!;
        out[row + 2 * x] = Math.floor((3 * here + left + 8) / 16);
        out[row + 2 * x + 1] = Math.floor((3 * here + right + 7) / 16);
      }
    }
  }
  return out;
}

const clampByte = (v: number): number => Math.min(255, Math.max(0, Math.round(v)));

/**
 * What saving an RGB image as a baseline JPEG (4:2:0) at `quality` and decoding it again does to
 * its pixels.
 *
 * @param rgb interleaved RGB, `width * height * 3` bytes 0..255, row-major.
 * @param quality libjpeg quality 1..100 (non-integers are rounded).
 * @returns the decoded image in the same layout, bytes 0..255.
 */
export function jpegRoundTrip(rgb: ArrayLike<number>, width: number, height: number, quality: number): Uint8Array {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1) || rgb.length !== width * height * 3) {
    throw new Error(`jpegRoundTrip: ${rgb.length} values for ${width}x${height}x3`);
  }
  // One MCU is 16x16 luma pixels; libjpeg pads partial ones by repeating the last column and row.
  const pw = Math.ceil(width / 16) * 16;
  const ph = Math.ceil(height / 16) * 16;
  const lum = new Float64Array(pw * ph);
  const cbFull = new Float64Array(pw * ph);
  const crFull = new Float64Array(pw * ph);
  for (let y = 0; y < ph; y++) {
    const sy = Math.min(y, height - 1);
    for (let x = 0; x < pw; x++) {
      const s = (sy * width + Math.min(x, width - 1)) * 3;
      const r = rgb[s]!;
      const g = rgb[s + 1]!;
      const b = rgb[s + 2]!;
      // JFIF conversion; the encoder stores 8-bit samples, hence the rounding.
      lum[y * pw + x] = clampByte(0.299 * r + 0.587 * g + 0.114 * b);
      cbFull[y * pw + x] = clampByte(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
      crFull[y * pw + x] = clampByte(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
    }
  }
  const cw = pw / 2;
  const chh = ph / 2;
  // Chroma samples that cover the real image (ceil(side / 2) of them per axis).
  const uw = Math.ceil(width / 2);
  const uh = Math.ceil(height / 2);
  const downsample = (full: Float64Array): Float64Array => {
    const out = new Float64Array(cw * chh);
    for (let y = 0; y < uh; y++) {
      for (let x = 0; x < cw; x++) {
        const i = 2 * y * pw + 2 * x;
        // libjpeg's alternating rounding bias (1, 2, 1, ...) keeps the average unbiased.
        out[y * cw + x] = Math.floor((full[i]! + full[i + 1]! + full[i + pw]! + full[i + pw + 1]! + (x % 2 === 0 ? 1 : 2)) / 4);
      }
    }
    // libjpeg pads the bottom of a component after downsampling, by repeating its last row (the
    // right edge it pads before, at full resolution, as done above).
    for (let y = uh; y < chh; y++) out.copyWithin(y * cw, (uh - 1) * cw, uh * cw);
    return out;
  };
  const cb = downsample(cbFull);
  const cr = downsample(crFull);
  const lumaTable = scaledQuantTable(LUMA_TABLE, quality);
  const chromaTable = scaledQuantTable(CHROMA_TABLE, quality);
  quantisePlane(lum, pw, ph, lumaTable);
  quantisePlane(cb, cw, chh, chromaTable);
  quantisePlane(cr, cw, chh, chromaTable);

  // The decoder upsamples only the chroma that covers the real image, so its edge replication
  // starts there, not at the padded block edge.
  const visible = (plane: Float64Array): Float64Array => {
    const out = new Float64Array(uw * uh);
    for (let y = 0; y < uh; y++) out.set(plane.subarray(y * cw, y * cw + uw), y * uw);
    return upsampleFancy(out, uw, uh);
  };
  const cbUp = visible(cb);
  const crUp = visible(cr);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = lum[y * pw + x]!;
      const b = cbUp[y * 2 * uw + x]! - 128;
      const r = crUp[y * 2 * uw + x]! - 128;
      const o = (y * width + x) * 3;
      out[o] = clampByte(l + Math.round(1.402 * r));
      out[o + 1] = clampByte(l + Math.round(-0.344136 * b - 0.714136 * r));
      out[o + 2] = clampByte(l + Math.round(1.772 * b));
    }
  }
  return out;
}
