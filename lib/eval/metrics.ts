/**
 * Image quality metrics as the published tables compute them (BasicSR's `calculate_psnr` /
 * `calculate_ssim` with `test_y_channel`), plus colourfulness for colorization.
 *
 * Inputs are {@link FloatImage}s in [0, 1]; metrics work in 0..255 units (data range 255).
 * Quantize images to 8-bit levels first when comparing with published numbers.
 */
import { rgbToLab } from '@/lib/image/lab';
import type { FloatImage } from './image';

/** One channel of doubles, row-major. */
export interface Plane {
  data: Float64Array;
  width: number;
  height: number;
}

function assertSameShape(a: FloatImage, b: FloatImage, what: string): void {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new Error(
      `${what}: shapes differ (${a.width}x${a.height}x${a.channels} vs ${b.width}x${b.height}x${b.channels})`,
    );
  }
}

/**
 * Luma Y of ITU-R BT.601 in 0..255 units (16..235 for [0, 1] input):
 * Y = 16 + 65.481 R + 128.553 G + 24.966 B with R, G, B in [0, 1]. One-channel images count as gray
 * (R = G = B), as a gray file read into three channels would.
 */
export function rgbToY(image: FloatImage): Plane {
  const n = image.width * image.height;
  const out = new Float64Array(n);
  const { data, channels } = image;
  if (channels === 1) {
    for (let i = 0; i < n; i++) out[i] = 16 + (65.481 + 128.553 + 24.966) * data[i]!;
  } else if (channels >= 3) {
    for (let i = 0; i < n; i++) {
      const s = i * channels;
      out[i] = 16 + 65.481 * data[s]! + 128.553 * data[s + 1]! + 24.966 * data[s + 2]!;
    }
  } else {
    throw new Error(`rgbToY: expected 1 or 3+ channels, got ${channels}`);
  }
  return { data: out, width: image.width, height: image.height };
}

/** Channel `c` of `image` in 0..255 units. */
export function channelPlane(image: FloatImage, c: number): Plane {
  const n = image.width * image.height;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = image.data[i * image.channels + c]! * 255;
  return { data: out, width: image.width, height: image.height };
}

/** The mean of `image`'s channels as a 0-255 plane (a gray rendering of a colour output). */
export function channelMeanPlane(image: FloatImage): Plane {
  const n = image.width * image.height;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < image.channels; c++) sum += image.data[i * image.channels + c]!;
    out[i] = (sum / image.channels) * 255;
  }
  return { data: out, width: image.width, height: image.height };
}

/** `plane` without `shave` pixels at each border. */
export function shavePlane(plane: Plane, shave: number): Plane {
  if (shave === 0) return plane;
  const width = plane.width - 2 * shave;
  const height = plane.height - 2 * shave;
  if (width < 1 || height < 1) throw new Error(`shave ${shave} leaves nothing of ${plane.width}x${plane.height}`);
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (y + shave) * plane.width + shave;
    out.set(plane.data.subarray(from, from + width), y * width);
  }
  return { data: out, width, height };
}

/** Mean squared error between equally sized planes. */
function mse(a: Plane, b: Plane): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i]! - b.data[i]!;
    sum += d * d;
  }
  return sum / a.data.length;
}

/** PSNR in dB for data range 255 from a mean squared error; identical inputs give `Infinity`. */
export function psnrFromMse(meanSquaredError: number): number {
  return meanSquaredError === 0 ? Infinity : 10 * Math.log10((255 * 255) / meanSquaredError);
}

/** PSNR (dB) of two planes in 0..255 units. */
export function psnrPlane(a: Plane, b: Plane): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error('psnrPlane: sizes differ');
  return psnrFromMse(mse(a, b));
}

/** The 11-tap Gaussian (sigma 1.5), normalised; its outer product is the SSIM window (OpenCV's getGaussianKernel). */
function gaussianTaps(size = 11, sigma = 1.5): Float64Array {
  const taps = new Float64Array(size);
  const half = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    taps[i] = Math.exp(-((i - half) ** 2) / (2 * sigma * sigma));
    sum += taps[i]!;
  }
  for (let i = 0; i < size; i++) taps[i] = taps[i]! / sum;
  return taps;
}

const SSIM_TAPS = gaussianTaps();

/** 'valid' 2-D filtering with the separable SSIM window: output is (h - 10) x (w - 10). */
function filterValid(src: Float64Array, width: number, height: number): Float64Array {
  const k = SSIM_TAPS.length;
  const outW = width - k + 1;
  const outH = height - k + 1;
  const tmp = new Float64Array(outW * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < outW; x++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += SSIM_TAPS[t]! * src[row + x + t]!;
      tmp[y * outW + x] = s;
    }
  }
  const out = new Float64Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += SSIM_TAPS[t]! * tmp[(y + t) * outW + x]!;
      out[y * outW + x] = s;
    }
  }
  return out;
}

/**
 * SSIM (Wang et al. 2004) of two planes in 0..255 units: 11x11 Gaussian window (sigma 1.5), K1 0.01,
 * K2 0.03, data range 255, mean over the 'valid' window positions (as BasicSR's `_ssim`).
 * Planes smaller than 11x11 are rejected.
 */
export function ssimPlane(a: Plane, b: Plane): number {
  const { width, height } = a;
  if (width !== b.width || height !== b.height) throw new Error('ssimPlane: sizes differ');
  if (width < SSIM_TAPS.length || height < SSIM_TAPS.length) {
    throw new Error(`ssimPlane: ${width}x${height} is smaller than the 11x11 window`);
  }
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  const n = width * height;
  const aa = new Float64Array(n);
  const bb = new Float64Array(n);
  const ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    aa[i] = x * x;
    bb[i] = y * y;
    ab[i] = x * y;
  }
  const muA = filterValid(a.data, width, height);
  const muB = filterValid(b.data, width, height);
  const eAA = filterValid(aa, width, height);
  const eBB = filterValid(bb, width, height);
  const eAB = filterValid(ab, width, height);
  let sum = 0;
  for (let i = 0; i < muA.length; i++) {
    const ma = muA[i]!;
    const mb = muB[i]!;
    const varA = eAA[i]! - ma * ma;
    const varB = eBB[i]! - mb * mb;
    const cov = eAB[i]! - ma * mb;
    sum += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (varA + varB + c2));
  }
  return sum / muA.length;
}

/** PSNR (dB) on BT.601 luma with `shave` pixels removed at each border: the SR tables' metric. */
export function psnrY(a: FloatImage, b: FloatImage, shave = 0): number {
  assertSameShape(a, b, 'psnrY');
  return psnrPlane(shavePlane(rgbToY(a), shave), shavePlane(rgbToY(b), shave));
}

/** SSIM on BT.601 luma with `shave` pixels removed at each border: the SR tables' metric. */
export function ssimY(a: FloatImage, b: FloatImage, shave = 0): number {
  assertSameShape(a, b, 'ssimY');
  return ssimPlane(shavePlane(rgbToY(a), shave), shavePlane(rgbToY(b), shave));
}

/** PSNR (dB) over every channel value (data range 255), e.g. RGB for colorization. */
export function psnr(a: FloatImage, b: FloatImage, shave = 0): number {
  assertSameShape(a, b, 'psnr');
  let sum = 0;
  let count = 0;
  for (let c = 0; c < a.channels; c++) {
    const pa = shavePlane(channelPlane(a, c), shave);
    const pb = shavePlane(channelPlane(b, c), shave);
    sum += mse(pa, pb) * pa.data.length;
    count += pa.data.length;
  }
  return psnrFromMse(sum / count);
}

/** SSIM averaged over channels (BasicSR's `calculate_ssim` without `test_y_channel`). */
export function ssim(a: FloatImage, b: FloatImage, shave = 0): number {
  assertSameShape(a, b, 'ssim');
  let sum = 0;
  for (let c = 0; c < a.channels; c++) {
    sum += ssimPlane(shavePlane(channelPlane(a, c), shave), shavePlane(channelPlane(b, c), shave));
  }
  return sum / a.channels;
}

/**
 * Colourfulness M of Hasler and Suesstrunk (2003) on RGB in 0..255 units:
 * rg = R - G, yb = (R + G) / 2 - B, M = sqrt(var(rg) + var(yb)) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2).
 * 0 for a gray image; about 15 "slightly", 33 "moderately", 59 "quite", 82+ "highly colourful".
 */
export function colourfulness(image: FloatImage): number {
  if (image.channels < 3) return 0;
  const n = image.width * image.height;
  let sRg = 0;
  let sYb = 0;
  let sRg2 = 0;
  let sYb2 = 0;
  for (let i = 0; i < n; i++) {
    const s = i * image.channels;
    const r = image.data[s]! * 255;
    const g = image.data[s + 1]! * 255;
    const b = image.data[s + 2]! * 255;
    const rg = r - g;
    const yb = 0.5 * (r + g) - b;
    sRg += rg;
    sYb += yb;
    sRg2 += rg * rg;
    sYb2 += yb * yb;
  }
  const mRg = sRg / n;
  const mYb = sYb / n;
  const varRg = Math.max(0, sRg2 / n - mRg * mRg);
  const varYb = Math.max(0, sYb2 / n - mYb * mYb);
  return Math.sqrt(varRg + varYb) + 0.3 * Math.sqrt(mRg * mRg + mYb * mYb);
}

/** Mean CIE a* and b* (D65) of an RGB image: a cast shows as both drifting, sepia/brown as b* > 0 with small a* > 0. */
export function meanAb(image: FloatImage): { a: number; b: number } {
  if (image.channels !== 3) throw new Error(`meanAb: expected 3 channels, got ${image.channels}`);
  const n = image.width * image.height;
  const rgb255 = new Float32Array(image.data.length);
  for (let i = 0; i < rgb255.length; i++) rgb255[i] = image.data[i]! * 255;
  const lab = rgbToLab(rgb255, n);
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    a += lab[i * 3 + 1]!;
    b += lab[i * 3 + 2]!;
  }
  return { a: a / n, b: b / n };
}

/** The arithmetic mean (NaN for none). */
export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * A row's PSNR: the mean over images whose PSNR is finite. An image the method reproduces exactly
 * (PSNR infinite: a flat test card, a lossless round trip) would make the whole row "inf" and hide
 * every other image's score; such images are counted in `perfect` for the report to name.
 */
export function rowPsnr(perImage: readonly { psnr: number }[]): { psnr: number; perfect: number } {
  const finite = perImage.map((s) => s.psnr).filter((p) => Number.isFinite(p));
  return { psnr: finite.length > 0 ? mean(finite) : Number.POSITIVE_INFINITY, perfect: perImage.length - finite.length };
}

/**
 * Speed over a row's images: total time over total output megapixels (not a mean of per-image
 * rates, which tiny images, dominated by fixed costs, would swamp).
 */
export function rowSpeed(perImage: readonly { ms: number; cpuMs: number; width: number; height: number }[]): { msPerMegapixel: number; cpuMsPerMegapixel: number } {
  const megapixels = perImage.reduce((sum, s) => sum + (s.width * s.height) / 1e6, 0);
  return {
    msPerMegapixel: perImage.reduce((sum, s) => sum + s.ms, 0) / megapixels,
    cpuMsPerMegapixel: perImage.reduce((sum, s) => sum + s.cpuMs, 0) / megapixels,
  };
}

/** One image's scores and times, as every task's evaluation records them. */
export interface ImageScore {
  image: string;
  width: number;
  height: number;
  psnr: number;
  ssim: number;
  /** Wall-clock time of the run. */
  ms: number;
  msPerMegapixel: number;
  /** CPU time of this process during the run: robust to other processes competing for the cores. */
  cpuMs: number;
  cpuMsPerMegapixel: number;
}

/** One method's row: means over its images ({@link rowScores}) and the per-image scores. */
export interface ScoreRow<S extends ImageScore = ImageScore> {
  method: string;
  detail: string;
  /** Mean over images of each image's PSNR (over those not reproduced exactly; see `perfectImages`). */
  psnr: number;
  /** Images scored with an infinite PSNR, left out of `psnr`. */
  perfectImages?: number;
  ssim: number;
  /** Total time over total output megapixels. */
  msPerMegapixel: number;
  cpuMsPerMegapixel: number;
  perImage: S[];
}

/** One run of `method` on `input`, timed: wall clock and this process's CPU time (all its threads), in ms. */
export async function timedRun(method: { run(image: FloatImage): Promise<FloatImage> }, input: FloatImage): Promise<{ output: FloatImage; ms: number; cpuMs: number }> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const output = await method.run(input);
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { output, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Where one image's time went: wall and CPU ms, and both per output megapixel. */
export function imageTiming(ms: number, cpuMs: number, width: number, height: number): { ms: number; msPerMegapixel: number; cpuMs: number; cpuMsPerMegapixel: number } {
  const megapixels = (width * height) / 1e6;
  return { ms, msPerMegapixel: ms / megapixels, cpuMs, cpuMsPerMegapixel: cpuMs / megapixels };
}

/**
 * The columns every row has: PSNR over the images not reproduced exactly ({@link rowPsnr}; their
 * count as `perfectImages`), mean SSIM and the speed ({@link rowSpeed}).
 */
export function rowScores(perImage: readonly { psnr: number; ssim: number; ms: number; cpuMs: number; width: number; height: number }[]): {
  psnr: number;
  perfectImages?: number;
  ssim: number;
  msPerMegapixel: number;
  cpuMsPerMegapixel: number;
} {
  const finitePsnr = rowPsnr(perImage);
  return {
    psnr: finitePsnr.psnr,
    ...(finitePsnr.perfect > 0 ? { perfectImages: finitePsnr.perfect } : {}),
    ssim: mean(perImage.map((s) => s.ssim)),
    ...rowSpeed(perImage),
  };
}
