/**
 * Helpers for the kernel tests: run the same computation on `wasm` (our kernels) and `cpu` (the
 * reference) and compare. Not a test file itself.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { initBackend } from '../backend';

/** Initialises wasm (which registers our kernels); the cpu backend is registered alongside. */
export async function initKernelTestBackends(): Promise<void> {
  await initBackend('wasm');
  await tf.setBackend('wasm');
}

/** Deterministic PRNG (mulberry32) so failing shapes can be reproduced. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [lo, hi]. */
export function randomInt(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

/** Standard-normal values (Box-Muller), as plain data so each backend builds its own tensor. */
export function randomValues(random: () => number, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = Math.max(random(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return out;
}

/** Runs `fn` with `backend` active and returns the values of its result. */
export async function valuesOn(backend: 'wasm' | 'cpu', fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const result = tf.tidy(fn);
    const list = Array.isArray(result) ? result : [result];
    const values = list.map((t) => t.dataSync() as Float32Array);
    tf.dispose(list);
    return values;
  } finally {
    await tf.setBackend(previous);
  }
}

/** ||a - b|| / ||b|| (0 when both are zero); throws on length mismatch. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    norm += b[i]! ** 2;
  }
  if (norm === 0) return Math.sqrt(diff);
  return Math.sqrt(diff / norm);
}

/** One forward convolution's geometry; the backprop kernels are checked over many of these. */
export interface ConvCase {
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number;
}

/**
 * Random convolution geometries: stride 1 and 2, padding same/valid/explicit, odd and even sizes,
 * batch 1-4, channels 1-64, kernels 3x3 and 4x4 (plus 1x1 and non-square), with the work capped so
 * the cpu reference stays quick.
 */
export function randomConvCases(seed: number, count: number): ConvCase[] {
  const random = seededRandom(seed);
  const channelChoices = [1, 2, 3, 4, 7, 8, 16, 32, 64];
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const cases: ConvCase[] = [];
  while (cases.length < count) {
    const kh = pick([3, 3, 4, 4, 1, 2, 5]);
    const kw = random() < 0.85 ? kh : pick([1, 3, 4]);
    const stride = pick([1, 2, 2]);
    const strides: number | [number, number] = random() < 0.9 ? stride : [stride, 3 - stride];
    const pad = pick(['same', 'same', 'valid', 1] as const);
    const n = randomInt(random, 1, 4);
    const h = randomInt(random, Math.max(kh, 1), 19);
    const w = random() < 0.7 ? h : randomInt(random, Math.max(kw, 1), 19);
    let c = pick(channelChoices);
    let f = pick(channelChoices);
    // The cpu reference is a scalar loop: keep each case to a few MFLOP.
    while (n * h * w * c * f * kh * kw > 3e6 && (c > 1 || f > 1)) {
      if (c >= f) c = Math.max(1, c >> 1);
      else f = Math.max(1, f >> 1);
    }
    cases.push({ xShape: [n, h, w, c], filterShape: [kh, kw, c, f], strides, pad });
  }
  return cases;
}

/** Layer shapes like the project's U-Net/PatchGAN (4x4 stride 2 'same'), kept small for the cpu reference. */
export const UNET_LIKE_CASES: ConvCase[] = [
  { xShape: [4, 16, 16, 3], filterShape: [4, 4, 3, 32], strides: 2, pad: 'same' },
  { xShape: [2, 16, 16, 32], filterShape: [4, 4, 32, 64], strides: 2, pad: 'same' },
  { xShape: [1, 8, 8, 64], filterShape: [4, 4, 64, 64], strides: 2, pad: 'same' },
  { xShape: [4, 2, 2, 64], filterShape: [4, 4, 64, 64], strides: 2, pad: 'same' },
  { xShape: [3, 9, 9, 16], filterShape: [4, 4, 16, 1], strides: 1, pad: 'valid' },
  { xShape: [2, 12, 12, 8], filterShape: [3, 3, 8, 8], strides: 1, pad: 'same' },
];

export function describeCase(c: ConvCase): string {
  return `x=${c.xShape} w=${c.filterShape} s=${c.strides} pad=${c.pad}`;
}
