/**
 * `Conv2DBackpropFilter` for the wasm backend, which ships none in tfjs 4.22.
 *
 * The filter gradient dW[kh,kw,c,f] = sum_{n,oh,ow} xPadded[n, oh*sh+kh, ow*sw+kw, c] * dy[n,oh,ow,f]
 * is itself a convolution once batch and channels swap roles: with x as [C, H, W, N] images and dy as
 * an [OH, OW, N, F] filter, a stride-1 convolution dilated by the forward stride yields [C, KH, KW, F].
 * That single Conv2D runs in XNNPACK, so the gradient costs about as much as the forward pass.
 * A pointwise (1x1, stride 1, unpadded) filter's gradient is a plain matMul instead: through the
 * convolution its 'kernel' would span the whole image, which XNNPACK runs 2-3x slower.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, Conv2DBackpropFilter } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs-core';
import { asTensor, installWasmKernel } from './install';
import { cropOrPad } from './spatial';

/**
 * Filter gradient of a 2-D convolution (dilation 1).
 * @param x forward input, [N,H,W,C] (NHWC) or [N,C,H,W] (NCHW)
 * @param dy gradient of the forward output, same layout as x
 * @returns dW, [KH,KW,C,F] = `attrs.filterShape`
 */
export function conv2dBackpropFilterViaConv(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: Conv2DBackpropFilterAttrs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const channelsFirst = attrs.dataFormat === 'NCHW';
    const xNhwc = channelsFirst ? tf.transpose(x, [0, 2, 3, 1]) : x;
    const dyNhwc = channelsFirst ? tf.transpose(dy, [0, 2, 3, 1]) : dy;
    const info = backend_util.computeConv2DInfo(
      xNhwc.shape,
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const { filterHeight, filterWidth, strideHeight, strideWidth, outHeight, outWidth, inHeight, inWidth } = info;
    if (dyNhwc.shape[1] !== outHeight || dyNhwc.shape[2] !== outWidth) {
      throw new Error(`Conv2DBackpropFilter: dy ${dy.shape} does not match the forward output ${info.outShape}`);
    }
    if (filterHeight === 1 && filterWidth === 1 && strideHeight === 1 && strideWidth === 1 && outHeight === inHeight && outWidth === inWidth) {
      return pointwiseFilterGradient(xNhwc, dyNhwc);
    }
    // Exactly the rows/cols the forward pass read, so the dilated conv yields exactly KH x KW.
    const rowsRead = (outHeight - 1) * strideHeight + filterHeight;
    const colsRead = (outWidth - 1) * strideWidth + filterWidth;
    const xRead = cropOrPad(xNhwc, {
      top: info.padInfo.top,
      left: info.padInfo.left,
      bottom: rowsRead - inHeight - info.padInfo.top,
      right: colsRead - inWidth - info.padInfo.left,
    });
    const xAsImages = tf.transpose(xRead, [3, 1, 2, 0]); // [C, rowsRead, colsRead, N]
    const dyAsFilter = tf.transpose(dyNhwc, [1, 2, 0, 3]); // [OH, OW, N, F]
    const perChannel = tf.conv2d(xAsImages, dyAsFilter, 1, 'valid', 'NHWC', [strideHeight, strideWidth]);
    return tf.transpose(perChannel, [1, 2, 0, 3]); // [KH, KW, C, F]
  });
}

/**
 * dW `[1, 1, C, F]` = x^T . dy over all pixels, for x `[N, H, W, C]` and dy `[N, H, W, F]`. XNNPACK's
 * matMul wants its left operand [M, K] row-major, so the operand with fewer channels is transposed
 * (the cheaper copy): x^T . dy directly, or (dy^T . x)^T.
 */
function pointwiseFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const f = dy.shape[3];
  const pixels = n * h * w;
  const x2d = tf.reshape(x, [pixels, c]);
  const dy2d = tf.reshape(dy, [pixels, f]);
  const gradient = c <= f ? tf.matMul(tf.transpose(x2d), dy2d) : tf.transpose(tf.matMul(tf.transpose(dy2d), x2d));
  return tf.reshape(gradient, [1, 1, c, f]);
}

const conv2dBackpropFilterKernel: KernelFunc = ({ inputs, attrs }) => {
  const x = asTensor<tf.Tensor4D>(inputs.x!);
  const dy = asTensor<tf.Tensor4D>(inputs.dy!);
  return conv2dBackpropFilterViaConv(x, dy, attrs as unknown as Conv2DBackpropFilterAttrs & NamedAttrMap);
};

/** Registers the kernel for wasm (no-op when already registered). */
export function registerConv2dBackpropFilter(): void {
  installWasmKernel(Conv2DBackpropFilter, conv2dBackpropFilterKernel);
}
