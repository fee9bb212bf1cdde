/**
 * What upscaling and colorizing share: cancellation, progress and the pixel encodings of
 * `metadata.json`.
 */
import type { Encoding } from '@/lib/model/metadata';
import type { InferOptions, Progress } from './types';

/** The rejection of a cancelled run: an `Error` named `AbortError`, the signal's reason as `cause`. */
export function abortError(signal?: AbortSignal): Error {
  const error = new Error('The operation was aborted', { cause: signal?.reason });
  error.name = 'AbortError';
  return error;
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

/**
 * Lets pending events (an abort, a progress write, an HTTP request) run between tiles: the tf work
 * itself is synchronous on wasm/cpu.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Reports `done / total` with the time since `start`; a throwing callback does not stop the run. */
export function progressReporter(options: InferOptions, total: number): (done: number) => void {
  const start = performance.now();
  return (done: number) => {
    if (!options.onProgress) return;
    const progress: Progress = { done, total, elapsedMs: performance.now() - start };
    try {
      options.onProgress(progress);
    } catch (error) {
      console.warn('[infer] progress callback threw:', error);
    }
  };
}

/** `value * scale + offset` from 8-bit pixels to an RGB encoding. */
export function rgbInputTransform(encoding: Encoding): { scale: number; offset: number } {
  if (encoding === 'rgb-unit') return { scale: 1 / 255, offset: 0 };
  if (encoding === 'rgb-tanh') return { scale: 2 / 255, offset: -1 };
  throw new Error(`Not an RGB input encoding: ${encoding}`);
}

/** From an RGB encoding back to 0..255 (to be rounded and clipped by a Uint8ClampedArray). */
export function rgbOutputTransform(encoding: Encoding): (value: number) => number {
  if (encoding === 'rgb-unit') return (v) => v * 255;
  if (encoding === 'rgb-tanh') return (v) => (v + 1) * 127.5;
  throw new Error(`Not an RGB output encoding: ${encoding}`);
}
