/**
 * The messages between the app's thread and the inference worker (`worker-main.ts`), and how errors
 * cross between them: structured clone keeps only plain data, so an error travels as its name, code
 * and message and is rebuilt as the class the shells test for (InputError, ModelUnavailableError,
 * AbortError).
 */
import type { BackendInfo } from '@/lib/tf/backend-choice';
import type { InferenceServiceOptions } from './service';
import { abortError } from './run';
import { InputError, ModelUnavailableError, type InferenceResult, type InferenceService, type InputErrorCode, type ModelSummary, type Progress } from './types';

/** `workerData` of the inference worker. */
export interface WorkerStartData {
  options: InferenceServiceOptions;
}

/** The options of a service method minus the callbacks, which stay on the app's side. */
type Sendable<Options> = Omit<Options, 'signal' | 'onProgress'>;

/** What one run asks for: the service method and its options as the caller gave them. */
export type WorkerRunRequest =
  | { op: 'colorize'; options: Sendable<NonNullable<Parameters<InferenceService['colorize']>[1]>> }
  | { op: 'upscale'; options: Sendable<Parameters<InferenceService['upscale']>[1]> }
  | { op: 'translate'; options: Sendable<NonNullable<Parameters<InferenceService['translate']>[1]>> };

export type ToWorker =
  /** `input` is the encoded image; its buffer is transferred. */
  | ({ type: 'run'; id: number; input: Uint8Array } & WorkerRunRequest)
  | { type: 'abort'; id: number };

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export type FromWorker =
  /** The worker's modules loaded; the models load next. */
  | { type: 'started' }
  | { type: 'ready'; backend: string; backendDetails: BackendInfo; models: ModelSummary[]; source: string; problems: string[] }
  /** The service could not be created (e.g. the backend failed): what `createInferenceService` threw. */
  | { type: 'failed'; error: SerializedError }
  | { type: 'progress'; id: number; progress: Progress }
  /** `result.png` is a transferred Uint8Array. */
  | { type: 'done'; id: number; result: Omit<InferenceResult, 'png'> & { png: Uint8Array } }
  | { type: 'error'; id: number; error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, stack: error.stack, ...(typeof code === 'string' ? { code } : {}) };
}

/** The error as the app's side should see it: the same class for the errors the shells map to statuses. */
export function deserializeError(serialized: SerializedError): Error {
  let error: Error;
  if (serialized.name === 'InputError' && serialized.code !== undefined) {
    error = new InputError(serialized.code as InputErrorCode, serialized.message);
  } else if (serialized.name === 'ModelUnavailableError') {
    error = new ModelUnavailableError(serialized.message);
  } else if (serialized.name === 'AbortError') {
    error = abortError();
  } else {
    error = new Error(serialized.message);
    error.name = serialized.name;
    if (serialized.code !== undefined) (error as Error & { code?: string }).code = serialized.code;
  }
  // The worker's stack says where it failed; the app's log shows that one.
  if (serialized.stack) error.stack = serialized.stack;
  return error;
}

/**
 * A Uint8Array that can be transferred without touching other data: Node's small Buffers share one
 * pooled ArrayBuffer, which must not be detached, so those are copied first.
 */
export function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
    return bytes as Uint8Array<ArrayBuffer>;
  }
  return new Uint8Array(bytes);
}
