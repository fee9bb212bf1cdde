/**
 * Width and height read from the first bytes of a PNG, JPEG, WebP or GIF file, in plain JavaScript:
 * for the app's thread, which must not load sharp (only the inference worker does), where the size
 * only estimates how long an image will hold the queue. Anything else (TIFF, AVIF, a damaged
 * header) is `undefined`; the decoder, in the worker, is what accepts or refuses an image.
 */

export interface HeaderSize {
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  return bytes.length >= offset + prefix.length && prefix.every((b, i) => bytes[offset + i] === b);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

function positive(width: number, height: number): HeaderSize | undefined {
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** PNG: the IHDR chunk comes first, big-endian width and height. */
function pngSize(bytes: Uint8Array, view: DataView): HeaderSize | undefined {
  if (bytes.length < 24 || ascii(bytes, 12, 4) !== 'IHDR') return undefined;
  return positive(view.getUint32(16), view.getUint32(20));
}

/** JPEG: walks the marker segments to the first start-of-frame (SOF0-SOF15 but DHT, JPG and DAC). */
function jpegSize(bytes: Uint8Array, view: DataView): HeaderSize | undefined {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    // Fill bytes before a marker.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    // Markers without a length: TEM and RST0-7 (neither belongs before the frame, but they are harmless).
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    const length = view.getUint16(offset + 2);
    if (length < 2) return undefined;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (offset + 9 > bytes.length) return undefined;
      return positive(view.getUint16(offset + 7), view.getUint16(offset + 5));
    }
    // Start of scan before any frame header: not a valid JPEG.
    if (marker === 0xda) return undefined;
    offset += 2 + length;
  }
  return undefined;
}

/** WebP: the first chunk says which of the three layouts (lossy VP8, lossless VP8L, extended VP8X). */
function webpSize(bytes: Uint8Array, view: DataView): HeaderSize | undefined {
  if (bytes.length < 30) return undefined;
  const chunk = ascii(bytes, 12, 4);
  if (chunk === 'VP8X') {
    // 24-bit little-endian width - 1 and height - 1.
    const width = 1 + (bytes[24]! | (bytes[25]! << 8) | (bytes[26]! << 16));
    const height = 1 + (bytes[27]! | (bytes[28]! << 8) | (bytes[29]! << 16));
    return positive(width, height);
  }
  if (chunk === 'VP8L') {
    if (bytes[20] !== 0x2f) return undefined;
    // 14 bits each of width - 1 and height - 1, little-endian, after the signature byte.
    const bits = view.getUint32(21, true);
    return positive((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8 ') {
    // A key frame's start code, then 14-bit width and height (2 bits of scaling above each).
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return undefined;
    return positive(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
  }
  return undefined;
}

/** GIF: the logical screen size, little-endian. */
function gifSize(bytes: Uint8Array, view: DataView): HeaderSize | undefined {
  if (bytes.length < 10) return undefined;
  return positive(view.getUint16(6, true), view.getUint16(8, true));
}

/**
 * The stored width and height (before any EXIF rotation, which keeps the pixel count) of a PNG,
 * JPEG, WebP or GIF file from its header; `undefined` for other formats or a header that does not read.
 */
export function headerSize(bytes: Uint8Array): HeaderSize | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (startsWith(bytes, PNG_SIGNATURE)) return pngSize(bytes, view);
  if (startsWith(bytes, [0xff, 0xd8])) return jpegSize(bytes, view);
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return webpSize(bytes, view);
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(ascii(bytes, 0, 6))) return gifSize(bytes, view);
  return undefined;
}
