/**
 * Colorization evaluation: each colour photo is reduced to its lightness (CIE L*, a* = b* = 0),
 * colorized, and compared with the original. PSNR/SSIM (RGB) reward faithful colours; the
 * colourfulness ratio (Hasler and Suesstrunk) shows washed-out output (< 1) and the mean a*, b*
 * show a cast, e.g. the sepia/brown a regressed colorizer drifts to (b* well above the original's).
 */
import { lAbToRgb, rgbToL, rgbToLab } from '@/lib/image/lab';
import { fromBytes, toBytes, quantize, type FloatImage } from './image';
import type { Method } from './methods';
import { colourfulness, imageTiming, mean, meanAb, psnr, rowScores, ssim, timedRun } from './metrics';

export interface ColorizePair {
  name: string;
  original: FloatImage;
  /** The original's lightness as an 8-bit gray RGB image: the model's input and the baseline. */
  gray: FloatImage;
  /** Reference statistics of the original. */
  colourfulness: number;
  meanA: number;
  meanB: number;
}

export interface ColorizeImageScore {
  image: string;
  width: number;
  height: number;
  psnr: number;
  ssim: number;
  colourfulness: number;
  originalColourfulness: number;
  meanA: number;
  meanB: number;
  /** Wall-clock time of the run. */
  ms: number;
  msPerMegapixel: number;
  /** CPU time of this process during the run: robust to other processes competing for the cores. */
  cpuMs: number;
  cpuMsPerMegapixel: number;
}

export interface ColorizeRow {
  method: string;
  detail: string;
  /** Means over images (PSNR: over those not reproduced exactly; see `perfectImages`). */
  psnr: number;
  /** Images scored with an infinite PSNR, left out of `psnr`. */
  perfectImages?: number;
  ssim: number;
  /** Mean output colourfulness / mean original colourfulness (ratio of means: stable when an original is nearly gray). */
  colourfulnessRatio: number;
  colourfulness: number;
  meanA: number;
  meanB: number;
  msPerMegapixel: number;
  cpuMsPerMegapixel: number;
  perImage: ColorizeImageScore[];
}

/** The original's reference row values. */
export interface ColorizeReference {
  colourfulness: number;
  meanA: number;
  meanB: number;
}

/** The gray version of `original` (L* kept, a* = b* = 0, as 8-bit sRGB) and the original's statistics. */
export function makeColorizePair(name: string, original: FloatImage): ColorizePair {
  if (original.channels !== 3) throw new Error(`makeColorizePair: ${name} has ${original.channels} channels, expected 3`);
  const n = original.width * original.height;
  const l = rgbToL(toBytes(original), n);
  const gray = fromBytes(lAbToRgb(l, new Float32Array(n * 2), n), original.width, original.height, 3);
  const ab = meanAb(original);
  return { name, original, gray, colourfulness: colourfulness(original), meanA: ab.a, meanB: ab.b };
}

// Half a unit of a* or b*: what rounds to 0 where Lab is stored as integers (8-bit Lab, ICC).
const AB_ROUNDING = 0.5;

/**
 * Whether `image` is black and white: every pixel's CIE a* and b* round to 0, so 8-bit Lab would
 * store it without any colour. Such an original is (nearly) its own gray input and says nothing
 * about a colorizer: the gray baseline scores infinite PSNR on an exactly gray one. The tolerance
 * takes float error and tiny channel differences; one colourful pixel makes a photo count as colour.
 */
export function isColourless(image: FloatImage): boolean {
  if (image.channels !== 3) throw new Error(`isColourless: expected 3 channels, got ${image.channels}`);
  const bytes = toBytes(image);
  const rowLength = image.width * 3;
  // Row by row: a colour photo is told apart in its first rows, without converting all of it.
  for (let y = 0; y < image.height; y++) {
    const lab = rgbToLab(bytes.subarray(y * rowLength, (y + 1) * rowLength), image.width);
    for (let i = 0; i < image.width; i++) {
      if (Math.abs(lab[i * 3 + 1]!) >= AB_ROUNDING || Math.abs(lab[i * 3 + 2]!) >= AB_ROUNDING) return false;
    }
  }
  return true;
}

/** Scores an 8-bit colorized `output` against its pair. */
export function scoreColorization(output: FloatImage, pair: ColorizePair): Omit<ColorizeImageScore, 'ms' | 'msPerMegapixel' | 'cpuMs' | 'cpuMsPerMegapixel' | 'image' | 'width' | 'height'> {
  const ab = meanAb(output);
  return {
    psnr: psnr(output, pair.original),
    ssim: ssim(output, pair.original),
    colourfulness: colourfulness(output),
    originalColourfulness: pair.colourfulness,
    meanA: ab.a,
    meanB: ab.b,
  };
}

/** The "gray input" baseline: the model's input itself, scored as an output. */
export const grayBaseline: Method = {
  name: 'gray input',
  detail: 'L* of the original with a* = b* = 0 (what the model sees)',
  run: async (image) => image,
  dispose: () => {},
};

export interface ColorizeRunOptions {
  onImage?: (method: string, score: ColorizeImageScore) => void;
  warmUp?: boolean;
}

/** Runs `method` on every pair's gray image (after one untimed warm-up run) and scores the results. */
export async function evaluateColorizeMethod(method: Method, pairs: ColorizePair[], options: ColorizeRunOptions = {}): Promise<ColorizeRow> {
  const first = pairs[0];
  if (!first) throw new Error('evaluateColorizeMethod: no images');
  if (options.warmUp ?? true) await method.run(first.gray);
  const perImage: ColorizeImageScore[] = [];
  for (const pair of pairs) {
    const { output: raw, ms, cpuMs } = await timedRun(method, pair.gray);
    if (raw.width !== pair.original.width || raw.height !== pair.original.height || raw.channels !== 3) {
      throw new Error(`${method.name} returned ${raw.width}x${raw.height}x${raw.channels} for ${pair.name}`);
    }
    const score: ColorizeImageScore = {
      image: pair.name,
      width: raw.width,
      height: raw.height,
      ...scoreColorization(quantize(raw), pair),
      ...imageTiming(ms, cpuMs, raw.width, raw.height),
    };
    perImage.push(score);
    options.onImage?.(method.name, score);
  }
  const colourfulnessMean = mean(perImage.map((s) => s.colourfulness));
  return {
    method: method.name,
    detail: method.detail,
    ...rowScores(perImage),
    colourfulness: colourfulnessMean,
    colourfulnessRatio: colourfulnessMean / mean(pairs.map((p) => p.colourfulness)),
    meanA: mean(perImage.map((s) => s.meanA)),
    meanB: mean(perImage.map((s) => s.meanB)),
    perImage,
  };
}

/** Mean statistics of the originals (the reference row). */
export function colorizeReference(pairs: ColorizePair[]): ColorizeReference {
  return {
    colourfulness: mean(pairs.map((p) => p.colourfulness)),
    meanA: mean(pairs.map((p) => p.meanA)),
    meanB: mean(pairs.map((p) => p.meanB)),
  };
}
