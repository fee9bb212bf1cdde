/**
 * Adam's update as one pass over memory on the wasm backend. tfjs's AdamOptimizer runs about a dozen
 * elementwise kernels per variable (each a heap allocation and a full read/write of the tensor):
 * ~170 ms of CPU per step for the 10 M weights of a 64/32/6/4 pix2pix pair, a tenth of the step.
 * Here one JS loop reads weight, gradient and both moments once and writes the three new tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmHeapBackend } from './heap';
import { WASM } from './install';

export const FUSED_ADAM = 'Pix2PixFusedAdam';

export interface FusedAdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  /** 1 - beta1^t and 1 - beta2^t: the bias corrections of step t. */
  biasCorrection1: number;
  biasCorrection2: number;
}

/**
 * m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g^2;  w' = w - lr (m'/c1) / (sqrt(v'/c2) + eps),
 * tfjs's Adam with c1, c2 its bias corrections. Intermediates are doubles (tfjs rounds each to
 * float32), so results agree to float32 precision rather than bit for bit. All arrays have the same
 * length; outputs may not alias inputs.
 */
export function adamUpdate(
  value: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  outValue: Float32Array,
  outM: Float32Array,
  outV: Float32Array,
  a: FusedAdamAttrs,
): void {
  const { beta1, beta2, epsilon } = a;
  const oneMinusB1 = 1 - beta1;
  const oneMinusB2 = 1 - beta2;
  // One division and one square root per element: the bias corrections fold into constants.
  const stepScale = -a.learningRate / a.biasCorrection1;
  const rootScale = 1 / Math.sqrt(a.biasCorrection2);
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const grad = g[i]!;
    const m1 = m[i]! * beta1 + grad * oneMinusB1;
    const v1 = v[i]! * beta2 + grad * grad * oneMinusB2;
    outM[i] = m1;
    outV[i] = v1;
    outValue[i] = value[i]! + (stepScale * m1) / (Math.sqrt(v1) * rootScale + epsilon);
  }
}

const fusedAdamKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { value, m, v, g } = inputs as Record<'value' | 'm' | 'v' | 'g', TensorInfo>;
  const wasm = asWasmHeapBackend(backend);
  const outs = [wasm.makeOutput(value.shape, 'float32'), wasm.makeOutput(value.shape, 'float32'), wasm.makeOutput(value.shape, 'float32')];
  // Views after the last allocation: growing the heap detaches earlier ones.
  const view = (info: TensorInfo) => wasm.typedArrayFromHeap(info) as Float32Array;
  adamUpdate(view(value), view(m), view(v), view(g), view(outs[0]!), view(outs[1]!), view(outs[2]!), attrs as unknown as FusedAdamAttrs);
  return outs;
};

/** Registers the fused kernel for wasm (idempotent). */
export function registerFusedAdam(): void {
  if (tf.getKernel(FUSED_ADAM, WASM)) return;
  tf.registerKernel({ kernelName: FUSED_ADAM, backendName: WASM, kernelFunc: fusedAdamKernel });
}

/** Runs the fused update; the caller owns the three returned tensors `[value', m', v']`. */
export function runFusedAdam(value: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, attrs: FusedAdamAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(FUSED_ADAM, { value, m, v, g }, attrs as unknown as NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}
