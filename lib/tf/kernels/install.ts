/**
 * Registration plumbing shared by our wasm kernels: idempotent install, access to the kernel we
 * replaced (for fallbacks and benchmarks), and conversion of kernel inputs to Tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

export const WASM = 'wasm';

// Marks a kernelFunc as ours, so a second install (Next's dev server re-evaluates modules) is a no-op
// even when the marked function came from an earlier evaluation of this module.
const OURS = Symbol.for('pix2pix-tfjs.wasmKernel.ours');
// The configs we replaced live on globalThis for the same reason: after a module reload the registry
// holds our kernel, and only this map still knows the original.
const ORIGINALS = Symbol.for('pix2pix-tfjs.wasmKernel.originals');

function originals(): Map<string, KernelConfig> {
  const holder = globalThis as unknown as Record<symbol, Map<string, KernelConfig> | undefined>;
  holder[ORIGINALS] ??= new Map();
  return holder[ORIGINALS];
}

/** Whether the kernel registered for wasm under `kernelName` is one of ours. */
export function isOurWasmKernel(kernelName: string): boolean {
  const kernel = getKernel(kernelName, WASM);
  return kernel != null && (kernel.kernelFunc as unknown as Record<symbol, unknown>)[OURS] === true;
}

/** The wasm kernel that tfjs shipped under `kernelName` before we replaced it (undefined if none). */
export function originalWasmKernel(kernelName: string): KernelConfig | undefined {
  return originals().get(kernelName);
}

/**
 * Registers `kernelFunc` for wasm under `kernelName`, replacing a shipped kernel if there is one.
 * The shipped kernel's setupFunc is carried over: the wasm backend runs setup functions when it
 * initialises, and our fallbacks call the shipped kernelFunc, which needs its setup to have run.
 * Returns false when our kernel was already installed.
 */
export function installWasmKernel(kernelName: string, kernelFunc: KernelFunc): boolean {
  if (isOurWasmKernel(kernelName)) return false;
  const existing = getKernel(kernelName, WASM);
  if (existing) {
    if (!originals().has(kernelName)) originals().set(kernelName, existing);
    unregisterKernel(kernelName, WASM);
  }
  Object.defineProperty(kernelFunc, OURS, { value: true });
  registerKernel({
    kernelName,
    backendName: WASM,
    kernelFunc,
    setupFunc: existing?.setupFunc,
    disposeFunc: existing?.disposeFunc,
  });
  return true;
}

/** Kernel inputs arrive as Tensors from the engine; wrap a bare TensorInfo just in case. */
export function asTensor<T extends tf.Tensor = tf.Tensor>(info: TensorInfo): T {
  if ((info as Partial<tf.Tensor>).rank != null) return info as T;
  return tf.engine().makeTensorFromTensorInfo(info) as T;
}

/**
 * Runs the kernel shipped with tfjs for `kernelName`; used where our implementation does not
 * cover a case (an unusual layout or dtype).
 */
export function runOriginalWasmKernel(
  kernelName: string,
  params: Parameters<KernelFunc>[0],
): TensorInfo | TensorInfo[] {
  const original = originalWasmKernel(kernelName);
  if (!original) throw new Error(`No shipped wasm kernel '${kernelName}' to fall back to.`);
  return original.kernelFunc(params);
}
