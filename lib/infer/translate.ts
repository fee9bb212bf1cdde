/**
 * Paired A->B translation (a model trained with `--task paired`) of an image of any size.
 *
 * pix2pix trains its U-Net on crops and applies it fully convolutionally to whole images at their
 * own scale (Isola et al. 2017, section 4: trained on 256 x 256 crops, run on 512 x 512 maps and
 * aerial photos); the training here crops at the photos' own scale too (shrunk by at most 12 %
 * for jitter). So the image is not resized: it is run whole, reflect-padded on the right and bottom
 * up to a multiple of the U-Net's 2^depth (no context is added around it: pix2pix's own borders are
 * the convolutions' zero padding, in training and at test time). Only an image wider or taller
 * than {@link TRANSLATE_TILE} (or the model's own `tile.size`, if larger) is cut into overlapping windows, to bound memory, blended linearly
 * across their overlap (`feather`): a U-Net's receptive field spans the whole window, so no finite
 * context makes windows exact.
 *
 * Instance normalisation would make such windows differ visibly: each would be normalised by its
 * own statistics, so each came out a little brighter or darker, or another tint (seen as a grid of
 * blocks on a 2300 x 2169 photo). So a tiled image is first run once as a thumbnail that fits one
 * window, each instance-norm layer keeping the statistics it computed there, and every window is
 * then normalised with those: thumbnail instance normalisation (Chen et al., "Towards
 * Ultra-Resolution Neural Style Transfer via Thumbnail Instance Normalization", AAAI 2022). The
 * thumbnail's statistics include the rows or columns reflected to reach the U-Net's multiple (a few
 * per cent of it): a small bias, against a step at every seam.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fillTransparentRgb } from '@/lib/image/alpha';
import type { DecodedImage } from '@/lib/image/decode';
import { resizeBytes } from '@/lib/image/resize';
import type { TilePlan } from '@/lib/image/tiling';
import { InstanceNorm } from '@/lib/models/layers';
import type { LoadedModel } from './models';
import { abortError, progressReporter, rgbOutputTransform, throwIfAborted } from './run';
import type { InferOptions } from './types';
import { runTiles, upscalePlan, type UpscaleOptions } from './upscale';

/**
 * Largest window side run in one piece (before rounding up to the U-Net's multiple). A 1024 x 1024
 * window of the default paired U-Net (ngf 32, depth 7) peaks near 0.5 GB on wasm, whose heap is 4 GB.
 */
export const TRANSLATE_TILE = 1024;

export interface TranslateOptions extends InferOptions {
  /** Overrides {@link TRANSLATE_TILE} (tests). */
  tileSize?: number;
  /**
   * Thumbnail instance normalisation for an image of several windows (see the module comment);
   * default true. Off, each window is normalised by its own statistics (tests, comparisons).
   */
  thumbnailStatistics?: boolean;
}

export interface TranslatedImage {
  /** Interleaved RGB, `width * height * 3`, the input's size. */
  data: Uint8Array;
  width: number;
  height: number;
  alpha?: Uint8Array;
}

function tileOptions(loaded: LoadedModel, width: number, height: number, options: TranslateOptions): UpscaleOptions {
  const tileSize = options.tileSize ?? Math.max(TRANSLATE_TILE, loaded.metadata.tile.size);
  // Context only where windows meet (`clip`: none past the image's edges, only the rounding up to
  // the multiple on the right and bottom); a lone window needs none.
  const padding = width <= tileSize && height <= tileSize ? 0 : loaded.metadata.tile.padding;
  return { ...options, tileSize, padding, edges: 'clip', blend: 'feather' };
}

/** The windows {@link translateImage} runs for a `width` x `height` image (one unless it is large). */
export function translatePlan(loaded: LoadedModel, width: number, height: number, options: Pick<TranslateOptions, 'tileSize'> = {}): TilePlan {
  return upscalePlan(loaded, width, height, tileOptions(loaded, width, height, options));
}

/** The side lengths of `width` x `height` scaled down to fit `side` (at least 1 px each). */
function thumbnailSize(width: number, height: number, side: number): { width: number; height: number } {
  const k = Math.min(1, side / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

/** Puts every instance-norm layer back to its own statistics, freeing kept ones. */
function restoreStatistics(norms: readonly InstanceNorm[]): void {
  for (const norm of norms) {
    const mode = norm.statisticsMode;
    if (mode.kind === 'capture') tf.dispose([mode.captured?.mean, mode.captured?.variance]);
    if (mode.kind === 'fixed') tf.dispose([mode.statistics.mean, mode.statistics.variance]);
    norm.statisticsMode = { kind: 'own' };
  }
}

/**
 * Runs `rgb` as a thumbnail that fits one `tileSize` window with every layer of `norms` capturing
 * its statistics, then fixes those in the layers for the full-size windows. The caller restores them.
 */
async function fixStatisticsFromThumbnail(
  loaded: LoadedModel,
  norms: readonly InstanceNorm[],
  rgb: Uint8Array,
  width: number,
  height: number,
  tileSize: number,
  signal?: AbortSignal,
): Promise<void> {
  const thumb = thumbnailSize(width, height, tileSize);
  const small = await resizeBytes(rgb, width, height, 3, thumb.width, thumb.height);
  for (const norm of norms) norm.statisticsMode = { kind: 'capture' };
  const discard = new Float32Array(thumb.width * thumb.height * 3);
  await runTiles(loaded, small, thumb.width, thumb.height, discard, (v) => v, { tileSize, padding: 0, edges: 'clip', signal });
  for (const norm of norms) {
    const mode = norm.statisticsMode;
    if (mode.kind !== 'capture' || !mode.captured) throw new Error(`Model ${loaded.name}: instance-norm layer ${norm.name} did not run on the thumbnail`);
    norm.statisticsMode = { kind: 'fixed', statistics: mode.captured };
  }
}

/**
 * Translates `image` with a paired model: RGB -> `rgb-tanh` [-1, 1] (or the model's input encoding)
 * -> `[1, h, w, 3]` windows (reflect-padded on the right and bottom to the U-Net's multiple) -> model
 * -> `[1, h, w, 3]` -> 0..255 (clipped, rounded). Above one window, a model with instance norm runs
 * a thumbnail first (see the module comment). Progress counts model runs (the thumbnail's, then each
 * window's); the signal is checked between them and rejects with an `AbortError`. Calls on one
 * model run one after the other (safe to call concurrently).
 *
 * @returns RGB of the input's size, with the input's alpha unchanged.
 */
export function translateImage(loaded: LoadedModel, image: DecodedImage, options: TranslateOptions = {}): Promise<TranslatedImage> {
  // One image at a time per model: the thumbnail's statistics live in the model's layers while an
  // image's windows run, and another image's runs in between (between two windows, the event loop
  // is free) would be normalised with them, or overwrite them.
  const previous = turns.get(loaded) ?? Promise.resolve();
  let started = false;
  const run = previous.then(() => {
    started = true;
    return translateNow(loaded, image, options);
  });
  turns.set(loaded, run.catch(() => undefined));
  const { signal } = options;
  if (!signal) return run;
  // Cancelled while still waiting for its turn: rejected at once rather than after the image ahead of
  // it (its own turn then ends at translateNow's first check); once running, it stops between windows.
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      if (!started) reject(abortError(signal));
    };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    run.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The last run queued on each model (see {@link translateImage}). */
const turns = new WeakMap<LoadedModel, Promise<unknown>>();

async function translateNow(loaded: LoadedModel, image: DecodedImage, options: TranslateOptions): Promise<TranslatedImage> {
  if (loaded.metadata.scale !== 1) throw new Error(`Model ${loaded.name} has scale ${loaded.metadata.scale}; a paired model keeps the size`);
  throwIfAborted(options.signal);
  const { width, height } = image;
  const output = new Uint8ClampedArray(width * height * 3);
  // The U-Net sees the whole window: colour hidden under transparent pixels would change the visible ones.
  const rgb = image.alpha ? fillTransparentRgb(image.data, image.alpha, width, height) : image.data;
  const tiles = tileOptions(loaded, width, height, options);
  const windows = upscalePlan(loaded, width, height, tiles).tiles.length;
  // A model saved with a fixed input size runs every window at that size: it has no one-window thumbnail.
  const thumbnail = windows > 1 && loaded.fixedInputSide === undefined && options.thumbnailStatistics !== false;
  // By class name, not instanceof: under tsx a script's ESM imports and the CJS ones can be two copies of the class.
  const norms = thumbnail ? loaded.model.layers.filter((layer): layer is InstanceNorm => layer.getClassName() === InstanceNorm.className) : [];
  // One count over both passes: the thumbnail is one more model run before the windows.
  const extra = norms.length > 0 ? 1 : 0;
  const report = progressReporter(options, windows + extra);
  try {
    if (extra) {
      report(0);
      await fixStatisticsFromThumbnail(loaded, norms, rgb, width, height, tiles.tileSize!, options.signal);
    }
    await runTiles(loaded, rgb, width, height, output, rgbOutputTransform(loaded.metadata.outputEncoding), {
      ...tiles,
      onProgress: options.onProgress && ((progress) => report(progress.done + extra)),
    });
  } finally {
    restoreStatistics(norms);
  }
  return {
    data: new Uint8Array(output.buffer, output.byteOffset, output.byteLength),
    width,
    height,
    ...(image.alpha ? { alpha: image.alpha } : {}),
  };
}
