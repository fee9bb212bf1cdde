/**
 * Tiling for images of any size: the network runs on bounded windows, so memory is bounded by the
 * tile, not the image.
 *
 * Layout: the image is cut into a grid of *cores* that partition it (every pixel in exactly one
 * core). Each core grows by `padding` context pixels on every side and then, on the right and bottom,
 * up to a multiple of `multipleOf`: that is the *window* the model sees. Window pixels outside the
 * image are mirrored (reflect, no edge repeat), so an edge tile sees exactly what a single run over
 * the whole reflect-padded image would; or, with `edges: 'clip'`, windows stop at the image edge.
 * After the model, each tile's core region (`keep`, scaled by the output scale) is cropped and placed. With padding >= the model's receptive-field radius, the
 * tiled result equals the untiled one; {@link TileStitcher}'s `feather` mode additionally blends
 * seams linearly for models whose receptive field is larger than the padding.
 *
 * Pure functions and plain typed arrays; no tensors here.
 */

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface TilePlanOptions {
  /** Largest core side in input pixels (the window adds 2 x padding, then rounds up). */
  tileSize: number;
  /** Context pixels around each core that the model sees and that are cut off afterwards. */
  padding: number;
  /** Window sides are multiples of this (the network's total downsampling factor). */
  multipleOf: number;
  /**
   * What a window sees past the image edge. `mirror` (default): reflected pixels, as a run over the
   * whole reflect-padded image. `clip`: nothing; windows stop at the edge (grown back only to reach
   * `multipleOf`), so edge tiles compute no context that is not there, and the tiled result equals one
   * run over the whole image as it is (the network's own zero padding at the border).
   */
  edges?: 'mirror' | 'clip';
}

export interface Tile {
  index: number;
  /** Grid position. */
  column: number;
  row: number;
  /** The input pixels this tile produces; the cores of a plan partition the image. */
  core: Rect;
  /**
   * The model's input window in image coordinates: may start before 0 or end past the image
   * (those pixels are mirrored). Width and height are multiples of `multipleOf`.
   */
  window: Rect;
  /** Where the core lies in the window (window coordinates, input scale): the part of the output kept. */
  keep: Rect;
}

export interface TilePlan {
  width: number;
  height: number;
  columns: number;
  rows: number;
  padding: number;
  tiles: Tile[];
}

function assertInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}; got ${value}`);
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** Splits [0, length) into `count` nearly equal runs (the first ones one longer). */
function splitEvenly(length: number, count: number): { start: number; size: number }[] {
  const base = Math.floor(length / count);
  const longer = length % count;
  const runs: { start: number; size: number }[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const size = base + (i < longer ? 1 : 0);
    runs.push({ start, size });
    start += size;
  }
  return runs;
}

/**
 * Plans the tiles for a `width` x `height` input. Cores are balanced (sides differ by at most 1)
 * and at most `tileSize`; an image smaller than one tile gets one tile.
 */
export function planTiles(width: number, height: number, options: TilePlanOptions): TilePlan {
  assertInt('width', width, 1);
  assertInt('height', height, 1);
  assertInt('tileSize', options.tileSize, 1);
  assertInt('padding', options.padding, 0);
  assertInt('multipleOf', options.multipleOf, 1);
  const { tileSize, padding, multipleOf } = options;
  const clip = options.edges === 'clip';
  const columns = splitEvenly(width, Math.ceil(width / tileSize));
  const rows = splitEvenly(height, Math.ceil(height / tileSize));
  // One axis of a window: the core plus padding, clipped to [0, length) in clip mode.
  const span = (run: { start: number; size: number }, length: number) => {
    const start = clip ? Math.max(0, run.start - padding) : run.start - padding;
    const end = clip ? Math.min(length, run.start + run.size + padding) : run.start + run.size + padding;
    return { start, size: roundUp(end - start, multipleOf), keep: run.start - start };
  };
  const tiles: Tile[] = [];
  rows.forEach((r, row) => {
    const wy = span(r, height);
    columns.forEach((c, column) => {
      const wx = span(c, width);
      tiles.push({
        index: tiles.length,
        column,
        row,
        core: { x: c.start, y: r.start, width: c.size, height: r.size },
        window: { x: wx.start, y: wy.start, width: wx.size, height: wy.size },
        keep: { x: wx.keep, y: wy.keep, width: c.size, height: r.size },
      });
    });
  });
  return { width, height, columns: columns.length, rows: rows.length, padding, tiles };
}

/**
 * Mirror index (reflect, edge not repeated: -1 -> 1, n -> n - 2), valid for any distance outside
 * [0, n), including windows wider than the image.
 */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/**
 * Copies a window (see {@link Tile.window}) out of an interleaved image, mirroring outside pixels,
 * as float32 with `value * scale + offset` applied (e.g. scale 1/255 for [0, 1]).
 *
 * @param source interleaved `width * height * channels` values.
 * @returns interleaved `window.width * window.height * channels` values, row-major (HWC).
 */
export function extractWindow(
  source: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  window: Rect,
  transform: { scale?: number; offset?: number } = {},
): Float32Array {
  if (source.length !== width * height * channels) {
    throw new Error(`extractWindow: ${source.length} values for ${width}x${height}x${channels}`);
  }
  const scale = transform.scale ?? 1;
  const offset = transform.offset ?? 0;
  const out = new Float32Array(window.width * window.height * channels);
  const columnIndex = new Int32Array(window.width);
  for (let wx = 0; wx < window.width; wx++) columnIndex[wx] = reflectIndex(window.x + wx, width);
  let o = 0;
  for (let wy = 0; wy < window.height; wy++) {
    const rowStart = reflectIndex(window.y + wy, height) * width;
    for (let wx = 0; wx < window.width; wx++) {
      const s = (rowStart + columnIndex[wx]!) * channels;
      for (let c = 0; c < channels; c++) out[o++] = source[s + c]! * scale + offset;
    }
  }
  return out;
}

export interface StitchOptions {
  /** Output pixels per input pixel along each side (1 for same-size models). */
  scale: number;
  channels: number;
  /**
   * `crop` (default): each output pixel comes from exactly one tile; exact when padding covers the
   * receptive field, and writes straight into the target.
   * `feather`: tiles overlap by `feather` input pixels on each side of every seam and are blended
   * with linear weights that sum to 1; hides seams of models that see further than the padding.
   * Costs a float32 accumulator of the whole output (4 x (channels + 1) bytes per output pixel).
   */
  blend?: 'crop' | 'feather';
  /**
   * Half-width of the blend band in input pixels (feather only); clipped to the plan's padding.
   * Default: half the padding, leaving the other half as context so that blended pixels are
   * still computed away from the window edge.
   */
  feather?: number;
}

export type StitchTarget = Float32Array | Uint8Array | Uint8ClampedArray;

/**
 * Assembles per-tile model outputs into the full output (`plan.width * scale` x
 * `plan.height * scale` x `channels`, interleaved).
 */
export class TileStitcher {
  readonly outWidth: number;
  readonly outHeight: number;
  private readonly blend: 'crop' | 'feather';
  private readonly feather: number;
  private readonly accumulator?: Float32Array;
  private readonly weights?: Float32Array;
  private readonly placed = new Set<number>();

  /**
   * @param target where crop mode writes (and feather mode's {@link finish} writes); length
   *   `outWidth * outHeight * channels`.
   * @param transform applied to each model value before it is stored (e.g. v => v * 255 for bytes;
   *   Uint8ClampedArray then rounds and clips).
   */
  constructor(
    private readonly plan: TilePlan,
    private readonly options: StitchOptions,
    private readonly target: StitchTarget,
    private readonly transform: (value: number) => number = (v) => v,
  ) {
    assertInt('scale', options.scale, 1);
    assertInt('channels', options.channels, 1);
    this.outWidth = plan.width * options.scale;
    this.outHeight = plan.height * options.scale;
    if (target.length !== this.outWidth * this.outHeight * options.channels) {
      throw new Error(
        `TileStitcher: target holds ${target.length} values, needs ${this.outWidth}x${this.outHeight}x${options.channels}`,
      );
    }
    this.blend = options.blend ?? 'crop';
    this.feather = Math.min(Math.max(0, options.feather ?? Math.floor(plan.padding / 2)), plan.padding);
    if (this.blend === 'feather' && this.feather > 0) {
      this.accumulator = new Float32Array(this.outWidth * this.outHeight * options.channels);
      this.weights = new Float32Array(this.outWidth * this.outHeight);
    }
  }

  /**
   * Places one tile's model output.
   *
   * @param output interleaved `window.width * scale` x `window.height * scale` x `channels` values
   *   for `tile.window` (HWC, row-major).
   */
  place(tile: Tile, output: ArrayLike<number>): void {
    const { scale: s, channels } = this.options;
    const outWindowWidth = tile.window.width * s;
    if (output.length !== outWindowWidth * tile.window.height * s * channels) {
      throw new Error(
        `TileStitcher: tile ${tile.index} output has ${output.length} values, expected ` +
          `${outWindowWidth}x${tile.window.height * s}x${channels}`,
      );
    }
    if (this.placed.has(tile.index)) throw new Error(`TileStitcher: tile ${tile.index} placed twice`);
    this.placed.add(tile.index);
    if (this.accumulator && this.weights) this.placeFeathered(tile, output, outWindowWidth);
    else this.placeCropped(tile, output, outWindowWidth);
  }

  private placeCropped(tile: Tile, output: ArrayLike<number>, outWindowWidth: number): void {
    const { scale: s, channels } = this.options;
    const rowValues = tile.core.width * s * channels;
    for (let y = 0; y < tile.core.height * s; y++) {
      const from = ((tile.keep.y * s + y) * outWindowWidth + tile.keep.x * s) * channels;
      const to = ((tile.core.y * s + y) * this.outWidth + tile.core.x * s) * channels;
      for (let i = 0; i < rowValues; i++) this.target[to + i] = this.transform(output[from + i]!);
    }
  }

  /** Per-axis weight of one tile at output coordinate `o` (see the class comment for the ramps). */
  private axisWeights(coreStart: number, coreSize: number, imageSize: number, from: number, to: number): Float32Array {
    const s = this.options.scale;
    const f = this.feather;
    const weights = new Float32Array(to - from);
    for (let o = from; o < to; o++) {
      const u = (o + 0.5) / s; // continuous input coordinate of this output pixel's centre
      let w = 1;
      if (coreStart > 0) w = Math.min(w, (u - (coreStart - f)) / (2 * f));
      if (coreStart + coreSize < imageSize) w = Math.min(w, (coreStart + coreSize + f - u) / (2 * f));
      weights[o - from] = Math.max(0, w);
    }
    return weights;
  }

  private placeFeathered(tile: Tile, output: ArrayLike<number>, outWindowWidth: number): void {
    const accumulator = this.accumulator!;
    const weightSum = this.weights!;
    const { scale: s, channels } = this.options;
    const f = this.feather;
    // The contribution band: the core grown by f into the neighbours, never past the image.
    const x0 = Math.max(0, tile.core.x - f) * s;
    const x1 = Math.min(this.plan.width, tile.core.x + tile.core.width + f) * s;
    const y0 = Math.max(0, tile.core.y - f) * s;
    const y1 = Math.min(this.plan.height, tile.core.y + tile.core.height + f) * s;
    const wx = this.axisWeights(tile.core.x, tile.core.width, this.plan.width, x0, x1);
    const wy = this.axisWeights(tile.core.y, tile.core.height, this.plan.height, y0, y1);
    const windowX0 = tile.window.x * s;
    const windowY0 = tile.window.y * s;
    for (let oy = y0; oy < y1; oy++) {
      const rowWeight = wy[oy - y0]!;
      if (rowWeight === 0) continue;
      for (let ox = x0; ox < x1; ox++) {
        const w = rowWeight * wx[ox - x0]!;
        if (w === 0) continue;
        const from = ((oy - windowY0) * outWindowWidth + (ox - windowX0)) * channels;
        const pixel = oy * this.outWidth + ox;
        weightSum[pixel]! += w;
        for (let c = 0; c < channels; c++) accumulator[pixel * channels + c]! += w * output[from + c]!;
      }
    }
  }

  /** True once every tile of the plan has been placed. */
  get complete(): boolean {
    return this.placed.size === this.plan.tiles.length;
  }

  /** Writes the blended result into the target (feather mode) and returns the target. */
  finish(): StitchTarget {
    if (!this.complete) {
      throw new Error(`TileStitcher: ${this.placed.size} of ${this.plan.tiles.length} tiles placed`);
    }
    if (this.accumulator && this.weights) {
      const channels = this.options.channels;
      for (let p = 0; p < this.weights.length; p++) {
        const w = this.weights[p]!;
        for (let c = 0; c < channels; c++) {
          this.target[p * channels + c] = this.transform(this.accumulator[p * channels + c]! / w);
        }
      }
    }
    return this.target;
  }
}
