/**
 * Faster `Conv2DBackpropInput` for the wasm backend. The shipped kernel is a scalar loop (~1-3
 * GFLOP/s); it is both the input gradient of every conv2d and the forward pass of every
 * conv2dTranspose (the whole U-Net decoder).
 *
 * A transposed convolution with stride s splits into s*s stride-1 convolutions, one per output
 * "phase" (output rows i with i mod s = r, columns likewise): phase outputs read dy through the
 * filter taps kh ≡ (r + padTop) (mod s) only, flipped and with in/out channels swapped. Each phase
 * is an ordinary Conv2D run by XNNPACK; concat + reshape interleave the phases. Stride 1 is the single
 * phase case. The arithmetic matches the direct sum exactly (same products, only the summation order
 * differs).
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropInputAttrs, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs-core';
import { asTensor, installWasmKernel, runOriginalWasmKernel } from './install';
import { activeWasmBackend, newWasmTensor } from './heap';
import { cropOrPad } from './spatial';

/** How one output phase (rows ≡ r mod stride) reads dy along one spatial axis. */
interface AxisPhase {
  /** First filter tap (in the flipped filter) of this phase's sub-filter. */
  firstTap: number;
  /** Number of taps in the sub-filter: ceil((K - tap0) / s). */
  taps: number;
  /** Rows of dy to add (positive) or remove (negative) before / after, for a 'valid' conv. */
  before: number;
  after: number;
}

/**
 * For output index i = s*q + r (q in [0, outPerPhase)), the direct transposed conv sums
 * dy[(i + pad - k) / s] * W[k] over taps k ≡ (r + pad) mod s. Writing k = k0 + s*m and flipping m
 * turns it into a correlation of dy (shifted by `before`) with the sub-filter of the flipped filter
 * starting at `firstTap` with stride s.
 */
function axisPhase(r: number, stride: number, kernel: number, pad: number, dyLength: number, outPerPhase: number): AxisPhase {
  const k0 = (((r + pad) % stride) + stride) % stride;
  const taps = Math.ceil((kernel - k0) / stride);
  const shift = Math.floor((r + pad) / stride);
  const before = taps - 1 - shift;
  const after = outPerPhase + taps - 1 - dyLength - before;
  // Flipped filter index of W[k0 + s*(taps-1)], the sub-filter's first (flipped) tap.
  const firstTap = kernel - 1 - (k0 + stride * (taps - 1));
  return { firstTap, taps, before, after };
}

/**
 * dx of a 2-D convolution (dilation 1) = the transposed convolution of dy, NHWC.
 * @param dy [N, OH, OW, F] gradient of the forward output
 * @param filter [KH, KW, C, F] forward filter
 * @returns dx [N, H, W, C] = attrs.inputShape, or null when this geometry is not handled here
 */
export function conv2dBackpropInputViaPhases(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  attrs: Conv2DBackpropInputAttrs,
): tf.Tensor4D | null {
  if (attrs.dataFormat === 'NCHW' || dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, batchSize, inChannels } = info;
  if (dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[0] !== batchSize) return null;
  const rowsPerPhase = Math.ceil(h / sh);
  const colsPerPhase = Math.ceil(w / sw);
  const rowPhases = range(sh).map((r) => axisPhase(r, sh, kh, info.padInfo.top, oh, rowsPerPhase));
  const colPhases = range(sw).map((r) => axisPhase(r, sw, kw, info.padInfo.left, ow, colsPerPhase));
  if (batchSize * rowsPerPhase * colsPerPhase <= smallPhasePixels) {
    return tf.tidy(() => phasesAsMatMuls(dy, filter, [batchSize, h, w, inChannels], rowPhases, colPhases));
  }
  return tf.tidy(() => {
    const subFilters = phaseSubFilters(filter, rowPhases, colPhases, sh, sw);
    const phaseRows: tf.Tensor[] = [];
    for (let rRow = 0; rRow < sh; rRow++) {
      const phaseCols: tf.Tensor4D[] = [];
      for (let rCol = 0; rCol < sw; rCol++) {
        const outShape: [number, number, number, number] = [batchSize, rowsPerPhase, colsPerPhase, inChannels];
        const subFilter = subFilters[rRow * sw + rCol];
        phaseCols.push(
          subFilter ? phaseConv(dy, subFilter, rowPhases[rRow]!, colPhases[rCol]!, outShape) : tf.zeros(outShape),
        );
      }
      // Columns interleave: [N, Q, P, sw*C] -> [N, Q, P*sw, C] puts phase rCol at column p*sw + rCol.
      const cols = phaseCols.length === 1 ? phaseCols[0]! : tf.concat(phaseCols, 3);
      phaseRows.push(tf.reshape(cols, [batchSize, rowsPerPhase, colsPerPhase * sw * inChannels]));
    }
    // Rows interleave the same way: [N, Q, sh*W'*C] -> [N, Q*sh, W', C].
    const rows = phaseRows.length === 1 ? phaseRows[0]! : tf.concat(phaseRows, 2);
    let dx = tf.reshape(rows, [batchSize, rowsPerPhase * sh, colsPerPhase * sw, inChannels]) as tf.Tensor4D;
    if (dx.shape[1] !== h || dx.shape[2] !== w) dx = tf.slice(dx, [0, 0, 0, 0], [batchSize, h, w, inChannels]);
    return dx;
  });
}

/**
 * Up to this many output pixels per phase, phases run as matMuls instead of Conv2Ds. XNNPACK packs a
 * conv's filter on every call with a new filter (~20 ns per weight, more than the arithmetic when
 * the image is tiny: the innermost U-Net layers are 1x1 to 4x4). As a matMul the big operand is
 * the filter, streamed as rows, and only the small im2col matrix gets packed.
 */
let smallPhasePixels = 64;

/** Overrides the matMul/Conv2D switch-over (tests and benchmarks drive both paths); returns the old value. */
export function setSmallPhasePixels(pixels: number): number {
  const previous = smallPhasePixels;
  smallPhasePixels = pixels;
  return previous;
}

/**
 * Transposed convolution for tiny outputs: per phase, out[c, pixel] = A[c, (mh,mw,f)] . B[(mh,mw,f), pixel]
 * with A gathered from the filter as whole F-long rows and B the zero-padded im2col of dy; the
 * phase outputs are then scattered into dx. Shapes as {@link conv2dBackpropInputViaPhases}.
 */
function phasesAsMatMuls(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  dxShape: [number, number, number, number],
  rowPhases: AxisPhase[],
  colPhases: AxisPhase[],
): tf.Tensor4D {
  const [n, h, w, c] = dxShape;
  const [, dyRows, dyCols, f] = dy.shape;
  const [kh, kw] = filter.shape;
  const sh = rowPhases.length;
  const sw = colPhases.length;
  const rowsPerPhase = Math.ceil(h / sh);
  const colsPerPhase = Math.ceil(w / sw);
  const pixels = n * rowsPerPhase * colsPerPhase;
  const backend = activeWasmBackend();
  const phaseOutputs: (tf.Tensor2D | undefined)[] = [];
  for (const row of rowPhases) {
    for (const col of colPhases) {
      if (row.taps <= 0 || col.taps <= 0) {
        phaseOutputs.push(undefined);
        continue;
      }
      const depth = row.taps * col.taps * f;
      const a = newWasmTensor<tf.Rank.R2>(backend, [c, depth], 'float32');
      const b = newWasmTensor<tf.Rank.R2>(backend, [depth, pixels], 'float32');
      const w4 = backend.typedArrayFromHeap(filter);
      const dyValues = backend.typedArrayFromHeap(dy);
      const aValues = backend.typedArrayFromHeap(a);
      const bValues = backend.typedArrayFromHeap(b);
      for (let m = 0; m < row.taps; m++) {
        const tapRow = kh - 1 - (row.firstTap + sh * m);
        for (let t = 0; t < col.taps; t++) {
          const tapCol = kw - 1 - (col.firstTap + sw * t);
          const tap = m * col.taps + t;
          for (let ch = 0; ch < c; ch++) {
            const from = ((tapRow * kw + tapCol) * c + ch) * f;
            aValues.set(w4.subarray(from, from + f), ch * depth + tap * f);
          }
          // B rows (tap, 0..F) over pixels (image, q, p); dy outside its bounds is the zero padding.
          for (let image = 0; image < n; image++) {
            for (let q = 0; q < rowsPerPhase; q++) {
              const y = q + m - row.before;
              for (let p = 0; p < colsPerPhase; p++) {
                const x = p + t - col.before;
                const pixel = (image * rowsPerPhase + q) * colsPerPhase + p;
                const inside = y >= 0 && y < dyRows && x >= 0 && x < dyCols;
                const src = ((image * dyRows + y) * dyCols + x) * f;
                for (let k = 0; k < f; k++) bValues[(tap * f + k) * pixels + pixel] = inside ? dyValues[src + k]! : 0;
              }
            }
          }
        }
      }
      phaseOutputs.push(tf.matMul(a, b));
      tf.dispose([a, b]);
    }
  }
  const dx = newWasmTensor<tf.Rank.R4>(backend, dxShape, 'float32');
  const dxValues = backend.typedArrayFromHeap(dx);
  if (phaseOutputs.includes(undefined)) dxValues.fill(0);
  for (let rRow = 0; rRow < sh; rRow++) {
    for (let rCol = 0; rCol < sw; rCol++) {
      const phase = phaseOutputs[rRow * sw + rCol];
      if (!phase) continue;
      const values = backend.typedArrayFromHeap(phase); // [C, pixels]
      for (let image = 0; image < n; image++) {
        for (let q = 0; q < rowsPerPhase; q++) {
          const y = q * sh + rRow;
          if (y >= h) continue;
          for (let p = 0; p < colsPerPhase; p++) {
            const x = p * sw + rCol;
            if (x >= w) continue;
            const pixel = (image * rowsPerPhase + q) * colsPerPhase + p;
            const dst = ((image * h + y) * w + x) * c;
            for (let ch = 0; ch < c; ch++) dxValues[dst + ch] = values[ch * pixels + pixel]!;
          }
        }
      }
    }
  }
  tf.dispose(phaseOutputs.filter((t): t is tf.Tensor2D => t !== undefined));
  return dx;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * The sub-filter of every phase, [taps_h, taps_w, F, C]: filter taps k = k0 + s*m taken in reverse
 * order, with in/out channels swapped (undefined for a phase without taps, which receives nothing:
 * the filter is narrower than the stride). The channel swap is one wasm Transpose; the tap
 * selection copies whole [F, C] blocks on the heap (the shipped Reverse/StridedSlice kernels cost
 * 80-280 ns/element, too much for 256x256-channel filters).
 */
function phaseSubFilters(
  filter: tf.Tensor4D,
  rowPhases: AxisPhase[],
  colPhases: AxisPhase[],
  sh: number,
  sw: number,
): (tf.Tensor4D | undefined)[] {
  const [kh, kw, c, f] = filter.shape;
  const swapped = tf.transpose(filter, [0, 1, 3, 2]); // [KH, KW, F, C]
  const backend = activeWasmBackend();
  const block = f * c;
  const out: (tf.Tensor4D | undefined)[] = [];
  for (const row of rowPhases) {
    for (const col of colPhases) {
      if (row.taps <= 0 || col.taps <= 0) {
        out.push(undefined);
        continue;
      }
      const sub = newWasmTensor<tf.Rank.R4>(backend, [row.taps, col.taps, f, c], 'float32');
      // Views only after the allocation above, which may have grown (and detached) the heap.
      const src = backend.typedArrayFromHeap(swapped);
      const dst = backend.typedArrayFromHeap(sub);
      for (let m = 0; m < row.taps; m++) {
        // Flipped index firstTap + s*m is original tap K-1-(firstTap + s*m).
        const tapRow = kh - 1 - (row.firstTap + sh * m);
        for (let n = 0; n < col.taps; n++) {
          const tapCol = kw - 1 - (col.firstTap + sw * n);
          const from = (tapRow * kw + tapCol) * block;
          dst.set(src.subarray(from, from + block), (m * col.taps + n) * block);
        }
      }
      out.push(sub);
    }
  }
  swapped.dispose();
  return out;
}

/** One output phase: a stride-1 'valid' Conv2D of (cropped/padded) dy with its sub-filter. */
function phaseConv(
  dy: tf.Tensor4D,
  subFilter: tf.Tensor4D,
  row: AxisPhase,
  col: AxisPhase,
  outShape: [number, number, number, number],
): tf.Tensor4D {
  // Padding so large (explicit pads) that a phase reads none of dy: it receives nothing.
  const [, dyRows, dyCols] = dy.shape;
  const rowsKept = dyRows - Math.max(0, -row.before) - Math.max(0, -row.after);
  const colsKept = dyCols - Math.max(0, -col.before) - Math.max(0, -col.after);
  if (rowsKept <= 0 || colsKept <= 0) return tf.zeros(outShape);
  // Explicit non-negative padding goes to XNNPACK as is; only negative margins need a slice.
  const needsCrop = row.before < 0 || row.after < 0 || col.before < 0 || col.after < 0;
  const source = needsCrop
    ? cropOrPad(dy, {
        top: Math.min(0, row.before),
        bottom: Math.min(0, row.after),
        left: Math.min(0, col.before),
        right: Math.min(0, col.after),
      })
    : dy;
  return tf.conv2d(source, subFilter, 1, [
    [0, 0],
    [Math.max(0, row.before), Math.max(0, row.after)],
    [Math.max(0, col.before), Math.max(0, col.after)],
    [0, 0],
  ]);
}

const conv2dBackpropInputKernel: KernelFunc = (params) => {
  const dy = asTensor<tf.Tensor4D>(params.inputs.dy!);
  const filter = asTensor<tf.Tensor4D>(params.inputs.filter!);
  const dx = conv2dBackpropInputViaPhases(dy, filter, params.attrs as unknown as Conv2DBackpropInputAttrs & NamedAttrMap);
  return dx ?? runOriginalWasmKernel(Conv2DBackpropInput, params);
};

/** Replaces the shipped wasm kernel (no-op when already replaced). */
export function registerConv2dBackpropInput(): void {
  installWasmKernel(Conv2DBackpropInput, conv2dBackpropInputKernel);
}
