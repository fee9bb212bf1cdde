import { describe, expect, it } from 'vitest';
import { extractWindow, planTiles, reflectIndex, TileStitcher, type TilePlan } from './tiling';

const SIZES = [1, 2, 3, 5, 7, 8, 16, 17, 31, 64];
const TILE_SIZES = [1, 4, 8, 16, 100];
const PADDINGS = [0, 1, 3, 8];
const MULTIPLES = [1, 4, 8];

function* allPlans(): Generator<{ w: number; h: number; tileSize: number; padding: number; multipleOf: number }> {
  for (const w of SIZES)
    for (const h of SIZES)
      for (const tileSize of TILE_SIZES)
        for (const padding of PADDINGS) for (const multipleOf of MULTIPLES) yield { w, h, tileSize, padding, multipleOf };
}

function image(width: number, height: number, channels: number, seed = 1): Float32Array {
  let a = seed;
  return new Float32Array(width * height * channels).map(() => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  });
}

/**
 * A stand-in "model": 3x3 mean (window edges clamped, which only matters within 1 pixel of the
 * window edge) followed by nearest-neighbour upscaling by `scale`. Receptive-field radius 1.
 */
function boxThenNearest(input: Float32Array, w: number, h: number, channels: number, scale: number): Float32Array {
  const out = new Float32Array(w * scale * h * scale * channels);
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  for (let y = 0; y < h * scale; y++) {
    for (let x = 0; x < w * scale; x++) {
      const sx = Math.floor(x / scale);
      const sy = Math.floor(y / scale);
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) sum += input[(clamp(sy + dy, h) * w + clamp(sx + dx, w)) * channels + c]!;
        out[(y * w * scale + x) * channels + c] = sum / 9;
      }
    }
  }
  return out;
}

/** The same filter on the whole image with reflect padding: what tiling must reproduce. */
function reference(src: Float32Array, w: number, h: number, channels: number, scale: number): Float32Array {
  const out = new Float32Array(w * scale * h * scale * channels);
  for (let y = 0; y < h * scale; y++) {
    for (let x = 0; x < w * scale; x++) {
      const sx = Math.floor(x / scale);
      const sy = Math.floor(y / scale);
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++)
            sum += src[(reflectIndex(sy + dy, h) * w + reflectIndex(sx + dx, w)) * channels + c]!;
        out[(y * w * scale + x) * channels + c] = sum / 9;
      }
    }
  }
  return out;
}

function runTiled(
  plan: TilePlan,
  src: Float32Array,
  channels: number,
  scale: number,
  blend: 'crop' | 'feather',
  model = boxThenNearest,
): Float32Array {
  const target = new Float32Array(plan.width * scale * plan.height * scale * channels);
  const stitcher = new TileStitcher(plan, { scale, channels, blend }, target);
  for (const tile of plan.tiles) {
    const window = extractWindow(src, plan.width, plan.height, channels, tile.window);
    stitcher.place(tile, model(window, tile.window.width, tile.window.height, channels, scale));
  }
  return stitcher.finish() as Float32Array;
}

describe('reflectIndex', () => {
  it('mirrors without repeating the edge, at any distance', () => {
    expect([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7].map((i) => reflectIndex(i, 4))).toEqual([3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1]);
    expect([-5, 0, 7].map((i) => reflectIndex(i, 1))).toEqual([0, 0, 0]);
    expect([-3, -1, 0, 1, 2, 3].map((i) => reflectIndex(i, 2))).toEqual([1, 1, 0, 1, 0, 1]);
  });
});

describe('planTiles', () => {
  it('covers every pixel exactly once, with valid windows, for every size/tile/padding/multiple (mirror edges)', () => {
    // Plain checks collected into one list: thousands of expect() calls per plan would be too slow.
    const problems: string[] = [];
    let plans = 0;
    for (const { w, h, tileSize, padding, multipleOf } of allPlans()) {
      const name = `${w}x${h} tile ${tileSize} pad ${padding} mult ${multipleOf}`;
      const check = (ok: boolean, what: string) => {
        if (!ok) problems.push(`${name}: ${what}`);
      };
      const plan = planTiles(w, h, { tileSize, padding, multipleOf });
      const hits = new Uint8Array(w * h);
      for (const tile of plan.tiles) {
        const { core, window, keep } = tile;
        check(core.width > 0 && core.height > 0, 'empty core');
        check(core.width <= tileSize && core.height <= tileSize, 'core larger than tileSize');
        check(window.width % multipleOf === 0 && window.height % multipleOf === 0, 'window not a multiple');
        // the core sits at `keep` inside the window with at least `padding` context on every side
        check(window.x + keep.x === core.x && window.y + keep.y === core.y, 'keep does not locate the core');
        check(keep.width === core.width && keep.height === core.height, 'keep size differs from core');
        check(keep.x >= padding && keep.y >= padding, 'too little context before the core');
        check(window.width - keep.x - keep.width >= padding, 'too little context right of the core');
        check(window.height - keep.y - keep.height >= padding, 'too little context below the core');
        check(window.width < core.width + 2 * padding + multipleOf, 'window rounded up too far');
        check(window.height < core.height + 2 * padding + multipleOf, 'window rounded up too far');
        for (let y = core.y; y < core.y + core.height; y++)
          for (let x = core.x; x < core.x + core.width; x++) {
            if (x < 0 || x >= w || y < 0 || y >= h) problems.push(`${name}: core pixel ${x},${y} outside`);
            else hits[y * w + x]!++;
          }
      }
      check(
        hits.every((v) => v === 1),
        'some pixel covered 0 or 2+ times',
      );
      check(plan.tiles.length === plan.columns * plan.rows, 'tile count != columns x rows');
      check(plan.tiles.length === Math.ceil(w / tileSize) * Math.ceil(h / tileSize), 'more tiles than needed');
      plans++;
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(plans).toBe(SIZES.length ** 2 * TILE_SIZES.length * PADDINGS.length * MULTIPLES.length);
  });

  it('clip edges: windows stop at the image edge but keep full padding inside it, every size/tile/padding/multiple', () => {
    const problems: string[] = [];
    for (const { w, h, tileSize, padding, multipleOf } of allPlans()) {
      const name = `${w}x${h} tile ${tileSize} pad ${padding} mult ${multipleOf}`;
      const check = (ok: boolean, what: string) => {
        if (!ok) problems.push(`${name}: ${what}`);
      };
      const mirrored = planTiles(w, h, { tileSize, padding, multipleOf });
      const plan = planTiles(w, h, { tileSize, padding, multipleOf, edges: 'clip' });
      check(plan.tiles.length === mirrored.tiles.length, 'different tile count');
      plan.tiles.forEach((tile, i) => {
        const { core, window, keep } = tile;
        check(JSON.stringify(core) === JSON.stringify(mirrored.tiles[i]!.core), 'cores differ from the mirror plan');
        check(window.x >= 0 && window.y >= 0, 'window starts outside the image');
        check(window.width % multipleOf === 0 && window.height % multipleOf === 0, 'window not a multiple');
        // Past the right/bottom edge only to round up to the multiple.
        check(window.x + window.width < Math.max(w + multipleOf, core.x + core.width + padding + multipleOf), 'window ends too far right');
        check(window.y + window.height < Math.max(h + multipleOf, core.y + core.height + padding + multipleOf), 'window ends too far down');
        if (multipleOf === 1) check(window.x + window.width <= w && window.y + window.height <= h, 'window ends outside the image');
        check(window.x + keep.x === core.x && window.y + keep.y === core.y, 'keep does not locate the core');
        check(keep.x === Math.min(padding, core.x) && keep.y === Math.min(padding, core.y), 'wrong context before the core');
        check(window.width - keep.x - keep.width >= Math.min(padding, w - core.x - core.width), 'too little context right of the core');
        check(window.height - keep.y - keep.height >= Math.min(padding, h - core.y - core.height), 'too little context below the core');
      });
    }
    expect(problems.slice(0, 10)).toEqual([]);
    // The point of it: a single-tile image computes no padding at all.
    expect(planTiles(256, 200, { tileSize: 256, padding: 10, multipleOf: 1, edges: 'clip' }).tiles[0]!.window).toEqual({ x: 0, y: 0, width: 256, height: 200 });
  });

  it('gives an image smaller than a tile one tile, and balances cores', () => {
    const small = planTiles(5, 3, { tileSize: 64, padding: 4, multipleOf: 8 });
    expect(small.tiles).toHaveLength(1);
    expect(small.tiles[0]!.window).toEqual({ x: -4, y: -4, width: 16, height: 16 });
    const balanced = planTiles(130, 10, { tileSize: 64, padding: 0, multipleOf: 1 });
    expect(balanced.tiles.map((t) => t.core.width)).toEqual([44, 43, 43]);
  });

  it('rejects non-integer or non-positive parameters', () => {
    expect(() => planTiles(0, 5, { tileSize: 4, padding: 0, multipleOf: 1 })).toThrow(/width/);
    expect(() => planTiles(5, 5, { tileSize: 4.5, padding: 0, multipleOf: 1 })).toThrow(/tileSize/);
    expect(() => planTiles(5, 5, { tileSize: 4, padding: -1, multipleOf: 1 })).toThrow(/padding/);
    expect(() => planTiles(5, 5, { tileSize: 4, padding: 0, multipleOf: 0 })).toThrow(/multipleOf/);
  });
});

describe('extractWindow', () => {
  it('copies inside pixels, mirrors outside ones, and applies the transform', () => {
    // 3x2 image, 1 channel: values 0..5
    const src = Uint8Array.from([0, 1, 2, 3, 4, 5]);
    const win = extractWindow(src, 3, 2, 1, { x: -1, y: -1, width: 5, height: 4 }, { scale: 2, offset: 1 });
    // rows -1, 0, 1, 2 -> source rows 1, 0, 1, 0; columns -1..3 -> 1, 0, 1, 2, 1
    const expected = [
      [4, 3, 4, 5, 4],
      [1, 0, 1, 2, 1],
      [4, 3, 4, 5, 4],
      [1, 0, 1, 2, 1],
    ]
      .flat()
      .map((v) => v * 2 + 1);
    expect(Array.from(win)).toEqual(expected);
  });

  it('keeps channels interleaved', () => {
    const src = Uint8Array.from([1, 2, 3, 4, 5, 6]); // 2x1, 3 channels
    expect(Array.from(extractWindow(src, 2, 1, 3, { x: 1, y: 0, width: 2, height: 1 }))).toEqual([4, 5, 6, 1, 2, 3]);
  });
});

describe('TileStitcher', () => {
  /** Tiles every shape and scale with `plan`, and compares with `expected` (the whole-image result). */
  function checkTiledEqualsWhole(
    plan: (w: number, h: number, tileSize: number) => TilePlan,
    expected: (src: Float32Array, w: number, h: number, channels: number, scale: number) => Float32Array,
  ): number {
    let checked = 0;
    for (const w of [1, 2, 5, 17, 31])
      for (const h of [1, 3, 16, 33])
        for (const tileSize of [1, 4, 16])
          for (const scale of [1, 2, 4]) {
            const channels = scale === 2 ? 1 : 3;
            const src = image(w, h, channels, w * 100 + h);
            const tiled = runTiled(plan(w, h, tileSize), src, channels, scale, 'crop');
            const whole = expected(src, w, h, channels, scale);
            let worst = 0;
            for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs(tiled[i]! - whole[i]!));
            expect(worst, `${w}x${h} tile ${tileSize} x${scale}`).toBeLessThan(1e-6);
            checked++;
          }
    return checked;
  }

  it('crop: tiled == whole-image result for a local filter, at scales 1, 2 and 4, all shapes', () => {
    const checked = checkTiledEqualsWhole((w, h, tileSize) => planTiles(w, h, { tileSize, padding: 2, multipleOf: 4 }), reference);
    expect(checked).toBe(5 * 4 * 3 * 3);
  });

  it('crop with clip edges: tiled == one run of the model over the whole image as it is', () => {
    const checked = checkTiledEqualsWhole((w, h, tileSize) => planTiles(w, h, { tileSize, padding: 2, multipleOf: 1, edges: 'clip' }), boxThenNearest);
    expect(checked).toBe(5 * 4 * 3 * 3);
    // ...and differs from the mirrored plan's result at the edges (the test can tell them apart).
    const src = image(17, 16, 3, 9);
    const mirrored = runTiled(planTiles(17, 16, { tileSize: 4, padding: 2, multipleOf: 1 }), src, 3, 1, 'crop');
    expect(Math.max(...Array.from(boxThenNearest(src, 17, 16, 3, 1), (v, i) => Math.abs(v - mirrored[i]!)))).toBeGreaterThan(1e-3);
  });

  it('crop: detects padding smaller than the receptive field (the test can fail)', () => {
    const src = image(20, 20, 1, 3);
    const plan = planTiles(20, 20, { tileSize: 8, padding: 0, multipleOf: 1 });
    const tiled = runTiled(plan, src, 1, 1, 'crop');
    const expected = reference(src, 20, 20, 1, 1);
    const worst = Math.max(...Array.from(expected, (v, i) => Math.abs(v - tiled[i]!)));
    expect(worst).toBeGreaterThan(1e-3);
  });

  it('feather: equals crop when tiles agree, and blends disagreeing tiles with weights summing to 1', () => {
    const w = 37;
    const h = 23;
    const src = image(w, h, 3, 9);
    const plan = planTiles(w, h, { tileSize: 10, padding: 4, multipleOf: 2 });
    for (const scale of [1, 2]) {
      const crop = runTiled(plan, src, 3, scale, 'crop');
      const feather = runTiled(plan, src, 3, scale, 'feather');
      const worst = Math.max(...Array.from(crop, (v, i) => Math.abs(v - feather[i]!)));
      expect(worst).toBeLessThan(1e-5);
    }
    // Every tile outputs a constant: its column index. Feathered, the output stays in [0, columns-1],
    // equals the column away from seams and ramps monotonically across them.
    const scale = 2;
    const target = new Float32Array(w * scale * h * scale);
    const stitcher = new TileStitcher(plan, { scale, channels: 1, blend: 'feather', feather: 3 }, target);
    for (const tile of plan.tiles) {
      stitcher.place(tile, new Float32Array(tile.window.width * scale * tile.window.height * scale).fill(tile.column));
    }
    stitcher.finish();
    const row = Array.from(target.subarray(5 * w * scale, 6 * w * scale));
    for (let x = 1; x < row.length; x++) expect(row[x]!).toBeGreaterThanOrEqual(row[x - 1]! - 1e-6);
    expect(row[0]).toBeCloseTo(0, 6);
    expect(row[row.length - 1]).toBeCloseTo(plan.columns - 1, 6);
    const firstSeam = plan.tiles[1]!.core.x * scale;
    expect(row[firstSeam - 1]!).toBeGreaterThan(0.3);
    expect(row[firstSeam - 1]!).toBeLessThan(0.7);
    expect(row[firstSeam - 3 * scale - 1]).toBeCloseTo(0, 6);
    expect(row[firstSeam + 3 * scale]).toBeCloseTo(1, 6);
  });

  it('writes bytes through the transform (rounding and clipping via Uint8ClampedArray)', () => {
    const plan = planTiles(4, 4, { tileSize: 2, padding: 1, multipleOf: 1 });
    const target = new Uint8ClampedArray(4 * 4);
    const stitcher = new TileStitcher(plan, { scale: 1, channels: 1 }, target, (v) => v * 255);
    for (const tile of plan.tiles) {
      stitcher.place(tile, new Float32Array(tile.window.width * tile.window.height).fill(tile.index === 0 ? 1.5 : 0.5));
    }
    stitcher.finish();
    expect(target[0]).toBe(255);
    expect(target[15]).toBe(128);
  });

  it('rejects wrong output sizes, double placement and finishing early', () => {
    const plan = planTiles(4, 4, { tileSize: 2, padding: 0, multipleOf: 1 });
    const stitcher = new TileStitcher(plan, { scale: 2, channels: 1 }, new Float32Array(64));
    expect(() => stitcher.place(plan.tiles[0]!, new Float32Array(4))).toThrow(/expected/);
    stitcher.place(plan.tiles[0]!, new Float32Array(16));
    expect(() => stitcher.place(plan.tiles[0]!, new Float32Array(16))).toThrow(/twice/);
    expect(() => stitcher.finish()).toThrow(/1 of 4/);
    expect(() => new TileStitcher(plan, { scale: 2, channels: 1 }, new Float32Array(10))).toThrow(/needs/);
  });
});
