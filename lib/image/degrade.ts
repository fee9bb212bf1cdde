/**
 * Pixel-level degradations for "real-world" super-resolution training inputs: Gaussian blur
 * (optics, motion, an earlier resize) and Gaussian sensor noise. Random draws come from the
 * caller's seeded {@link Rng}, so a training run stays reproducible and resumable.
 */
import type { Rng } from '@/lib/train/rng';

/**
 * Truncating at 3 sigma keeps 99.7 % of the Gaussian's mass (the taps are renormalised), plenty for
 * a random degradation, and costs a quarter less per sample than 4 sigma.
 */
const TRUNCATE = 3;

/** Half-width in pixels of the kernel {@link gaussianBlur} uses for `sigma` (0 for no blur). */
export function blurRadius(sigma: number): number {
  return sigma > 0 ? Math.ceil(TRUNCATE * sigma) : 0;
}

/** Normalised 1-D Gaussian taps for offsets -radius..radius. */
function gaussianTaps(sigma: number): Float64Array {
  const radius = blurRadius(sigma);
  const taps = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp(-(i * i) / (2 * sigma * sigma));
    taps[i + radius] = w;
    sum += w;
  }
  for (let i = 0; i < taps.length; i++) taps[i]! /= sum;
  return taps;
}

/**
 * Mirrors an index into 0..n-1 repeating the edge sample (... 1 0 | 0 1 ... n-1 | n-1 n-2 ...), the
 * padding MATLAB's imresize uses, so that blur and downscale treat image borders alike.
 */
function mirror(i: number, n: number): number {
  const period = 2 * n;
  const j = ((i % period) + period) % period;
  return j < n ? j : period - 1 - j;
}

/**
 * Separable Gaussian blur with symmetric (edge-repeating) borders; `sigma` 0 returns a copy.
 *
 * @param data interleaved HWC, `width * height * channels` values in any range (not clipped).
 * @param sigma standard deviation in pixels, >= 0.
 * @returns a new array of the same layout.
 */
export function gaussianBlur(data: Float32Array, width: number, height: number, channels: number, sigma: number): Float32Array {
  if (data.length !== width * height * channels) throw new Error(`gaussianBlur: ${data.length} values for ${width}x${height}x${channels}`);
  if (!(sigma >= 0)) throw new Error(`gaussianBlur: sigma must be >= 0; got ${sigma}`);
  if (sigma === 0) return Float32Array.from(data);
  const taps = gaussianTaps(sigma);
  const radius = (taps.length - 1) / 2;
  const stride = width * channels;
  // Float64 between the passes so the intermediate is not rounded twice.
  const horizontal = new Float64Array(data.length);
  // Each row is copied once with its mirrored borders, which keeps index arithmetic out of the tap loop.
  const padded = new Float64Array((width + 2 * radius) * channels);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let x = -radius; x < width + radius; x++) {
      const s = row + mirror(x, width) * channels;
      for (let c = 0; c < channels; c++) padded[(x + radius) * channels + c] = data[s + c]!;
    }
    for (let t = 0; t < taps.length; t++) {
      const w = taps[t]!;
      const shift = t * channels;
      for (let k = 0; k < stride; k++) horizontal[row + k]! += w * padded[shift + k]!;
    }
  }
  const out = new Float32Array(data.length);
  const acc = new Float64Array(stride);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let t = 0; t < taps.length; t++) {
      const w = taps[t]!;
      const s = mirror(y + t - radius, height) * stride;
      for (let k = 0; k < stride; k++) acc[k]! += w * horizontal[s + k]!;
    }
    out.set(acc, y * stride);
  }
  return out;
}

/** A standard normal deviate (Box-Muller; one of the pair is discarded to keep the state simple). */
export function normal(rng: Rng): number {
  // 1 - next() is in (0, 1], so the logarithm is finite.
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * Adds independent Gaussian noise to every value, then saves the result as 8-bit would: clipped to
 * [0, 1] and rounded to multiples of 1/255.
 *
 * @param data any layout, values in [0, 1].
 * @param std noise standard deviation in 0-255 units (8-bit levels), >= 0.
 * @param rng draws two numbers per value.
 * @returns a new array of the same layout, values in {0, 1/255, ..., 1}.
 */
export function addGaussianNoise(data: Float32Array, std: number, rng: Rng): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    out[i] = Math.min(255, Math.max(0, Math.round(data[i]! * 255 + std * normal(rng)))) / 255;
  }
  return out;
}
