/**
 * sRGB (D65) <-> CIE L*a*b* on plain typed arrays. Colorization predicts a*b* from L*, so the
 * conversion must invert exactly: an 8-bit colour survives RGB -> Lab -> RGB unchanged.
 *
 * Intermediates are doubles; only results are stored as float32.
 */

// D65 reference white (2 degree observer), normalised to Y = 1.
const XN = 0.95047;
const YN = 1.0;
const ZN = 1.08883;

// Linear sRGB -> XYZ (IEC 61966-2-1) and its exact inverse, so that the round trip closes.
const M = [
  [0.4124564, 0.3575761, 0.1804375],
  [0.2126729, 0.7151522, 0.072175],
  [0.0193339, 0.119192, 0.9503041],
] as const;
const M_INV = invert3(M);
// Unpacked so the per-pixel loop reads plain numbers.
const [[M_INV_00, M_INV_01, M_INV_02], [M_INV_10, M_INV_11, M_INV_12], [M_INV_20, M_INV_21, M_INV_22]] = M_INV as [
  [number, number, number],
  [number, number, number],
  [number, number, number],
];

const EPSILON = 216 / 24389; // (6/29)^3
const KAPPA = 24389 / 27; // (29/3)^3

function invert3(m: readonly (readonly number[])[]): number[][] {
  const [a, b, c] = m[0] as [number, number, number];
  const [d, e, f] = m[1] as [number, number, number];
  const [g, h, i] = m[2] as [number, number, number];
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

// 8-bit inputs dominate; a table avoids 3 pow() per pixel.
const LINEAR_FROM_BYTE = new Float64Array(256).map((_, v) => srgbToLinear(v / 255));

function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

function f(t: number): number {
  return t > EPSILON ? Math.cbrt(t) : (KAPPA * t + 16) / 116;
}

function fInv(t: number): number {
  const t3 = t * t * t;
  return t3 > EPSILON ? t3 : (116 * t - 16) / KAPPA;
}

function linearOf(rgb: Uint8Array | Uint8ClampedArray | Float32Array, index: number): number {
  const v = rgb[index]!;
  if (rgb instanceof Float32Array) return srgbToLinear(Math.min(255, Math.max(0, v)) / 255);
  return LINEAR_FROM_BYTE[v]!;
}

function checkLength(name: string, array: ArrayLike<number>, n: number, channels: number): void {
  if (array.length < n * channels) {
    throw new Error(`${name}: ${array.length} values cannot hold ${n} pixels x ${channels} channels`);
  }
}

/**
 * Interleaved sRGB (0..255, 3 per pixel) to interleaved Lab: L* in [0, 100], a* and b* in about
 * [-128, 127]. `n` defaults to every whole pixel in `rgb`.
 */
export function rgbToLab(rgb: Uint8Array | Uint8ClampedArray | Float32Array, n = Math.floor(rgb.length / 3)): Float32Array {
  checkLength('rgbToLab', rgb, n, 3);
  const lab = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const r = linearOf(rgb, i * 3);
    const g = linearOf(rgb, i * 3 + 1);
    const b = linearOf(rgb, i * 3 + 2);
    const fx = f((M[0][0] * r + M[0][1] * g + M[0][2] * b) / XN);
    const fy = f((M[1][0] * r + M[1][1] * g + M[1][2] * b) / YN);
    const fz = f((M[2][0] * r + M[2][1] * g + M[2][2] * b) / ZN);
    lab[i * 3] = 116 * fy - 16;
    lab[i * 3 + 1] = 500 * (fx - fy);
    lab[i * 3 + 2] = 200 * (fy - fz);
  }
  return lab;
}

/**
 * L* alone (one value per pixel, [0, 100]) from interleaved sRGB 0..255: the colorizer's input.
 * Equals the L channel of {@link rgbToLab}.
 */
export function rgbToL(rgb: Uint8Array | Uint8ClampedArray | Float32Array, n = Math.floor(rgb.length / 3)): Float32Array {
  checkLength('rgbToL', rgb, n, 3);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const y = M[1][0] * linearOf(rgb, i * 3) + M[1][1] * linearOf(rgb, i * 3 + 1) + M[1][2] * linearOf(rgb, i * 3 + 2);
    out[i] = 116 * f(y / YN) - 16;
  }
  return out;
}

/**
 * Interleaved Lab (L* [0, 100], a*, b*) to interleaved sRGB 0..255, rounded and clipped: colours
 * outside the sRGB gamut (which a predicted a*b* easily is) are clipped per channel.
 */
export function labToRgb(lab: Float32Array, n = Math.floor(lab.length / 3)): Uint8ClampedArray {
  checkLength('labToRgb', lab, n, 3);
  const rgb = new Uint8ClampedArray(n * 3);
  for (let i = 0; i < n; i++) {
    writeRgb(rgb, i, lab[i * 3]!, lab[i * 3 + 1]!, lab[i * 3 + 2]!);
  }
  return rgb;
}

/**
 * The colorizer's merge: L* planar (one per pixel) plus a*b* interleaved (two per pixel) to
 * interleaved sRGB 0..255, without building an interleaved Lab array.
 */
export function lAbToRgb(l: Float32Array, ab: Float32Array, n = l.length): Uint8ClampedArray {
  checkLength('lAbToRgb (L)', l, n, 1);
  checkLength('lAbToRgb (ab)', ab, n, 2);
  const rgb = new Uint8ClampedArray(n * 3);
  for (let i = 0; i < n; i++) writeRgb(rgb, i, l[i]!, ab[i * 2]!, ab[i * 2 + 1]!);
  return rgb;
}

// Linear-light values at which the rounded 8-bit sRGB code steps up: code v is the number of
// thresholds <= the value. A binary search over them rounds exactly like
// round(255 * linearToSrgb(v)), without a pow() per channel (the merge runs on every output pixel).
const BYTE_THRESHOLDS = new Float64Array(255).map((_, v) => srgbToLinear((v + 0.5) / 255));

function linearToByte(linear: number): number {
  if (!(linear >= BYTE_THRESHOLDS[0]!)) return 0; // also NaN
  let lo = 1;
  let hi = 255;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (linear >= BYTE_THRESHOLDS[mid - 1]!) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function writeRgb(out: Uint8ClampedArray, i: number, L: number, a: number, b: number): void {
  const fy = (L + 16) / 116;
  const x = XN * fInv(fy + a / 500);
  const y = YN * (L > KAPPA * EPSILON ? fy * fy * fy : L / KAPPA);
  const z = ZN * fInv(fy - b / 200);
  out[i * 3] = linearToByte(M_INV_00 * x + M_INV_01 * y + M_INV_02 * z);
  out[i * 3 + 1] = linearToByte(M_INV_10 * x + M_INV_11 * y + M_INV_12 * z);
  out[i * 3 + 2] = linearToByte(M_INV_20 * x + M_INV_21 * y + M_INV_22 * z);
}
