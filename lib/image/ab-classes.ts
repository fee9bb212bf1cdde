/**
 * Colour as classes (Zhang, Isola and Efros 2016, "Colorful Image Colorization"): the a*b* plane cut
 * into square bins, keeping the bins sRGB colours fall in, and the class-rebalancing weights that
 * stop the frequent desaturated bins from dominating the loss. A regression loss (L1, L2) on a*b*
 * predicts the cautious average of the plausible colours; a distribution over bins can be
 * decoded more vividly (the annealed mean) and its loss can be reweighted towards rare colours.
 */
import { rgbToLab } from './lab';

/** Bin centres on an a*b* grid of `grid` units: the bins that some 8-bit sRGB colour falls in. */
export interface AbBins {
  grid: number;
  /** Flat [a0, b0, a1, b1, ...] in a*b* units, sorted by a then b. */
  centres: Float32Array;
  count: number;
  /** Bin of each occupied grid cell, keyed by {@link cellKey}. */
  cells: Map<number, number>;
}

function gridOf(centres: ArrayLike<number>): number {
  const values = [...new Set(Array.from({ length: centres.length / 2 }, (_, q) => centres[q * 2]!))].sort((x, y) => x - y);
  const steps = values.slice(1).map((v, i) => v - values[i]!);
  if (steps.length === 0) throw new Error('abBinsFrom: the centres do not show their grid');
  return Math.min(...steps);
}

// a*b* stay within about +-128, so grid indices fit in 10 bits each.
const cellKey = (ia: number, ib: number) => (ia + 512) * 1024 + (ib + 512);

/**
 * Bins from their centres (as a class head's config stores them), on a grid of `grid` units; by
 * default the grid is read off the centres (the smallest step between distinct a* values).
 */
export function abBinsFrom(centres: ArrayLike<number>, grid = gridOf(centres)): AbBins {
  const cells = new Map<number, number>();
  const count = centres.length / 2;
  for (let q = 0; q < count; q++) cells.set(cellKey(Math.round(centres[q * 2]! / grid), Math.round(centres[q * 2 + 1]! / grid)), q);
  return { grid, centres: Float32Array.from(centres), count, cells };
}

/**
 * The in-gamut bins of an a*b* grid of spacing `grid` (Zhang et al.: 10, which gives 313 bins for
 * their gamut). A bin is in gamut when some sRGB colour (sampled every 4 levels per channel, plus
 * the cube's faces at every level) has its a*b* inside it.
 */
export function abGamutBins(grid = 10): AbBins {
  // Half a second of Lab conversions per grid: every U-Net build with a class head asks again.
  let bins = gamutCache.get(grid);
  if (!bins) {
    bins = computeGamutBins(grid);
    gamutCache.set(grid, bins);
  }
  return bins;
}

const gamutCache = new Map<number, AbBins>();

function computeGamutBins(grid: number): AbBins {
  const seen = new Set<number>();
  const colours: number[] = [];
  const levels = (step: number) => {
    const out: number[] = [];
    for (let v = 0; v < 256; v += step) out.push(v);
    if (out[out.length - 1] !== 255) out.push(255);
    return out;
  };
  // The gamut's a*b* extremes lie on the cube's faces (a channel at 0 or 255), so sample those finely.
  for (const r of levels(4)) for (const g of levels(4)) for (const b of levels(4)) colours.push(r, g, b);
  for (const u of levels(1)) {
    for (const v of levels(1)) {
      for (const fixed of [0, 255]) colours.push(fixed, u, v, u, fixed, v, u, v, fixed);
    }
  }
  const lab = rgbToLab(new Float32Array(colours));
  const bins: [number, number][] = [];
  for (let i = 0; i < lab.length; i += 3) {
    const ia = Math.round(lab[i + 1]! / grid);
    const ib = Math.round(lab[i + 2]! / grid);
    const key = cellKey(ia, ib);
    if (seen.has(key)) continue;
    seen.add(key);
    bins.push([ia, ib]);
  }
  bins.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  return abBinsFrom(bins.flatMap(([ia, ib]) => [ia * grid, ib * grid]), grid);
}

/** Index of the bin whose centre is nearest to (a, b). */
export function nearestBin(bins: AbBins, a: number, b: number): number {
  // Inside the gamut the grid cell is the answer; off it (rare), the nearest centre.
  const cell = bins.cells.get(cellKey(Math.round(a / bins.grid), Math.round(b / bins.grid)));
  if (cell !== undefined) return cell;
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let q = 0; q < bins.count; q++) {
    const da = bins.centres[q * 2]! - a;
    const db = bins.centres[q * 2 + 1]! - b;
    const d = da * da + db * db;
    if (d < bestDistance) {
      bestDistance = d;
      best = q;
    }
  }
  return best;
}

/**
 * The empirical distribution of colours over the bins: each a*b* pair (flat [a, b, ...], a*b*
 * units) counts for its nearest bin; then smoothed with a Gaussian of `sigma` a*b* units over bin
 * centres (Zhang et al.: 5). Sums to 1.
 */
export function abPrior(bins: AbBins, ab: Float32Array[], sigma = 5): Float32Array {
  const counts = new Float64Array(bins.count);
  let total = 0;
  for (const values of ab) {
    for (let i = 0; i < values.length; i += 2) {
      counts[nearestBin(bins, values[i]!, values[i + 1]!)]! += 1;
      total++;
    }
  }
  if (total === 0) throw new Error('abPrior: no colours to count');
  const smoothed = new Float64Array(bins.count);
  for (let q = 0; q < bins.count; q++) {
    for (let r = 0; r < bins.count; r++) {
      if (counts[r] === 0) continue;
      const da = bins.centres[q * 2]! - bins.centres[r * 2]!;
      const db = bins.centres[q * 2 + 1]! - bins.centres[r * 2 + 1]!;
      smoothed[q]! += counts[r]! * Math.exp(-(da * da + db * db) / (2 * sigma * sigma));
    }
  }
  const sum = smoothed.reduce((s, v) => s + v, 0);
  return Float32Array.from(smoothed, (v) => v / sum);
}

/**
 * Class-rebalancing weights (Zhang et al., eq. 4): w proportional to 1 / ((1 - lambda) p + lambda / Q),
 * scaled so that their expectation under `prior` is 1. lambda = 1 weighs every bin equally (no
 * rebalancing); lambda = 0 weighs each bin by its inverse frequency; Zhang et al. use 0.5.
 */
export function rebalancingWeights(prior: Float32Array, lambda = 0.5): Float32Array {
  if (!(lambda >= 0 && lambda <= 1)) throw new Error(`rebalancingWeights: lambda must be in [0, 1], not ${lambda}`);
  const q = prior.length;
  // A floor, so lambda = 0 over an empty bin stays finite.
  const raw = Float64Array.from(prior, (p) => 1 / Math.max((1 - lambda) * p + lambda / q, 1e-12));
  let expectation = 0;
  for (let i = 0; i < q; i++) expectation += prior[i]! * raw[i]!;
  return Float32Array.from(raw, (w) => w / expectation);
}

/** Std of the Gaussian that spreads a true a*b* over nearby bins (Zhang et al.: 5 a*b* units). */
export const SOFT_TARGET_SIGMA = 5;

/** Bins 5 sigma further than the nearest one (exp(-12.5): under 4e-6 of its share) get 0. */
const CUTOFF_EXPONENT = 12.5;

const neighbourCache = new WeakMap<AbBins, { lists: number[][]; withinCell: number }>();

/**
 * For each bin, the bins that can get a non-zero share of a colour whose nearest bin it is, when
 * the colour lies within its grid cell (`withinCell` of its centre): d^2 < dNearest^2 + 2 sigma^2
 * CUTOFF bounds d, so |c - home| < sqrt(2 sigma^2 CUTOFF + withinCell^2) + withinCell.
 */
function neighbourLists(bins: AbBins): { lists: number[][]; withinCell: number } {
  const cached = neighbourCache.get(bins);
  if (cached) return cached;
  const withinCell = (bins.grid * Math.SQRT2) / 2;
  const reach = Math.sqrt(2 * SOFT_TARGET_SIGMA ** 2 * CUTOFF_EXPONENT + withinCell ** 2) + withinCell;
  const lists = Array.from({ length: bins.count }, (_, home) => {
    const list: number[] = [];
    for (let c = 0; c < bins.count; c++) {
      const d = Math.hypot(bins.centres[c * 2]! - bins.centres[home * 2]!, bins.centres[c * 2 + 1]! - bins.centres[home * 2 + 1]!);
      if (d < reach) list.push(c);
    }
    return list;
  });
  const result = { lists, withinCell };
  neighbourCache.set(bins, result);
  return result;
}

/**
 * Soft class targets for a batch (Zhang et al. 2016, section 2.1): `ab` (`[N, H, W, 2]` flat, a*b*
 * units) area-averaged over `factor` x `factor` blocks to the logits' grid, then each pixel's a*b*
 * spread over the bins with a Gaussian of {@link SOFT_TARGET_SIGMA} and normalised (bins more than
 * 5 sigma further than the nearest one, whose share would be under 4e-6, get 0). Returns the
 * targets (`[P, Q]` flat, P = N * H/factor * W/factor, rows sum to 1) and each pixel's rebalancing
 * weight under its target (`[P]`: sum over q of target * `binWeights[q]`).
 */
export function softColourTargets(
  ab: Float32Array,
  shape: { n: number; height: number; width: number },
  factor: number,
  bins: AbBins,
  binWeights: Float32Array,
): { targets: Float32Array; pixelWeights: Float32Array } {
  const { n, height, width } = shape;
  if (height % factor !== 0 || width % factor !== 0) throw new Error(`softColourTargets: ${width}x${height} is not a multiple of ${factor}`);
  const [h, w, q] = [height / factor, width / factor, bins.count];
  const pixels = n * h * w;
  const targets = new Float32Array(pixels * q);
  const pixelWeights = new Float32Array(pixels);
  const spread = new Float64Array(q);
  const inverseTwoSigmaSquared = 1 / (2 * SOFT_TARGET_SIGMA * SOFT_TARGET_SIGMA);
  const { lists, withinCell } = neighbourLists(bins);
  const everyBin = Array.from({ length: q }, (_, c) => c);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let a = 0;
        let b = 0;
        for (let dy = 0; dy < factor; dy++) {
          let k = ((i * height + y * factor + dy) * width + x * factor) * 2;
          for (let dx = 0; dx < factor; dx++, k += 2) {
            a += ab[k]!;
            b += ab[k + 1]!;
          }
        }
        a /= factor * factor;
        b /= factor * factor;
        const home = nearestBin(bins, a, b);
        const offset = Math.hypot(bins.centres[home * 2]! - a, bins.centres[home * 2 + 1]! - b);
        const candidates = offset <= withinCell ? lists[home]! : everyBin;
        // Relative to the nearest bin, so a colour off every bin never underflows to all zeros.
        let nearest = Number.POSITIVE_INFINITY;
        for (const c of candidates) {
          const da = bins.centres[c * 2]! - a;
          const db = bins.centres[c * 2 + 1]! - b;
          spread[c] = da * da + db * db;
          if (spread[c]! < nearest) nearest = spread[c]!;
        }
        let sum = 0;
        for (const c of candidates) {
          const exponent = (nearest - spread[c]!) * inverseTwoSigmaSquared;
          spread[c] = exponent < -CUTOFF_EXPONENT ? 0 : Math.exp(exponent);
          sum += spread[c]!;
        }
        const p = (i * h + y) * w + x;
        let weight = 0;
        for (const c of candidates) {
          if (spread[c] === 0) continue;
          const t = spread[c]! / sum;
          targets[p * q + c] = t;
          weight += t * binWeights[c]!;
        }
        pixelWeights[p] = weight;
      }
    }
  }
  return { targets, pixelWeights };
}
