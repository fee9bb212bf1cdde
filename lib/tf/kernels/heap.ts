/**
 * Direct access to wasm-backend tensor memory, for pure data-movement kernels (tile, filter
 * rearrangement) that plain JS typed-array copies do several times faster than the shipped wasm
 * loops (Tile, Reverse, StridedSlice run at 70-280 ns/element).
 *
 * Rules: only ever write into a freshly made output (XNNPACK caches packed weights by tensor id, so
 * mutating an existing tensor would silently serve stale weights), and take heap views after the
 * last allocation (an allocation may grow the wasm memory, which detaches earlier views).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-wasm's BackendWasm these kernels use. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** The active backend as a {@link WasmHeapBackend}; throws when the active backend is not wasm. */
export function activeWasmBackend(): WasmHeapBackend {
  return asWasmHeapBackend(tf.backend());
}

export function asWasmHeapBackend(backend: unknown): WasmHeapBackend {
  const candidate = backend as Partial<WasmHeapBackend> | null;
  if (typeof candidate?.makeOutput !== 'function' || typeof candidate.typedArrayFromHeap !== 'function') {
    throw new Error('Expected the wasm backend (makeOutput / typedArrayFromHeap missing).');
  }
  return candidate as WasmHeapBackend;
}

/** A fresh output tensor on the wasm heap, tracked by the engine like any kernel output. */
export function newWasmTensor<R extends tf.Rank>(backend: WasmHeapBackend, shape: number[], dtype: DataType): tf.Tensor<R> {
  return tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, dtype)) as tf.Tensor<R>;
}
