/**
 * Super-resolution x2 / x4: LR made by MATLAB-style bicubic downscaling with antialiasing (the
 * degradation of the standard benchmarks), computed once per image; training pairs are aligned
 * LR/HR patches with the same random flip and rotation. Encoding: RGB in [0, 1].
 *
 * Optionally ({@link SrDegradation}) training inputs are degraded further, for photos that are
 * blurrier, noisier or more compressed than a clean bicubic downscale: blur -> downscale -> noise
 * -> JPEG. Validation pairs stay plain bicubic, so they keep measuring the benchmark degradation.
 */
import { holdOut, loadImageFolder, augmentPatch, cropToFloat, resizeArea, type RgbImage } from '@/lib/data/images';
import { imresize } from '@/lib/eval/bicubic';
import { crop, fromBytes } from '@/lib/eval/image';
import { addGaussianNoise, blurRadius, gaussianBlur } from '@/lib/image/degrade';
import { jpegRoundTrip } from '@/lib/image/jpeg';
import type { Rng } from '@/lib/train/rng';
import { enlargeNearest, psnrBytes, unitToBytes } from './common';
import type { Pair, SrDegradation, TaskDefinition, TaskOptions } from './types';

export interface SrSource {
  hr: RgbImage;
  /** The whole image bicubic-downscaled by the scale, float RGB [0, 1]. */
  lr: Float32Array;
  lrWidth: number;
  lrHeight: number;
}

/**
 * `image` downscaled by `factor` in (0, 1) with antialiased bicubic (MATLAB imresize), 8-bit: a
 * cleaner, denser copy of a JPEG photo for SR training (its block artefacts shrink below a pixel).
 */
export function downscaledImage(image: RgbImage, factor: number): RgbImage {
  const small = imresize(fromBytes(image.data, image.width, image.height, 3), { scale: factor, uint8: true });
  return { name: `${image.name}@${factor}`, data: Uint8Array.from(small.data, (v) => Math.round(v * 255)), width: small.width, height: small.height };
}

/** An image and its whole bicubic-downscaled LR (the benchmark degradation), computed once. */
export function makeSource(image: RgbImage, scale: number): SrSource {
  // Top-left crop to a multiple of the scale, as the benchmark protocol does.
  const aligned = crop(fromBytes(image.data, image.width, image.height, 3), Math.floor(image.width / scale) * scale, Math.floor(image.height / scale) * scale);
  const lr = imresize(aligned, { scale: 1 / scale, uint8: true });
  return { hr: image, lr: lr.data, lrWidth: lr.width, lrHeight: lr.height };
}

function pairAt(source: SrSource, x: number, y: number, lrSize: number, scale: number): Pair {
  const input = new Float32Array(lrSize * lrSize * 3);
  for (let row = 0; row < lrSize; row++) {
    const src = ((y + row) * source.lrWidth + x) * 3;
    input.set(source.lr.subarray(src, src + lrSize * 3), row * lrSize * 3);
  }
  const hrSize = lrSize * scale;
  const target = cropToFloat(source.hr, x * scale, y * scale, hrSize, hrSize);
  return { input, target, inputSize: { width: lrSize, height: lrSize }, targetSize: { width: hrSize, height: hrSize } };
}

/**
 * LR pixels whose bicubic taps all fall inside the crop are exact: the antialiased kernel reaches
 * 2 LR pixels (2 * scale HR pixels) either side of an output pixel's centre.
 */
const BICUBIC_MARGIN = 2;

/**
 * The `lrSize` x `lrSize` LR patch at LR position (x, y), made from the HR image per sample rather
 * than cut from the precomputed LR: an HR window with a margin is blurred with `sigma`, bicubic
 * downscaled (8-bit, as the precomputed LR) and the patch is cut from its middle. The margin covers
 * the blur and bicubic kernels, and where the window meets the image border both mirror the border
 * as the whole-image resize does, so with `sigma` 0 the patch equals the precomputed one exactly.
 *
 * With `downscale` 'area' each LR pixel is the 8-bit mean of its scale x scale HR block instead.
 *
 * @param sigma blur standard deviation in HR pixels, >= 0.
 * @returns interleaved RGB, `lrSize * lrSize * 3` values in [0, 1] at 8-bit levels.
 */
export function lrPatchFromHr(source: SrSource, x: number, y: number, lrSize: number, scale: number, sigma: number, downscale: 'bicubic' | 'area' = 'bicubic'): Float32Array {
  const margin = BICUBIC_MARGIN + Math.ceil(blurRadius(sigma) / scale);
  const x0 = Math.max(0, x - margin);
  const y0 = Math.max(0, y - margin);
  const x1 = Math.min(source.lrWidth, x + lrSize + margin);
  const y1 = Math.min(source.lrHeight, y + lrSize + margin);
  const width = (x1 - x0) * scale;
  const height = (y1 - y0) * scale;
  // Window corners on multiples of the scale keep the bicubic sampling grid the whole image's.
  const hr = cropToFloat(source.hr, x0 * scale, y0 * scale, width, height);
  const blurred = gaussianBlur(hr, width, height, 3, sigma);
  const lr =
    downscale === 'area'
      ? { data: toLevels(resizeArea(blurred, width, height, 3, width / scale, height / scale)), width: width / scale }
      : imresize({ data: blurred, width, height, channels: 3 }, { scale: 1 / scale, uint8: true });
  const out = new Float32Array(lrSize * lrSize * 3);
  for (let row = 0; row < lrSize; row++) {
    const src = ((y - y0 + row) * lr.width + (x - x0)) * 3;
    out.set(lr.data.subarray(src, src + lrSize * 3), row * lrSize * 3);
  }
  return out;
}

/** Whether `d` changes anything; all off keeps the precomputed pairs (and the rng draws) of old runs. */
export function degrades(d: SrDegradation | undefined): d is SrDegradation {
  return d !== undefined && (d.blur > 0 || d.noise > 0 || d.jpeg !== null || d.downscale === 'area');
}

function toLevels(data: Float32Array): Float32Array {
  return data.map((v) => Math.min(255, Math.max(0, Math.round(v * 255))) / 255);
}

/**
 * A training input with the random degradations of `d` (blur -> downscale -> noise -> JPEG).
 *
 * @param clean the precomputed bicubic LR patch at (x, y), used when there is no blur.
 * @returns interleaved RGB, `lrSize * lrSize * 3` values in [0, 1] at 8-bit levels.
 */
export function degradedInput(source: SrSource, clean: Float32Array, x: number, y: number, lrSize: number, scale: number, d: SrDegradation, rng: Rng): Float32Array {
  const area = d.downscale === 'area';
  let lr = d.blur > 0 ? lrPatchFromHr(source, x, y, lrSize, scale, rng.next() * d.blur, d.downscale) : area ? lrPatchFromHr(source, x, y, lrSize, scale, 0, 'area') : clean;
  if (d.noise > 0) lr = addGaussianNoise(lr, rng.next() * d.noise, rng);
  if (d.jpeg !== null) {
    const quality = d.jpeg + rng.int(96 - d.jpeg);
    const decoded = jpegRoundTrip(unitToBytes(lr), lrSize, lrSize, quality);
    lr = Float32Array.from(decoded, (v) => v / 255);
  }
  return lr;
}

function describeDegradation(d: SrDegradation): string {
  const parts = [
    d.blur > 0 ? `blur sigma <= ${d.blur}` : '',
    d.noise > 0 ? `noise std <= ${d.noise}/255` : '',
    d.jpeg !== null ? `JPEG quality ${d.jpeg}-95` : '',
    d.downscale === 'area' ? 'area downscaling' : '',
  ];
  return parts.filter(Boolean).join(', ');
}

export const srTask: TaskDefinition<SrSource> = {
  name: 'sr',
  summary: 'low-resolution photo -> x2 or x4 larger (bicubic degradation, RGB [0, 1])',
  defaults: { scale: 4, cropSize: 128, features: 32, blocks: 4, gan: 'none', batchSize: 16, lr: 5e-4, beta1: 0.9 },
  generator: (options, size) => ({
    kind: 'srnet',
    scale: options.scale as 2 | 4,
    channels: 3,
    features: Number(size.features ?? 32),
    blocks: Number(size.blocks ?? 4),
    expansion: Number(size.expansion ?? 0),
  }),
  discriminatorChannels: () => 6,
  async load(dir, options, rng, hooks, kept) {
    const images = await loadImageFolder(dir, {
      minSide: options.cropSize,
      onSkip: (file, reason) => hooks.log(`skipped ${file}: ${reason}`),
    });
    const sources = images.map((img) => makeSource(img, options.scale));
    const { train, ...split } = holdOut(sources, (source) => source.hr.name, options.valFraction, rng, kept);
    const degradation = degrades(options.degradation) ? `; training inputs degraded (${describeDegradation(options.degradation)})` : '';
    // Extra scales come from the training split only, after it is drawn, so validation photos never
    // leak in and runs without them split as before.
    const extra = (options.hrScales ?? []).flatMap((factor) =>
      train.map((source) => downscaledImage(source.hr, factor)).filter((img) => Math.min(img.width, img.height) >= options.cropSize),
    );
    const originals = options.hrOriginals ?? true;
    const scales =
      extra.length === 0 ? '' : originals ? `; ${extra.length} extra training images at ${options.hrScales!.join(', ')} of full size` : `; trained on ${extra.length} copies at ${options.hrScales!.join(', ')} of full size only`;
    if (extra.length === 0 && !originals) throw new Error(`No training image is left: every copy at ${options.hrScales!.join(', ')} of full size is smaller than the ${options.cropSize} px crop`);
    return { ...split, train: [...(originals ? train : []), ...extra.map((img) => makeSource(img, options.scale))], description: `${images.length} images from ${dir}${degradation}${scales}`, skipped: 0 };
  },
  sample(source, options: TaskOptions, rng) {
    const lrSize = Math.floor(options.cropSize / options.scale);
    const x = rng.int(source.lrWidth - lrSize + 1);
    const y = rng.int(source.lrHeight - lrSize + 1);
    const pair = pairAt(source, x, y, lrSize, options.scale);
    const flip = rng.chance(0.5);
    const rot = rng.int(4);
    const hrSize = lrSize * options.scale;
    // Degradation draws come after the crop and augmentation draws, so runs without it draw as before.
    const input = degrades(options.degradation) ? degradedInput(source, pair.input, x, y, lrSize, options.scale, options.degradation, rng) : pair.input;
    return {
      ...pair,
      input: augmentPatch(input, lrSize, lrSize, 3, flip, rot),
      target: augmentPatch(pair.target, hrSize, hrSize, 3, flip, rot),
    };
  },
  validationPair(source, options) {
    const lrSize = Math.min(source.lrWidth, source.lrHeight, Math.floor(256 / options.scale));
    const x = Math.floor((source.lrWidth - lrSize) / 2);
    const y = Math.floor((source.lrHeight - lrSize) / 2);
    return pairAt(source, x, y, lrSize, options.scale);
  },
  toRgb(which, data, pair) {
    const bytes = unitToBytes(data);
    if (which !== 'input') return bytes;
    return enlargeNearest(bytes, pair.inputSize.width, pair.inputSize.height, 3, pair.targetSize.width / pair.inputSize.width);
  },
  metrics(output, pair) {
    return { psnr: psnrBytes(unitToBytes(output), unitToBytes(pair.target)) };
  },
  exportInfo: (options) => ({
    task: 'sr',
    scale: options.scale,
    inputChannels: 3,
    outputChannels: 3,
    inputEncoding: 'rgb-unit',
    outputEncoding: 'rgb-unit',
    // 256 px tiles: at 128 the context on each side was up to 56 % extra work; a 288 px window of
    // a 32-feature net stays near 50 MB of activations. The exporter replaces this padding with the
    // network's exact receptive-field radius (srNetContext).
    tile: { size: 256, padding: 16, multipleOf: 1 },
  }),
};
