/**
 * Resampling the inference core needs outside the networks: the colorizer's predicted a*b* back to
 * full resolution (bilinear, row by row so a large output never needs a full float plane), its
 * working-size input (sharp), and the alpha plane of upscaled images (sharp, cubic).
 */
import sharp from 'sharp';

/**
 * Bilinear sampling with half-pixel centres (as `tf.image.resizeBilinear(..., halfPixelCenters)`
 * and every image editor), edges clamped. Produces one destination row at a time.
 */
export class BilinearSampler {
  private readonly x0: Int32Array;
  private readonly x1: Int32Array;
  private readonly fx: Float32Array;

  /**
   * @param source interleaved `sourceWidth * sourceHeight * channels` values.
   */
  constructor(
    private readonly source: ArrayLike<number>,
    private readonly sourceWidth: number,
    private readonly sourceHeight: number,
    private readonly channels: number,
    readonly width: number,
    readonly height: number,
  ) {
    if (source.length !== sourceWidth * sourceHeight * channels) {
      throw new Error(`BilinearSampler: ${source.length} values for ${sourceWidth}x${sourceHeight}x${channels}`);
    }
    if (!(width >= 1 && height >= 1)) throw new Error(`BilinearSampler: bad destination size ${width}x${height}`);
    this.x0 = new Int32Array(width);
    this.x1 = new Int32Array(width);
    this.fx = new Float32Array(width);
    for (let x = 0; x < width; x++) {
      const [a, b, f] = this.axis(x, sourceWidth, width);
      this.x0[x] = a;
      this.x1[x] = b;
      this.fx[x] = f;
    }
  }

  private axis(d: number, sourceSize: number, destSize: number): [number, number, number] {
    const s = Math.min(sourceSize - 1, Math.max(0, ((d + 0.5) * sourceSize) / destSize - 0.5));
    const a = Math.floor(s);
    return [a, Math.min(a + 1, sourceSize - 1), s - a];
  }

  /** Destination row `y` into `out` (`width * channels` values, interleaved). */
  row(y: number, out: Float32Array = new Float32Array(this.width * this.channels)): Float32Array {
    const [y0, y1, fy] = this.axis(y, this.sourceHeight, this.height);
    const ch = this.channels;
    const top = y0 * this.sourceWidth;
    const bottom = y1 * this.sourceWidth;
    for (let x = 0; x < this.width; x++) {
      const a = this.x0[x]!;
      const b = this.x1[x]!;
      const fx = this.fx[x]!;
      for (let c = 0; c < ch; c++) {
        const upper = this.source[(top + a) * ch + c]! * (1 - fx) + this.source[(top + b) * ch + c]! * fx;
        const lower = this.source[(bottom + a) * ch + c]! * (1 - fx) + this.source[(bottom + b) * ch + c]! * fx;
        out[x * ch + c] = upper * (1 - fy) + lower * fy;
      }
    }
    return out;
  }

  /** The whole destination (`width * height * channels` values). */
  all(): Float32Array {
    const out = new Float32Array(this.width * this.height * this.channels);
    for (let y = 0; y < this.height; y++) this.row(y, out.subarray(y * this.width * this.channels));
    return out;
  }
}

/**
 * Resizes 8-bit interleaved pixels with sharp (`fit: fill`, so the aspect may change).
 * Downscaling uses sharp's default Lanczos-3 with its antialiasing; `kernel` overrides.
 */
export async function resizeBytes(
  data: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  toWidth: number,
  toHeight: number,
  kernel: 'nearest' | 'linear' | 'cubic' | 'lanczos3' = 'lanczos3',
): Promise<Uint8Array> {
  if (width === toWidth && height === toHeight) return data;
  let pipeline = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    raw: { width, height, channels },
  }).resize(toWidth, toHeight, { fit: 'fill', kernel });
  // Without this sharp writes a single plane (alpha, L) back out as 3-channel sRGB.
  if (channels === 1) pipeline = pipeline.toColourspace('b-w');
  const { data: out, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== toWidth || info.height !== toHeight || info.channels !== channels) {
    throw new Error(`resizeBytes: sharp returned ${info.width}x${info.height}x${info.channels}`);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
