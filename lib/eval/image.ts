/**
 * The evaluation's image type: float pixels, interleaved (HWC), values in [0, 1] for colour images.
 * Metrics and resizing work on it; 8-bit images enter and leave through {@link fromBytes} and
 * {@link quantize}, because the published protocol measures 8-bit outputs.
 */
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { decodeImage, sharpErrorMessage } from '@/lib/image/decode';

export interface FloatImage {
  /** Row-major, `channels` values per pixel. */
  data: Float32Array;
  width: number;
  height: number;
  channels: number;
}

/** A zero-filled image of the given shape. */
export function createImage(width: number, height: number, channels: number): FloatImage {
  if (!(Number.isInteger(width) && Number.isInteger(height) && Number.isInteger(channels)) || width < 1 || height < 1 || channels < 1) {
    throw new Error(`createImage: bad shape ${width}x${height}x${channels}`);
  }
  return { data: new Float32Array(width * height * channels), width, height, channels };
}

/** 8-bit interleaved pixels (0..255) to a [0, 1] float image. */
export function fromBytes(bytes: ArrayLike<number>, width: number, height: number, channels: number): FloatImage {
  if (bytes.length !== width * height * channels) {
    throw new Error(`fromBytes: ${bytes.length} values for ${width}x${height}x${channels}`);
  }
  const data = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) data[i] = bytes[i]! / 255;
  return { data, width, height, channels };
}

/** [0, 1] float image to 8-bit: clipped, rounded half up (MATLAB's `uint8()`; numpy rounds halves to even, which exact halves rarely meet). */
export function toBytes(image: FloatImage): Uint8Array {
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(image.data[i]! * 255)));
  return out;
}

/**
 * What saving as 8-bit does to an image: clip to [0, 1] and round to multiples of 1/255. Every image
 * the protocol measures (LR inputs, bicubic and network outputs) goes through this first.
 */
export function quantize(image: FloatImage): FloatImage {
  const data = new Float32Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(image.data[i]! * 255))) / 255;
  return { ...image, data };
}

/** The top-left `width` x `height` window of `image`. */
export function crop(image: FloatImage, width: number, height: number, left = 0, top = 0): FloatImage {
  if (left < 0 || top < 0 || left + width > image.width || top + height > image.height || width < 1 || height < 1) {
    throw new Error(`crop: ${width}x${height}+${left}+${top} is outside ${image.width}x${image.height}`);
  }
  const { channels } = image;
  const out = createImage(width, height, channels);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * channels;
    out.data.set(image.data.subarray(from, from + width * channels), y * width * channels);
  }
  return out;
}

/** Crops to the largest top-left window whose sides are multiples of `multiple` (the SR protocol's `modcrop`). */
export function cropToMultiple(image: FloatImage, multiple: number): FloatImage {
  const width = image.width - (image.width % multiple);
  const height = image.height - (image.height % multiple);
  if (width === image.width && height === image.height) return image;
  return crop(image, width, height);
}

/** A file that cannot be read or decoded as an image; the message names the file. */
export class ImageFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${reason}`, options);
    this.name = 'ImageFileError';
  }
}

/**
 * Reads any image file as 3-channel sRGB in [0, 1] (gray files are replicated to three channels,
 * as OpenCV's `imread` does in the reference evaluations; alpha is dropped), plus whether the file
 * stores one gray channel (Set14's bridge does).
 * @throws ImageFileError naming `file` when it cannot be read or is not a decodable image.
 */
export async function readImageFile(file: string): Promise<{ image: FloatImage; grayFile: boolean }> {
  try {
    const bytes = await fs.readFile(file);
    // Decoded first: its InputError says what is wrong in one sentence, where sharp's header read
    // of the same bytes would only say "unsupported image format".
    const decoded = await decodeImage(bytes);
    const header = await sharp(bytes).metadata();
    const colourChannels = (header.channels ?? 3) - (header.hasAlpha ? 1 : 0);
    return { image: fromBytes(decoded.data, decoded.width, decoded.height, 3), grayFile: colourChannels === 1 };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const reason = e?.code === 'ENOENT' ? 'file not found' : e?.code === 'EACCES' ? 'permission denied' : sharpErrorMessage(error);
    throw new ImageFileError(file, reason, { cause: error });
  }
}
