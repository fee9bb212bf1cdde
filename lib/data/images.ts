/**
 * Training images: found in a folder, decoded once with sharp (EXIF orientation, gray/16-bit/CMYK
 * to sRGB) and kept in memory. Unreadable or too-small files are reported and skipped; a missing or
 * empty folder is an error before any training starts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { fillTransparentRgb } from '@/lib/image/alpha';
import { decodeImage } from '@/lib/image/decode';
import { IMAGE_EXTENSIONS, isImageEntry } from '@/lib/image/formats';
import type { Rng } from '@/lib/train/rng';

/** An upright 8-bit RGB image, interleaved HWC. */
export interface RgbImage {
  /** The file's name; from {@link loadImageFolder}, its path in the folder (`sub/a.jpg`), so names are unique. */
  name: string;
  data: Uint8Array;
  width: number;
  height: number;
}

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/**
 * Image files under `dir` (recursively; hidden entries and anything but regular files and links to
 * them skipped: see {@link isImageEntry}), by the extensions this sharp build decodes
 * ({@link IMAGE_EXTENSIONS}), sorted for reproducibility. A sub-folder that cannot be read is
 * passed to `onSkip` and left out; the rest are still listed.
 * @throws DataError when `dir` is missing, not a folder, or cannot be read.
 */
export async function listImageFiles(dir: string, onSkip?: (folder: string, reason: string) => void): Promise<string[]> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch {
    throw new DataError(`Data folder not found: ${dir}`);
  }
  if (!stat.isDirectory()) throw new DataError(`Not a folder: ${dir}`);
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await fs.readdir(d, { withFileTypes: true })) {
      // Hidden entries (.git, macOS's ._photo.jpg resource forks) are never training images.
      if (entry.name.startsWith('.')) continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) {
        try {
          await walk(full);
        } catch (error) {
          // One unreadable sub-folder costs its own photos, not the run (nor the folders after it).
          onSkip?.(full, `unreadable folder (${(error as Error).message})`);
        }
      } else if (await isImageEntry(d, entry)) {
        out.push(full);
      }
    }
  };
  try {
    await walk(dir);
  } catch (error) {
    throw new DataError(`Cannot read data folder ${dir}: ${(error as Error).message}`);
  }
  return out.sort();
}

export interface LoadOptions {
  /** Images whose shorter side (after `maxSide` resizing) is below this are skipped. */
  minSide: number;
  /** Larger images are downscaled (area filter) so the longer side is at most this; saves memory. */
  maxSide?: number;
  /** Images are resized (down or up) so the shorter side is exactly this; takes precedence over `maxSide`. */
  shortSide?: number;
  onSkip?: (file: string, reason: string) => void;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Decodes one file to RGB, then resizes it so the shorter side is `size.shortSide` (when given) or
 * else downscales it when its longer side exceeds `size.maxSide`. Fully transparent pixels take the
 * colour of the visible ones nearest to them ({@link fillTransparentRgb}), as inference fills them.
 */
export async function loadRgbImage(file: string, size: { maxSide?: number; shortSide?: number } = {}): Promise<RgbImage> {
  const decoded = await decodeImage(file);
  let { width, height } = decoded;
  // Whatever colour an editor left under transparent pixels is invisible in the photo, yet a crop
  // would teach it as content; inference fills those pixels the same way before a model sees them.
  let data = decoded.alpha ? fillTransparentRgb(decoded.data, decoded.alpha, width, height) : decoded.data;
  const { maxSide, shortSide } = size;
  const target = shortSide
    ? Math.min(width, height) !== shortSide && (width <= height ? { width: shortSide } : { height: shortSide })
    : maxSide && Math.max(width, height) > maxSide && (width >= height ? { width: maxSide } : { height: maxSide });
  if (target) {
    const out = await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 3 } })
      .resize({ ...target, kernel: 'lanczos3' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    data = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
    width = out.info.width;
    height = out.info.height;
  }
  return { name: path.basename(file), data, width, height };
}

/**
 * Loads every usable image under `dir`, each named by its path relative to `dir` with `/`
 * separators (`sub/a.jpg`: photos of the same name in two sub-folders stay apart); throws
 * {@link DataError} when none is usable.
 */
export async function loadImageFolder(dir: string, options: LoadOptions): Promise<RgbImage[]> {
  const files = await listImageFiles(dir, options.onSkip);
  if (files.length === 0) throw new DataError(`No images (${IMAGE_EXTENSIONS.join(' ')}) in ${dir}`);
  const images: RgbImage[] = [];
  for (const [i, file] of files.entries()) {
    try {
      const image = { ...(await loadRgbImage(file, options)), name: path.relative(dir, file).split(path.sep).join('/') };
      if (Math.min(image.width, image.height) < options.minSide) {
        // The size after the run's resizing (--image-side, the long-side cap): what the crops come from.
        const resized = options.shortSide !== undefined || options.maxSide !== undefined ? ' as resized for training' : '';
        options.onSkip?.(file, `too small (${image.width}x${image.height}${resized}; needs at least ${options.minSide} px on the short side)`);
      } else {
        images.push(image);
      }
    } catch (error) {
      options.onSkip?.(file, `unreadable (${(error as Error).message})`);
    }
    options.onProgress?.(i + 1, files.length);
  }
  if (images.length === 0) throw new DataError(`None of the ${files.length} files in ${dir} is a usable image`);
  return images;
}

/**
 * A seeded split: `fraction` of the items (at least one when there are two or more) held out. With
 * fewer than two items or `fraction` 0 the first item is both trained on and validated on
 * (`valFromTraining`), so that sample grids and the metric still come out.
 */
export function splitHoldOut<T>(items: readonly T[], fraction: number, rng: Rng): { train: T[]; val: T[]; valFromTraining: boolean } {
  // Too few images (or no hold-out asked for): validate on the first training image, and say so.
  if (items.length < 2 || fraction <= 0) return { train: [...items], val: [...items.slice(0, 1)], valFromTraining: true };
  const shuffled = rng.shuffle(items);
  const nVal = Math.min(items.length - 1, Math.max(1, Math.round(items.length * fraction)));
  return { train: shuffled.slice(nVal), val: shuffled.slice(0, nVal), valFromTraining: false };
}

/** The split a run's first session drew, which its later sessions (`--resume`) keep. */
export interface KeptSplit {
  /** Names held out for validation; empty: nothing was held out (validation reused a training image). */
  heldOut: readonly string[];
  /** Names trained on; undefined when the run did not record them (only its held-out.txt is known). */
  trained?: readonly string[];
}

/** A data set's split, with the names that identify its items (for held-out.txt and checkpoints). */
export interface HoldOut<T> {
  train: T[];
  val: T[];
  valFromTraining: boolean;
  /** Names of the held-out items; with `valFromTraining`, the training item validation reuses. */
  valNames: string[];
  /** Names of the training items. */
  trainNames: string[];
  /** How the data differs from a kept split, one sentence each; empty when it does not (or none was kept). */
  changes: string[];
}

/** Up to 5 names (sorted), then how many more. */
function someNames(names: readonly string[]): string {
  const sorted = [...names].sort();
  return sorted.slice(0, 5).join(', ') + (sorted.length > 5 ? ` and ${sorted.length - 5} more` : '');
}

const photos = (n: number) => `${n} photo${n === 1 ? '' : 's'}`;

/**
 * {@link splitHoldOut} for a new run; for a resumed run (`kept`), the split its first session drew:
 * an item held out then stays held out and one trained on is never moved into validation, whatever
 * `fraction` and the seed would draw now from a changed folder. Items new since then train; items
 * that are gone are reported in `changes`. When the data is unchanged the result is exactly the seeded
 * split (same training order), so a resumed run draws the same crops as an uninterrupted one.
 *
 * @param nameOf an item's name, as held-out.txt lists it (its path in the data folder).
 */
export function holdOut<T>(items: readonly T[], nameOf: (item: T) => string, fraction: number, rng: Rng, kept?: KeptSplit): HoldOut<T> {
  const names = (list: readonly T[]) => list.map(nameOf);
  const drawn = splitHoldOut(items, fraction, rng);
  const result = (split: { train: T[]; val: T[]; valFromTraining: boolean }, changes: string[] = []): HoldOut<T> => ({
    ...split,
    valNames: names(split.val),
    trainNames: names(split.train),
    changes,
  });
  if (!kept) return result(drawn);
  const held = new Set(kept.heldOut);
  const trained = kept.trained ? new Set(kept.trained) : undefined;
  const sameSet = (list: readonly T[], set: ReadonlySet<string>) => list.length === set.size && list.every((item) => set.has(nameOf(item)));
  const sameHeld = drawn.valFromTraining ? held.size === 0 : sameSet(drawn.val, held);
  if (sameHeld && (!trained || sameSet(drawn.train, trained))) return result(drawn);

  // The data changed: keep the first session's roles, in the seeded order (deterministic).
  const order = drawn.valFromTraining ? drawn.train : [...drawn.train, ...drawn.val];
  const val = order.filter((item) => held.has(nameOf(item)));
  const train = order.filter((item) => !held.has(nameOf(item)));
  const present = new Set(names(items));
  const changes: string[] = [];
  const added = trained ? names(train).filter((name) => !trained.has(name)) : [];
  if (added.length > 0) changes.push(`${photos(added.length)} new since the run started: they train (${someNames(added)})`);
  const goneTrained = kept.trained?.filter((name) => !present.has(name)) ?? [];
  if (goneTrained.length > 0) changes.push(`${photos(goneTrained.length)} trained on before are no longer in the data (${someNames(goneTrained)})`);
  const goneHeld = kept.heldOut.filter((name) => !present.has(name));
  if (goneHeld.length > 0) {
    changes.push(
      `${photos(goneHeld.length)} of the ${kept.heldOut.length} held out are no longer in the data (${someNames(goneHeld)})` +
        (val.length > 0 ? `: validation is on the other ${val.length}` : ''),
    );
  }
  if (held.size === 0 && !drawn.valFromTraining) changes.push('the run held out no photos when it started (too few, or --val-fraction 0), so it still holds out none');
  if (train.length === 0) throw new DataError(`None of the photos the run trained on is in the data any more (${kept.heldOut.length} held out, kept so)`);
  // Nothing held out (as the run started, or every held-out photo is gone): validate on a training photo.
  if (val.length === 0) return result({ train, val: train.slice(0, 1), valFromTraining: true }, changes);
  return result({ train, val, valFromTraining: false }, changes);
}

/** A `size`x`size` window of an HWC uint8 image starting at (x, y), as float [0, 1]. */
export function cropToFloat(image: { data: Uint8Array; width: number }, x: number, y: number, w: number, h: number, channels = 3): Float32Array {
  const out = new Float32Array(w * h * channels);
  for (let row = 0; row < h; row++) {
    const src = ((y + row) * image.width + x) * channels;
    const dst = row * w * channels;
    for (let k = 0; k < w * channels; k++) out[dst + k] = image.data[src + k]! / 255;
  }
  return out;
}

/**
 * Dihedral augmentation of an HWC float patch: `flipX`, then `rot` quarter turns (0..3).
 * Square patches only when rotating.
 */
export function augmentPatch(data: Float32Array, w: number, h: number, channels: number, flipX: boolean, rot: number): Float32Array {
  if (!flipX && rot % 4 === 0) return data;
  if (rot % 2 === 1 && w !== h) throw new Error('augmentPatch: rotation needs a square patch');
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sx = flipX ? w - 1 - x : x;
      let sy = y;
      for (let r = 0; r < rot % 4; r++) [sx, sy] = [sy, w - 1 - sx];
      const src = (sy * w + sx) * channels;
      const dst = (y * w + x) * channels;
      for (let c = 0; c < channels; c++) out[dst + c] = data[src + c]!;
    }
  }
  return out;
}

/**
 * Area (box) resampling of an HWC float image to `outW`x`outH`: exact averages when shrinking,
 * nearest-like when enlarging. Used for the scale jitter of random crops.
 */
export function resizeArea(data: Float32Array, w: number, h: number, channels: number, outW: number, outH: number): Float32Array {
  if (w === outW && h === outH) return data;
  const out = new Float32Array(outW * outH * channels);
  const sx = w / outW;
  const sy = h / outH;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < outW; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      const acc = new Float64Array(channels);
      let total = 0;
      for (let y = Math.floor(y0); y < Math.min(h, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(w, Math.ceil(x1)); x++) {
          const wgt = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
          const src = (y * w + x) * channels;
          for (let c = 0; c < channels; c++) acc[c]! += wgt * data[src + c]!;
          total += wgt;
        }
      }
      const dst = (oy * outW + ox) * channels;
      for (let c = 0; c < channels; c++) out[dst + c] = acc[c]! / total;
    }
  }
  return out;
}
