/**
 * Super-resolution evaluation with the published protocol (EDSR / ESRGAN / BasicSR tables):
 * crop HR to a multiple of the scale (top-left), LR = MATLAB bicubic downscale with antialiasing
 * on 8-bit pixels, upscale, round to 8 bits, PSNR and SSIM on BT.601 Y with `scale` pixels shaved
 * at each border. Speed is measured in the same run, after a warm-up, as ms per output megapixel.
 */
import { imresize } from './bicubic';
import { crop, cropToMultiple, quantize, type FloatImage } from './image';
import type { Method } from './methods';
import { channelMeanPlane, channelPlane, imageTiming, psnrPlane, psnrY, rowScores, shavePlane, ssimPlane, ssimY, timedRun, type ImageScore, type ScoreRow } from './metrics';

export interface NamedImage {
  name: string;
  image: FloatImage;
  /** True when the file itself had one channel (Set14's bridge). */
  grayFile?: boolean;
}

/** One image's scores and times. */
export type SrImageScore = ImageScore;

/** One method's row: Y-channel PSNR/SSIM means and speed. */
export type SrRow = ScoreRow;

export interface SrPair {
  name: string;
  hr: FloatImage;
  lr: FloatImage;
  grayFile: boolean;
}

/**
 * How single-channel files are scored: `y` converts them to BT.601 Y like every colour image
 * (BasicSR, which reads them as three equal channels); `stored` scores their stored intensities,
 * as the MATLAB scripts behind the EDSR-era Set14 tables did (0.09 dB lower on Set14 at x2 and x4).
 */
export type GrayScoring = 'y' | 'stored';

/** HR cropped to a multiple of `scale` and its 8-bit MATLAB-bicubic LR. */
export function makeSrPair(item: NamedImage, scale: number): SrPair {
  const hr = cropToMultiple(item.image, scale);
  const lr = quantize(imresize(hr, { scale: 1 / scale, uint8: true }));
  return { name: item.name, hr, lr, grayFile: item.grayFile ?? false };
}

/** PSNR and SSIM of an 8-bit `output` against `hr` with `shave` border pixels removed. */
export function scoreSr(output: FloatImage, pair: SrPair, shave: number, gray: GrayScoring = 'y'): { psnr: number; ssim: number } {
  if (gray === 'stored' && pair.grayFile) {
    // The output's gray: the mean of its channels (a colour model need not give three equal ones;
    // its red channel alone scored up to 0.07 dB apart from its green or blue).
    const a = shavePlane(channelMeanPlane(output), shave);
    const b = shavePlane(channelPlane(pair.hr, 0), shave);
    return { psnr: psnrPlane(a, b), ssim: ssimPlane(a, b) };
  }
  return { psnr: psnrY(output, pair.hr, shave), ssim: ssimY(output, pair.hr, shave) };
}

export interface SrRunOptions {
  scale: number;
  gray?: GrayScoring;
  /** Side of the LR crop used to warm the method up before timing (default 48). */
  warmUpSize?: number;
  onImage?: (method: string, score: SrImageScore) => void;
}

/** Runs one method over all pairs: warm-up on a small crop, then one timed run per image. */
export async function evaluateSrMethod(method: Method, pairs: SrPair[], options: SrRunOptions): Promise<SrRow> {
  const { scale, gray = 'y', warmUpSize = 48 } = options;
  const first = pairs[0];
  if (!first) throw new Error('evaluateSrMethod: no images');
  await method.run(crop(first.lr, Math.min(warmUpSize, first.lr.width), Math.min(warmUpSize, first.lr.height)));
  const perImage: SrImageScore[] = [];
  for (const pair of pairs) {
    const { output: raw, ms, cpuMs } = await timedRun(method, pair.lr);
    if (raw.width !== pair.hr.width || raw.height !== pair.hr.height || raw.channels !== pair.hr.channels) {
      throw new Error(
        `${method.name} returned ${raw.width}x${raw.height}x${raw.channels} for ${pair.name}; ` +
          `expected ${pair.hr.width}x${pair.hr.height}x${pair.hr.channels}`,
      );
    }
    const { psnr, ssim } = scoreSr(quantize(raw), pair, scale, gray);
    const score: SrImageScore = {
      image: pair.name,
      width: raw.width,
      height: raw.height,
      psnr,
      ssim,
      ...imageTiming(ms, cpuMs, raw.width, raw.height),
    };
    perImage.push(score);
    options.onImage?.(method.name, score);
  }
  return { method: method.name, detail: method.detail, ...rowScores(perImage), perImage };
}
