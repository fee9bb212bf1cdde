/**
 * Colorization in CIE Lab (Isola et al. 2017, section 4.5): the generator sees L/50 - 1 and
 * predicts ab/110; the result is merged with the input's own L.
 */
import { rgbToLab, lAbToRgb } from '@/lib/image/lab';
import { holdOut, loadImageFolder, type RgbImage } from '@/lib/data/images';
import { LAB_AB_SCALE } from '@/lib/model/metadata';
import { centreCrop, jitteredCrops, psnrBytes, unetFromSize } from './common';
import type { Pair, TaskDefinition } from './types';

const AB_SCALE = LAB_AB_SCALE;

function labPair(rgbUnit: Float32Array, size: number): Pair {
  const n = size * size;
  const rgb255 = new Float32Array(rgbUnit.length);
  for (let i = 0; i < rgbUnit.length; i++) rgb255[i] = rgbUnit[i]! * 255;
  const lab = rgbToLab(rgb255, n);
  const input = new Float32Array(n);
  const target = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    input[i] = lab[i * 3]! / 50 - 1;
    target[i * 2] = lab[i * 3 + 1]! / AB_SCALE;
    target[i * 2 + 1] = lab[i * 3 + 2]! / AB_SCALE;
  }
  const dims = { width: size, height: size };
  return { input, target, inputSize: dims, targetSize: dims };
}

function toRgbFromEncoded(l: Float32Array, abEncoded: Float32Array): Uint8Array {
  const n = l.length;
  const L = new Float32Array(n);
  const ab = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) L[i] = (l[i]! + 1) * 50;
  for (let i = 0; i < n * 2; i++) ab[i] = abEncoded[i]! * AB_SCALE;
  return new Uint8Array(lAbToRgb(L, ab, n).buffer);
}

export const colorizeTask: TaskDefinition<RgbImage> = {
  name: 'colorize',
  summary: 'grayscale photo -> colour (Lab: L in, ab out)',
  defaults: { cropSize: 128, ngf: 32, depth: 7, norm: 'instance', dropout: 0.5, gan: 'vanilla', lambdaL1: 100, batchSize: 4 },
  generator: (_o, size) => unetFromSize(1, 2, size),
  discriminatorChannels: () => 3,
  async load(dir, options, rng, hooks, kept) {
    const images = await loadImageFolder(dir, {
      minSide: options.cropSize,
      maxSide: Math.max(512, options.cropSize * 2),
      ...(options.imageSide ? { shortSide: options.imageSide } : {}),
      onSkip: (file, reason) => hooks.log(`skipped ${file}: ${reason}`),
    });
    return { ...holdOut(images, (img) => img.name, options.valFraction, rng, kept), description: `${images.length} images from ${dir}`, skipped: 0 };
  },
  sample(source, options, rng) {
    const [crop] = jitteredCrops([source], options.cropSize, 1.25, rng);
    return labPair(crop!, options.cropSize);
  },
  validationPair(source, options) {
    const multiple = options.sizeMultiple;
    const largest = Math.min(Math.max(options.cropSize, 256), source.width, source.height);
    const crop = centreCrop(source, Math.max(multiple, Math.floor(largest / multiple) * multiple));
    return labPair(crop.data, crop.size);
  },
  toRgb(which, data, pair) {
    if (which === 'input') return toRgbFromEncoded(data, new Float32Array(data.length * 2));
    return toRgbFromEncoded(pair.input, data);
  },
  metrics(output, pair) {
    const predicted = toRgbFromEncoded(pair.input, output);
    const truth = toRgbFromEncoded(pair.input, pair.target);
    let chroma = 0;
    let chromaTruth = 0;
    for (let i = 0; i < output.length; i += 2) {
      chroma += Math.hypot(output[i]!, output[i + 1]!);
      chromaTruth += Math.hypot(pair.target[i]!, pair.target[i + 1]!);
    }
    return { psnr: psnrBytes(predicted, truth), chromaRatio: chromaTruth > 0 ? chroma / chromaTruth : 1 };
  },
  exportInfo: (options) => ({
    task: 'colorize',
    scale: 1,
    inputChannels: 1,
    outputChannels: 2,
    inputEncoding: 'lab-l',
    outputEncoding: 'lab-ab',
    tile: { size: 256, padding: 0, multipleOf: 128 },
    workingSize: options.imageSide ?? 256,
  }),
};
