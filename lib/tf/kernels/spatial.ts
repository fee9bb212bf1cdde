import * as tf from '@tensorflow/tfjs-core';

/** Rows/columns to add (positive) or remove (negative) on each side of an NHWC tensor. */
export interface SpatialMargins {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Crops negative margins and zero-pads positive ones of an NHWC tensor `x` [N,H,W,C], giving
 * [N, H+top+bottom, W+left+right, C]. Returns `x` itself (not a copy) when all margins are zero.
 */
export function cropOrPad(x: tf.Tensor4D, m: SpatialMargins): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let out = x;
  if (m.top < 0 || m.bottom < 0 || m.left < 0 || m.right < 0) {
    const cropTop = Math.max(0, -m.top);
    const cropLeft = Math.max(0, -m.left);
    const rows = h - cropTop - Math.max(0, -m.bottom);
    const cols = w - cropLeft - Math.max(0, -m.right);
    if (rows <= 0 || cols <= 0) throw new Error(`cropOrPad: margins ${JSON.stringify(m)} empty a ${x.shape} tensor`);
    out = tf.slice(out, [0, cropTop, cropLeft, 0], [n, rows, cols, c]);
  }
  const padTop = Math.max(0, m.top);
  const padBottom = Math.max(0, m.bottom);
  const padLeft = Math.max(0, m.left);
  const padRight = Math.max(0, m.right);
  if (padTop || padBottom || padLeft || padRight) {
    out = tf.pad(out, [
      [0, 0],
      [padTop, padBottom],
      [padLeft, padRight],
      [0, 0],
    ]);
  }
  return out;
}

/** Pairs of a per-axis value given either as one number or as [height, width]. */
export function pair(value: number | [number, number]): [number, number] {
  return typeof value === 'number' ? [value, value] : value;
}
