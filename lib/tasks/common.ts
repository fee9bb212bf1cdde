/** Pieces several tasks share: random crops with scale jitter, nearest upsampling for display, PSNR. */
import { augmentPatch, cropToFloat, resizeArea, type RgbImage } from '@/lib/data/images';
import type { GeneratorConfig, Norm } from '@/lib/models/generators';
import type { Rng } from '@/lib/train/rng';

/**
 * A random square crop of `size` px from `images` (all the same size), with the same scale jitter
 * (a window up to `jitter` times larger, area-resized down) and horizontal flip for each image.
 * Returns float RGB [0, 1] HWC patches.
 */
export function jitteredCrops(images: RgbImage[], size: number, jitter: number, rng: Rng): Float32Array[] {
  const first = images[0]!;
  const maxWindow = Math.min(first.width, first.height, Math.floor(size * jitter));
  const window = size + rng.int(Math.max(1, maxWindow - size + 1));
  const x = rng.int(first.width - window + 1);
  const y = rng.int(first.height - window + 1);
  const flip = rng.chance(0.5);
  return images.map((img) => {
    const patch = resizeArea(cropToFloat(img, x, y, window, window), window, window, 3, size, size);
    return augmentPatch(patch, size, size, 3, flip, 0);
  });
}

/** The centred square crop of `size` (or the largest that fits) as float RGB [0, 1]. */
export function centreCrop(image: RgbImage, size: number): { data: Float32Array; size: number } {
  const side = Math.min(size, image.width, image.height);
  const x = Math.floor((image.width - side) / 2);
  const y = Math.floor((image.height - side) / 2);
  return { data: cropToFloat(image, x, y, side, side), size: side };
}

/** Float [0, 1] RGB to bytes. */
export function unitToBytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, data[i]!)) * 255);
  return out;
}

/** Nearest-neighbour enlargement of an HWC image by an integer factor (for showing LR inputs). */
export function enlargeNearest(data: Uint8Array, w: number, h: number, channels: number, factor: number): Uint8Array {
  if (factor === 1) return data;
  const out = new Uint8Array(w * factor * h * factor * channels);
  const ow = w * factor;
  for (let y = 0; y < h * factor; y++) {
    for (let x = 0; x < ow; x++) {
      const src = (Math.floor(y / factor) * w + Math.floor(x / factor)) * channels;
      const dst = (y * ow + x) * channels;
      for (let c = 0; c < channels; c++) out[dst + c] = data[src + c]!;
    }
  }
  return out;
}

/** PSNR in dB between two 8-bit arrays of the same length. */
export function psnrBytes(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  const mse = sum / a.length;
  return mse === 0 ? 100 : 10 * Math.log10((255 * 255) / mse);
}

/** Zhang et al. 2016's a*b* bin spacing and annealing temperature, the class head's defaults. */
export const CLASS_HEAD_DEFAULTS = { grid: 10, temperature: 0.38 } as const;

/**
 * A pix2pix U-Net config from the size flags (`ngf`, `depth`, `norm`, `dropout`; `head` 'classes'
 * with `abGrid` and `temperature` for a colour-class head), tanh output.
 */
export function unetFromSize(inputChannels: number, outputChannels: number, size: Record<string, number | string>): GeneratorConfig {
  return {
    kind: 'unet',
    inputChannels,
    outputChannels,
    ngf: Number(size.ngf ?? 32),
    depth: Number(size.depth ?? 7),
    norm: (size.norm ?? 'instance') as Norm,
    dropout: Number(size.dropout ?? 0.5),
    outputActivation: 'tanh',
    ...(size.head === 'classes'
      ? { classHead: { grid: Number(size.abGrid ?? CLASS_HEAD_DEFAULTS.grid), temperature: Number(size.temperature ?? CLASS_HEAD_DEFAULTS.temperature) } }
      : {}),
  };
}
