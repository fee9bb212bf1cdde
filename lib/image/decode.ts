/**
 * Decoding and encoding at the edge of the system: whatever a user hands us (JPEG, PNG, WebP, TIFF,
 * GIF, AVIF...; gray, 16-bit, CMYK, palette, with or without alpha, any EXIF orientation) becomes
 * upright 8-bit sRGB with 3 channels, and alpha travels beside it untouched by the networks.
 */
import { promises as fs } from 'node:fs';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { InputError, type RawImage } from '@/lib/infer/types';

/** An upright 8-bit sRGB image (`channels` is always 3) plus the alpha plane when the input had one. */
export type DecodedImage = RawImage & {
  channels: 3;
  hasAlpha: boolean;
  /** One byte per pixel, row-major, present iff `hasAlpha`. */
  alpha?: Uint8Array;
};

export interface DecodeOptions {
  /** Largest accepted input in pixels (width x height, checked from the header before decoding). */
  maxInputPixels?: number;
}

// sharp's own default, kept when the caller sets no limit so that a decompression bomb still fails.
const SHARP_DEFAULT_PIXEL_LIMIT = 0x3fff * 0x3fff;

/**
 * sharp's error text on one line. libvips appends its whole error buffer, which for a truncated
 * file (TIFF, AVIF/HEIF) holds many lines of `source: bad seek to N` from probing: those are
 * dropped, repeated lines kept once, and the rest joined with "; " (or a space after a line that
 * ends in ":"), so that a failure stays one log line and one sentence in an API answer.
 */
export function sharpErrorMessage(error: unknown): string {
  const raw = (error as Error)?.message ?? String(error);
  const lines = raw
    .split('\n')
    .map((line) => line.replace(/source: bad seek to \d+/g, '').trim())
    .filter((line) => line.length > 0);
  let text = '';
  for (const line of new Set(lines)) text = !text ? line : `${text}${text.endsWith(':') ? ' ' : '; '}${line}`;
  return text.replace(/:$/, '') || raw.trim();
}

function isPixelLimitError(error: unknown): boolean {
  return /pixel limit/i.test((error as Error)?.message ?? '');
}

/**
 * Decodes an image file or buffer into upright 8-bit sRGB (3 channels) with alpha kept apart.
 *
 * Applies the EXIF orientation; converts gray, 16-bit, CMYK and palette images to 8-bit sRGB
 * (through the embedded ICC profile when there is one); takes the first frame of animations.
 *
 * @throws InputError `unsupported_image` when the bytes are not a decodable image,
 *   `too_large` when width x height exceeds `maxInputPixels`, `unusable_image` when it has no pixels.
 * @throws the file-system error as is when `input` is a path that cannot be read.
 */
export async function decodeImage(input: Buffer | string, options: DecodeOptions = {}): Promise<DecodedImage> {
  const bytes = typeof input === 'string' ? await fs.readFile(input) : input;
  if (bytes.length === 0) throw new InputError('unsupported_image', 'The file is empty.');
  const limit = options.maxInputPixels ?? SHARP_DEFAULT_PIXEL_LIMIT;
  if (!(limit > 0)) throw new Error(`maxInputPixels must be positive; got ${options.maxInputPixels}`);

  const { width: headerWidth, height: headerHeight, format } = await probeImage(bytes);
  if (headerWidth * headerHeight > limit) throw inputTooLarge(headerWidth, headerHeight, limit);

  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(bytes, { limitInputPixels: Math.max(1, Math.floor(limit)) })
      .rotate()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    if (isPixelLimitError(error)) throw inputTooLarge(headerWidth, headerHeight, limit);
    throw damagedOrUnsupported(error, format);
  }

  const { data, info } = decoded;
  const { width, height } = info;
  if (width < 1 || height < 1) throw new InputError('unusable_image', `The image has no pixels (${width}x${height}).`);
  return splitChannels(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, info.channels);
}

/**
 * Width and height from the header alone (stored orientation: a 90 degree EXIF rotation swaps
 * them, the pixel count is the same), so that size limits are checked before decoding.
 *
 * @throws InputError `unsupported_image` when the bytes are not an image sharp reads,
 *   `unusable_image` when a side is zero.
 */
export async function probeImage(bytes: Buffer): Promise<{ width: number; height: number; format?: string }> {
  if (bytes.length === 0) throw new InputError('unsupported_image', 'The file is empty.');
  let header: Metadata;
  try {
    header = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    // libvips names the format in a "corrupt header" error: an image of a known kind, cut short or damaged.
    if (/corrupt header/i.test((error as Error)?.message ?? '')) throw damagedOrUnsupported(error);
    throw new InputError('unsupported_image', `Not a supported image: ${sharpErrorMessage(error)}`);
  }
  const width = header.width ?? 0;
  const height = header.height ?? 0;
  if (width < 1 || height < 1) throw new InputError('unusable_image', `The image has no pixels (${width}x${height}).`);
  return { width, height, format: header.format };
}

/**
 * A file of a format we read whose data does not decode: `unusable_image` (damaged or incomplete,
 * e.g. an upload cut short), unless the decoder says it lacks what the file needs (a HEIC's HEVC
 * codec in sharp's prebuilt binaries): then `unsupported_image`, as for a format we do not read.
 */
function damagedOrUnsupported(error: unknown, format?: string): InputError {
  const reason = sharpErrorMessage(error).replace(/^Input buffer has corrupt header:\s*/i, '');
  if (/unsupported/i.test(reason)) return new InputError('unsupported_image', `Cannot decode the image: ${reason}`);
  const kind = format ? `${format.toUpperCase()} ` : '';
  return new InputError('unusable_image', `The ${kind}image is damaged or incomplete (${reason}).`);
}

/** The `too_large` error for a `width` x `height` input over `limit` pixels (decoding and callers that probe first). */
export function inputTooLarge(width: number, height: number, limit: number): InputError {
  return new InputError(
    'too_large',
    `The image is ${width}x${height} = ${(width * height).toLocaleString('en-US')} pixels; ` +
      `the limit is ${Math.floor(limit).toLocaleString('en-US')} pixels.`,
  );
}

/** Turns sharp's raw output (1..4 channels after the sRGB conversion) into RGB + optional alpha. */
function splitChannels(data: Uint8Array, width: number, height: number, channels: number): DecodedImage {
  const n = width * height;
  if (channels === 3) return { data: new Uint8Array(data), width, height, channels: 3, hasAlpha: false };
  const rgb = new Uint8Array(n * 3);
  const withAlpha = channels === 2 || channels === 4;
  const alpha = withAlpha ? new Uint8Array(n) : undefined;
  const colour = channels >= 3 ? 3 : 1;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    if (colour === 3) {
      rgb[i * 3] = data[s]!;
      rgb[i * 3 + 1] = data[s + 1]!;
      rgb[i * 3 + 2] = data[s + 2]!;
    } else {
      rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = data[s]!;
    }
    if (alpha) alpha[i] = data[s + channels - 1]!;
  }
  return alpha
    ? { data: rgb, width, height, channels: 3, hasAlpha: true, alpha }
    : { data: rgb, width, height, channels: 3, hasAlpha: false };
}

/**
 * Encodes raw pixels as PNG. `alpha` (one byte per pixel) is attached as a fourth channel when given;
 * an RGBA or gray `raw` is encoded as is.
 */
/**
 * The most pixels one result may have: sharp applies its default input limit (16383 x 16383) to
 * the raw pixels {@link encodePng} hands it, so a larger result could not be written. It also keeps
 * the result's `width * height * 3` bytes (and 4 with alpha) inside what one typed array holds.
 */
export const MAX_RESULT_PIXELS = 0x3fff ** 2;

export async function encodePng(raw: RawImage, alpha?: Uint8Array): Promise<Buffer> {
  const { width, height, channels } = raw;
  const n = width * height;
  if (raw.data.length !== n * channels) {
    throw new Error(`encodePng: ${raw.data.length} bytes for ${width}x${height}x${channels}`);
  }
  let data = raw.data;
  let outChannels: 1 | 2 | 3 | 4 = channels;
  if (alpha) {
    if (alpha.length !== n) throw new Error(`encodePng: alpha has ${alpha.length} values for ${n} pixels`);
    if (channels === 4) throw new Error('encodePng: the image already has alpha');
    outChannels = (channels + 1) as 2 | 4;
    data = new Uint8Array(n * outChannels);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < channels; c++) data[i * outChannels + c] = raw.data[i * channels + c]!;
      data[i * outChannels + channels] = alpha[i]!;
    }
  }
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    raw: { width, height, channels: outChannels },
  })
    .png()
    .toBuffer();
}
