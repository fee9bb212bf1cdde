/**
 * MATLAB-compatible `imresize(..., 'bicubic')`: the resize every published super-resolution table
 * uses to make its low-resolution inputs and its bicubic baseline, so our numbers line up with theirs.
 *
 * Matches MATLAB's `contributions()`: Keys cubic kernel with a = -0.5; when shrinking (and
 * `antialias` is on) the kernel is stretched by 1/scale and scaled by scale; each output pixel's
 * weights are normalised to sum to 1; indices past an edge are mirrored including the edge pixel
 * (`symmetric` padding); the dimension with the smaller scale is resized first (rows on a tie).
 */
import { createImage, type FloatImage } from './image';

/** Keys' cubic convolution kernel with a = -0.5 (MATLAB's `cubic`), support [-2, 2]. */
export function cubicKernel(x: number): number {
  const ax = Math.abs(x);
  const ax2 = ax * ax;
  const ax3 = ax2 * ax;
  if (ax <= 1) return 1.5 * ax3 - 2.5 * ax2 + 1;
  if (ax <= 2) return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2;
  return 0;
}

const CUBIC_WIDTH = 4;

/** For each output index along one axis: which input indices (0-based) contribute, and how much. */
export interface Contributions {
  outLength: number;
  /** Taps per output index; rows of `indices` and `weights` have this length. */
  taps: number;
  indices: Int32Array;
  weights: Float64Array;
}

/**
 * Weights and source indices along one axis of length `inLength` resized to `outLength` with the
 * given `scale` (output / input), exactly as MATLAB computes them.
 */
export function contributions(inLength: number, outLength: number, scale: number, antialias: boolean): Contributions {
  const shrinking = scale < 1 && antialias;
  const kernelWidth = shrinking ? CUBIC_WIDTH / scale : CUBIC_WIDTH;
  const kernel = shrinking ? (x: number) => scale * cubicKernel(scale * x) : cubicKernel;
  const taps = Math.ceil(kernelWidth) + 2;
  const indices = new Int32Array(outLength * taps);
  const weights = new Float64Array(outLength * taps);
  const period = 2 * inLength;
  for (let i = 0; i < outLength; i++) {
    // MATLAB works 1-based: output pixel x maps to input coordinate u.
    const x = i + 1;
    const u = x / scale + 0.5 * (1 - 1 / scale);
    const left = Math.floor(u - kernelWidth / 2);
    let sum = 0;
    for (let p = 0; p < taps; p++) {
      const w = kernel(u - (left + p));
      weights[i * taps + p] = w;
      sum += w;
    }
    for (let p = 0; p < taps; p++) {
      weights[i * taps + p] = sum === 0 ? 0 : weights[i * taps + p]! / sum;
      // Symmetric padding: ... 2 1 | 1 2 ... n | n n-1 ... (the edge pixel repeats), 0-based here.
      let j = (((left + p - 1) % period) + period) % period;
      if (j >= inLength) j = period - 1 - j;
      indices[i * taps + p] = j;
    }
  }
  return { outLength, taps, indices, weights };
}

function resizeAxis(
  src: Float64Array,
  width: number,
  height: number,
  channels: number,
  axis: 'rows' | 'cols',
  c: Contributions,
): { data: Float64Array; width: number; height: number } {
  const outWidth = axis === 'cols' ? c.outLength : width;
  const outHeight = axis === 'rows' ? c.outLength : height;
  const out = new Float64Array(outWidth * outHeight * channels);
  const { taps, indices, weights } = c;
  if (axis === 'rows') {
    const rowStride = width * channels;
    for (let y = 0; y < outHeight; y++) {
      const o = y * rowStride;
      for (let p = 0; p < taps; p++) {
        const w = weights[y * taps + p]!;
        if (w === 0) continue;
        const s = indices[y * taps + p]! * rowStride;
        for (let k = 0; k < rowStride; k++) out[o + k]! += w * src[s + k]!;
      }
    }
  } else {
    for (let y = 0; y < outHeight; y++) {
      const srcRow = y * width * channels;
      const outRow = y * outWidth * channels;
      for (let x = 0; x < outWidth; x++) {
        for (let p = 0; p < taps; p++) {
          const w = weights[x * taps + p]!;
          if (w === 0) continue;
          const s = srcRow + indices[x * taps + p]! * channels;
          for (let ch = 0; ch < channels; ch++) out[outRow + x * channels + ch]! += w * src[s + ch]!;
        }
      }
    }
  }
  return { data: out, width: outWidth, height: outHeight };
}

export interface ResizeOptions {
  /** Output / input along both axes; the output side is `ceil(scale * input side)` as in MATLAB. */
  scale?: number;
  /** Explicit output size (overrides `scale`; both must be given). */
  width?: number;
  height?: number;
  /** MATLAB's `'Antialiasing'`, on by default; only affects shrinking. */
  antialias?: boolean;
  /**
   * Round to 8-bit levels (and clip) after each axis, as MATLAB does when the input is `uint8`
   * (its resize kernel returns the input's class after every pass). Off: one float pass, like
   * BasicSR's Python port; the difference is a few hundredths of a dB.
   */
  uint8?: boolean;
}

function toLevels(data: Float64Array): void {
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(data[i]! * 255))) / 255;
}

/**
 * Bicubic resize of an HWC float image (any channel count; values are not clipped unless `uint8`).
 *
 * @param image `[height, width, channels]`, typically [0, 1].
 * @returns `[ceil(height * scale), ceil(width * scale), channels]` (or the explicit size).
 */
export function imresize(image: FloatImage, options: ResizeOptions): FloatImage {
  const { antialias = true, uint8 = false } = options;
  let outWidth: number;
  let outHeight: number;
  let scaleX: number;
  let scaleY: number;
  if (options.width !== undefined || options.height !== undefined) {
    if (options.width === undefined || options.height === undefined) throw new Error('imresize: give both width and height');
    outWidth = options.width;
    outHeight = options.height;
    scaleX = outWidth / image.width;
    scaleY = outHeight / image.height;
  } else if (options.scale !== undefined) {
    if (!(options.scale > 0)) throw new Error(`imresize: scale must be positive; got ${options.scale}`);
    scaleX = scaleY = options.scale;
    // MATLAB: ceil(scale * size); the epsilon keeps 1/3 * 300 from becoming 101.
    outWidth = Math.ceil(image.width * options.scale - 1e-9);
    outHeight = Math.ceil(image.height * options.scale - 1e-9);
  } else {
    throw new Error('imresize: give scale or width and height');
  }
  if (!(Number.isInteger(outWidth) && Number.isInteger(outHeight)) || outWidth < 1 || outHeight < 1) {
    throw new Error(`imresize: bad output size ${outWidth}x${outHeight}`);
  }

  let current: { data: Float64Array; width: number; height: number } = {
    data: Float64Array.from(image.data),
    width: image.width,
    height: image.height,
  };
  const { channels } = image;
  const passes: ('rows' | 'cols')[] = scaleY <= scaleX ? ['rows', 'cols'] : ['cols', 'rows'];
  for (const axis of passes) {
    const c =
      axis === 'rows'
        ? contributions(image.height, outHeight, scaleY, antialias)
        : contributions(image.width, outWidth, scaleX, antialias);
    current = resizeAxis(current.data, current.width, current.height, channels, axis, c);
    if (uint8) toLevels(current.data);
  }
  const out = createImage(outWidth, outHeight, channels);
  out.data.set(current.data);
  return out;
}
