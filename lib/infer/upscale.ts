/**
 * Super-resolution of an image of any size with a fully convolutional model: tiles of
 * `metadata.tile.size` input pixels with `metadata.tile.padding` of overlapping context, each
 * run alone (memory is bounded by the tile), cropped and placed. Alpha is upscaled apart (cubic).
 */
import * as tf from '@tensorflow/tfjs-core';
import { fillTransparentRgb } from '@/lib/image/alpha';
import type { DecodedImage } from '@/lib/image/decode';
import { resizeBytes } from '@/lib/image/resize';
import { extractWindow, planTiles, TileStitcher, type StitchTarget, type TilePlan } from '@/lib/image/tiling';
import { runModel, type LoadedModel } from './models';
import { progressReporter, rgbInputTransform, rgbOutputTransform, throwIfAborted, yieldToEventLoop } from './run';
import type { InferOptions } from './types';

export interface UpscaleOptions extends InferOptions {
  /** Seam handling; `crop` is exact when the padding covers the receptive field (see tiling.ts). */
  blend?: 'crop' | 'feather';
  /** Overrides `metadata.tile.size` (tests, benchmarks). */
  tileSize?: number;
  /** Overrides `metadata.tile.padding`, the context around each tile (not for fixed-size models). */
  padding?: number;
  /**
   * What tiles see past the image edge (see `TilePlanOptions.edges`). Default: `clip` for
   * fully convolutional models (trained on crops whose borders are the network's zero padding;
   * no work is spent on mirrored context), `mirror` for fixed-size models.
   */
  edges?: 'mirror' | 'clip';
  /**
   * Geometric self-ensemble (Lim et al. 2017, "EDSR+"; waifu2x's TTA): each tile also runs flipped
   * and transposed, 8 ways, and the outputs, turned back, are averaged. About 8x the time for a
   * little more fidelity (measured in the README); off by default.
   */
  ensemble?: boolean;
}

/** The 8 symmetries of the square: bit 0 flips rows, bit 1 flips columns, bit 2 transposes first. */
const SYMMETRIES = [0, 1, 2, 3, 4, 5, 6, 7] as const;

function forwardSymmetry(x: tf.Tensor4D, t: number): tf.Tensor4D {
  let y = t & 4 ? tf.transpose(x, [0, 2, 1, 3]) : x;
  if (t & 1) y = tf.reverse(y, 1);
  if (t & 2) y = tf.reverse(y, 2);
  return y;
}

function inverseSymmetry(y: tf.Tensor4D, t: number): tf.Tensor4D {
  let x = t & 2 ? tf.reverse(y, 2) : y;
  if (t & 1) x = tf.reverse(x, 1);
  if (t & 4) x = tf.transpose(x, [0, 2, 1, 3]);
  return x;
}

/**
 * The model's output for `input` `[1, h, w, c]`, or with `ensemble` the mean of its outputs over
 * the 8 flips/transpositions of the input, each turned back (`[1, h*s, w*s, c]`). One symmetry's
 * tensors are freed before the next runs, so memory stays about one plain run plus the sum.
 * Between symmetries it yields to the event loop and checks `signal`: one ensembled tile is 8 model
 * runs, seconds on a CPU, and a server must keep answering (and cancelling) meanwhile.
 * `input` stays the caller's to dispose.
 */
export async function runModelEnsembled(loaded: LoadedModel, input: tf.Tensor4D, ensemble: boolean, signal?: AbortSignal): Promise<tf.Tensor4D> {
  if (!ensemble) return tf.tidy(() => runModel(loaded, input));
  let sum: tf.Tensor4D | undefined;
  try {
    for (const t of SYMMETRIES) {
      const previous = sum;
      sum = tf.tidy((): tf.Tensor4D => {
        const out = inverseSymmetry(runModel(loaded, forwardSymmetry(input, t)), t);
        return previous ? tf.add(previous, out) : out;
      });
      previous?.dispose();
      if (t !== SYMMETRIES[SYMMETRIES.length - 1]) {
        await yieldToEventLoop();
        throwIfAborted(signal);
      }
    }
    return tf.div(sum!, SYMMETRIES.length) as tf.Tensor4D;
  } finally {
    sum?.dispose();
  }
}

export interface UpscaledImage {
  /** Interleaved RGB, `width * height * 3`. */
  data: Uint8Array;
  width: number;
  height: number;
  alpha?: Uint8Array;
}

/** The tile plan `upscaleImage` uses for a `width` x `height` input. */
export function upscalePlan(loaded: LoadedModel, width: number, height: number, options: Pick<UpscaleOptions, 'tileSize' | 'padding' | 'edges'> = {}): TilePlan {
  const { tile } = loaded.metadata;
  if (loaded.fixedInputSide !== undefined) {
    // A fixed-size model: every window must be exactly that side, so edge windows are mirrored.
    const side = loaded.fixedInputSide;
    if (side <= 2 * tile.padding) throw new Error(`Model ${loaded.name}: fixed input ${side} leaves no room inside padding ${tile.padding}`);
    return planTiles(width, height, { tileSize: side - 2 * tile.padding, padding: tile.padding, multipleOf: side });
  }
  return planTiles(width, height, {
    tileSize: options.tileSize ?? tile.size,
    padding: options.padding ?? tile.padding,
    multipleOf: tile.multipleOf,
    edges: options.edges ?? 'clip',
  });
}

/**
 * The tiled model run behind {@link upscaleImage}, writing into any target: 8-bit for images, or
 * float32 with an identity transform to inspect values before quantisation.
 *
 * @param source interleaved 8-bit RGB, `width * height * 3`.
 * @param target `width * s * height * s * 3` values.
 * @param transform from the model's output encoding to the target's values.
 */
export async function runTiles(
  loaded: LoadedModel,
  source: Uint8Array,
  width: number,
  height: number,
  target: StitchTarget,
  transform: (value: number) => number,
  options: UpscaleOptions = {},
): Promise<void> {
  const { metadata } = loaded;
  const scale = metadata.scale;
  const plan = upscalePlan(loaded, width, height, options);
  const stitcher = new TileStitcher(plan, { scale, channels: 3, blend: options.blend ?? 'crop' }, target, transform);
  const inputTransform = rgbInputTransform(metadata.inputEncoding);
  const report = progressReporter(options, plan.tiles.length);

  throwIfAborted(options.signal);
  report(0);
  for (const tile of plan.tiles) {
    const window = extractWindow(source, width, height, 3, tile.window, inputTransform);
    const input = tf.tensor4d(window, [1, tile.window.height, tile.window.width, 3]);
    let result: tf.Tensor4D;
    try {
      result = await runModelEnsembled(loaded, input, options.ensemble ?? false, options.signal);
    } finally {
      input.dispose();
    }
    try {
      const [, h, w, c] = result.shape;
      if (h !== tile.window.height * scale || w !== tile.window.width * scale || c !== 3) {
        throw new Error(
          `Model ${loaded.name} turned a ${tile.window.width}x${tile.window.height} tile into [${result.shape.join(', ')}]`,
        );
      }
      stitcher.place(tile, await result.data());
    } finally {
      result.dispose();
    }
    report(tile.index + 1);
    await yieldToEventLoop();
    throwIfAborted(options.signal);
  }
  stitcher.finish();
}

/**
 * Upscales `image` by the model's scale.
 *
 * Per tile: window (context from the neighbouring tiles; clipped at the image edges, mirrored
 * there only for fixed-size models: see {@link UpscaleOptions.edges}) -> encoding (`rgb-unit`:
 * [0, 1], `rgb-tanh`: [-1, 1]) -> `[1, h, w, 3]` -> model -> `[1, h*s, w*s, 3]` -> back to 0..255
 * (clipped, rounded).
 * Progress is reported once before the first tile (done 0) and after each; the signal is checked
 * between tiles and rejects with an `AbortError`.
 *
 * @returns `width * s` x `height * s` RGB, and the alpha plane resized with a cubic kernel when the
 *   input had one.
 */
export async function upscaleImage(loaded: LoadedModel, image: DecodedImage, options: UpscaleOptions = {}): Promise<UpscaledImage> {
  const scale = loaded.metadata.scale;
  const { width, height } = image;
  const outWidth = width * scale;
  const outHeight = height * scale;
  const output = new Uint8ClampedArray(outWidth * outHeight * 3);
  // The network sees 18 px around each pixel and alpha is upscaled apart: colour hidden under
  // transparent pixels would show at the visible edges.
  const rgb = image.alpha ? fillTransparentRgb(image.data, image.alpha, width, height) : image.data;
  await runTiles(loaded, rgb, width, height, output, rgbOutputTransform(loaded.metadata.outputEncoding), options);
  const alpha = image.alpha
    ? await resizeBytes(image.alpha, width, height, 1, outWidth, outHeight, 'cubic')
    : undefined;
  return {
    data: new Uint8Array(output.buffer, output.byteOffset, output.byteLength),
    width: outWidth,
    height: outHeight,
    ...(alpha ? { alpha } : {}),
  };
}
