/**
 * Colorization of an image of any size (Isola et al. 2017, section 4.5, at inference):
 * the generator predicts a*b* from L* at a working resolution; the prediction is upsampled to the
 * full resolution and merged with the image's own full-resolution L*, so every detail of the output
 * comes from the input and only the (low-frequency) colour comes from the network.
 *
 * Working size (our choice): the short side becomes
 * `metadata.workingSize` (e.g. 256) and each side is rounded to the nearest multiple of
 * `tile.multipleOf` (the U-Net's 2^depth); the long side is capped at 4 x workingSize. The aspect
 * ratio may change a little (at most half a multiple per side) instead of padding the image:
 * padding would add mirrored content to the statistics instance normalisation computes over the
 * whole image, while a slight stretch of the colour plane is invisible after merging with the
 * full-resolution L*. No tiling: the generator's receptive field and instance normalisation see the
 * whole working image, as in training.
 *
 * Mirror average (our choice, measured): the prediction is the mean of the generator's output for
 * L* and, mirrored back, for L* mirrored left-right. A colorizer trained on a few hundred photos
 * guesses differently for the two (a sky's blue, a wall's beige), and the mean of two guesses
 * scores better than either: +0.2-0.3 dB PSNR on the held-out photos of models/colorize's card for
 * every model tried (-0.08 to 0 dB on Set5/Set14's colour photos), for a second run at the small
 * working size (about 10-20 ms for a 1 MP photo). Up-down and transposed copies are not used:
 * colour depends on which way is up (sky above, grass below).
 */
import * as tf from '@tensorflow/tfjs-core';
import { fillTransparentRgb } from '@/lib/image/alpha';
import type { DecodedImage } from '@/lib/image/decode';
import { lAbToRgb, rgbToL } from '@/lib/image/lab';
import { LAB_AB_SCALE } from '@/lib/model/metadata';
import { BilinearSampler, resizeBytes } from '@/lib/image/resize';
import { runModel, type LoadedModel } from './models';
import { progressReporter, throwIfAborted, yieldToEventLoop } from './run';
import { assertColourStrength, type InferOptions } from './types';

/** lab-l: L* in [0, 100] -> L/50 - 1 in [-1, 1]; lab-ab: ab/110, so a*, b* = 110 * output. */
const L_SCALE = 50;
const AB_SCALE = LAB_AB_SCALE;
/** Panoramas are squeezed rather than run at an unbounded working width. */
const MAX_ASPECT = 4;

export interface ColorizeOptions extends InferOptions {
  /** Average the prediction with the mirrored image's, mirrored back (default true; see the module comment). */
  mirrorAverage?: boolean;
  /**
   * Multiplies the predicted a*b* (default 1, the model's own colour; 0 gives the gray image; range:
   * `COLOUR_STRENGTH_RANGE` in `./types.ts`). A model trained for fidelity predicts the mean of the
   * colours a gray region could have, which is muted where it is unsure; a strength above 1 is bolder
   * at the price of fidelity (measured in models/colorize/README.md). Colours past the sRGB gamut are clipped.
   */
  colourStrength?: number;
}

export interface ColorizedImage {
  /** Interleaved RGB, `width * height * 3`, the input's size. */
  data: Uint8Array;
  width: number;
  height: number;
  alpha?: Uint8Array;
}

/** The generator's input size for a `width` x `height` image (see the module comment). */
export function colorizeWorkingSize(
  width: number,
  height: number,
  workingSize: number,
  multipleOf: number,
): { width: number; height: number } {
  const k = workingSize / Math.min(width, height);
  const cap = Math.max(multipleOf, Math.floor((MAX_ASPECT * workingSize) / multipleOf) * multipleOf);
  const side = (s: number) => Math.min(cap, Math.max(multipleOf, Math.round((s * k) / multipleOf) * multipleOf));
  return { width: side(width), height: side(height) };
}

/**
 * Colorizes `image` (its colour, if any, is discarded: only L* is used).
 *
 * Steps: RGB resized to the working size (sharp, Lanczos) -> L* -> `[1, h, w, 1]` as L/50 - 1 ->
 * model, and the model on its mirror image mirrored back, averaged -> `[1, h, w, 2]` ab/110 in
 * [-1, 1] -> times the colour strength -> a*b* upsampled bilinearly to the full size, merged row by row
 * with the full-resolution L* -> sRGB. Progress counts one unit (the model run); the signal is
 * checked before and after it.
 *
 * @returns RGB of the input's size, with the input's alpha unchanged.
 * @throws RangeError for a colour strength outside `COLOUR_STRENGTH_RANGE` (`./types.ts`).
 */
export async function colorizeImage(loaded: LoadedModel, image: DecodedImage, options: ColorizeOptions = {}): Promise<ColorizedImage> {
  const { metadata } = loaded;
  const { width, height } = image;
  const strength = options.colourStrength ?? 1;
  assertColourStrength(strength);
  const working =
    loaded.fixedInputSide !== undefined
      ? { width: loaded.fixedInputSide, height: loaded.fixedInputSide }
      : colorizeWorkingSize(width, height, metadata.workingSize ?? metadata.tile.size, metadata.tile.multipleOf);
  const report = progressReporter(options, 1);

  throwIfAborted(options.signal);
  report(0);
  // The generator sees the whole image at once: colour hidden under transparent pixels would
  // change the colours it gives the visible ones.
  const visibleRgb = image.alpha ? fillTransparentRgb(image.data, image.alpha, width, height) : image.data;
  const small = await resizeBytes(visibleRgb, width, height, 3, working.width, working.height);
  const smallL = rgbToL(small, working.width * working.height);
  for (let i = 0; i < smallL.length; i++) smallL[i] = smallL[i]! / L_SCALE - 1;
  throwIfAborted(options.signal);

  const predicted = tf.tidy(() => {
    const input = tf.tensor4d(smallL, [1, working.height, working.width, 1]);
    const plain = runModel(loaded, input);
    if (options.mirrorAverage === false) return plain;
    const mirrored = tf.reverse(runModel(loaded, tf.reverse(input, 2)), 2);
    return tf.mul(tf.add(plain, mirrored), 0.5) as tf.Tensor4D;
  });
  let ab: Float32Array;
  try {
    const [, h, w, c] = predicted.shape;
    if (h !== working.height || w !== working.width || c !== 2) {
      throw new Error(`Model ${loaded.name} turned ${working.width}x${working.height}x1 into [${predicted.shape.join(', ')}]`);
    }
    ab = (await predicted.data()) as Float32Array;
  } finally {
    predicted.dispose();
  }
  report(1);
  await yieldToEventLoop();
  throwIfAborted(options.signal);

  const abScale = AB_SCALE * strength;
  for (let i = 0; i < ab.length; i++) ab[i] = ab[i]! * abScale;
  const sampler = new BilinearSampler(ab, working.width, working.height, 2, width, height);
  const rowAb = new Float32Array(width * 2);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const rowRgb = image.data.subarray(y * width * 3, (y + 1) * width * 3);
    out.set(lAbToRgb(rgbToL(rowRgb, width), sampler.row(y, rowAb), width), y * width * 3);
  }
  return { data: out, width, height, ...(image.alpha ? { alpha: image.alpha } : {}) };
}
