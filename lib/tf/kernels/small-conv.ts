/**
 * `Conv2D` / `FusedConv2D` for the wasm backend, taking over only convolutions with few output
 * pixels (the innermost U-Net layers, 1x1 to 4x4) the first time a filter is seen.
 *
 * XNNPACK packs a filter into its own layout when it first meets it (~20 ns per weight, cached per
 * filter tensor). In training every weight is a new tensor after each optimiser step, so the
 * packing is paid every step; for a 4x4x256x512 filter on a 2x2 image it costs 20x the arithmetic.
 * As a matMul, out^T[F, pixels] = W^T[F, K] . im2col(x)^T[K, pixels], only the small im2col matrix
 * is packed and the filter is merely transposed. A filter seen before (inference over many tiles,
 * or the discriminator's repeated forward passes) goes to the shipped kernel, whose packed copy is
 * then reused for free.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, Conv2D, FusedConv2D } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { activeWasmBackend, newWasmTensor } from './heap';
import { installWasmKernel, runOriginalWasmKernel } from './install';

/** At most this many output pixels (N*OH*OW) ... */
const MAX_PIXELS = 64;
/** ... and at least this many weights, for the matMul route to pay off. */
const MIN_WEIGHTS = 32 * 1024;

let enabled = true;

/** Switches the matMul route on or off (tests and benchmarks compare both); returns the old value. */
export function setSmallConvEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

// Filters (by their data, which outlives tensor wrappers that share it) the shipped kernel may
// already hold packed. Weak, so disposed filters drop out by themselves.
const seenFilters = new WeakSet<object>();

/**
 * 2-D convolution (NHWC, any stride/dilation/padding) as one matMul.
 * @param x [N, H, W, C]
 * @param filter [KH, KW, C, F]
 * @returns [N, OH, OW, F]
 */
export function conv2dAsMatMul(x: tf.Tensor4D, filter: tf.Tensor4D, info: backend_util.Conv2DInfo): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
    const { dilationHeight: dh, dilationWidth: dw, outHeight: oh, outWidth: ow, outChannels: f } = info;
    const depth = kh * kw * c;
    const pixels = n * oh * ow;
    // W^T [F, KH*KW*C]: wasm Transpose is faster in this 3-D view than as a 2-D [K, F] transpose.
    const weightsT = tf.reshape(tf.transpose(tf.reshape(filter, [kh * kw, c, f]), [2, 0, 1]), [f, depth]) as tf.Tensor2D;
    const backend = activeWasmBackend();
    const cols = newWasmTensor<tf.Rank.R2>(backend, [depth, pixels], 'float32');
    const xValues = backend.typedArrayFromHeap(x);
    const colValues = backend.typedArrayFromHeap(cols);
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    for (let image = 0; image < n; image++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const pixel = (image * oh + oy) * ow + ox;
          for (let ky = 0; ky < kh; ky++) {
            const y = oy * sh + ky * dh - top;
            for (let kx = 0; kx < kw; kx++) {
              const xx = ox * sw + kx * dw - left;
              const row = (ky * kw + kx) * c;
              if (y < 0 || y >= h || xx < 0 || xx >= w) {
                for (let ch = 0; ch < c; ch++) colValues[(row + ch) * pixels + pixel] = 0;
              } else {
                const src = ((image * h + y) * w + xx) * c;
                for (let ch = 0; ch < c; ch++) colValues[(row + ch) * pixels + pixel] = xValues[src + ch]!;
              }
            }
          }
        }
      }
    }
    const outT = tf.matMul(weightsT, cols); // [F, pixels]
    return tf.reshape(tf.transpose(outT), [n, oh, ow, f]);
  });
}

/** Whether this call should take the matMul route; marks the filter as seen either way. */
function wantsMatMul(x: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo, dataFormat: unknown): boolean {
  const firstSight = !seenFilters.has(filter.dataId);
  seenFilters.add(filter.dataId);
  return (
    enabled &&
    firstSight &&
    dataFormat !== 'NCHW' &&
    x.dtype === 'float32' &&
    filter.dtype === 'float32' &&
    info.batchSize * info.outHeight * info.outWidth <= MAX_PIXELS &&
    tf.util.sizeFromShape(filter.shape) >= MIN_WEIGHTS
  );
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat: 'NHWC' | 'NCHW';
  activation?: string;
}

function convInfoOf(x: TensorInfo, filter: TensorInfo, attrs: ConvAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

const conv2dKernel: KernelFunc = (params) => {
  const { x, filter } = params.inputs as { x: TensorInfo; filter: TensorInfo };
  const attrs = params.attrs as unknown as ConvAttrs;
  const info = convInfoOf(x, filter, attrs);
  if (!wantsMatMul(x, filter, info, attrs.dataFormat)) return runOriginalWasmKernel(Conv2D, params);
  return conv2dAsMatMul(x as tf.Tensor4D, filter as tf.Tensor4D, info);
};

const fusedConv2dKernel: KernelFunc = (params) => {
  const { x, filter, bias, preluActivationWeights } = params.inputs as Record<string, TensorInfo | undefined>;
  const attrs = params.attrs as unknown as ConvAttrs;
  const linear = attrs.activation == null || attrs.activation === 'linear';
  const info = convInfoOf(x!, filter!, attrs);
  if (!linear || preluActivationWeights != null || !wantsMatMul(x!, filter!, info, attrs.dataFormat)) {
    return runOriginalWasmKernel(FusedConv2D, params);
  }
  return tf.tidy(() => {
    const out = conv2dAsMatMul(x as tf.Tensor4D, filter as tf.Tensor4D, info);
    return bias ? tf.add(out, bias as tf.Tensor) : out;
  });
};

/** Wraps the shipped Conv2D and FusedConv2D (no-op when already wrapped). */
export function registerSmallConv(): void {
  installWasmKernel(Conv2D, conv2dKernel);
  installWasmKernel(FusedConv2D, fusedConv2dKernel);
}
