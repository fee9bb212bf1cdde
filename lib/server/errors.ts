/**
 * One shape for every API error, `{ error: <code>, message: <sentence> }`, and the mapping from the
 * errors the core and the queue throw to HTTP statuses. Bad input never becomes a 500.
 */
import { InputError, type InputErrorCode } from '@/lib/infer/types';
import { QueueFullError } from './queue';

export type ApiErrorCode =
  | 'bad_request'
  | 'too_large'
  | 'unsupported_image'
  | 'unusable_image'
  | 'busy'
  | 'not_found'
  | 'method_not_allowed'
  | 'not_ready'
  | 'model_unavailable'
  | 'cancelled'
  | 'internal';

export interface ApiErrorBody {
  error: ApiErrorCode;
  message: string;
}

/** An error a route handler throws to answer with a given status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const UNSUPPORTED_MESSAGE =
  'The file is not an image this server can read. Use a JPEG, PNG, WebP, GIF, AVIF or TIFF file.';

const INPUT_ERROR_STATUS: Record<InputErrorCode, number> = {
  unsupported_image: 415,
  too_large: 413,
  unusable_image: 422,
};

/** The JSON error response. */
export function errorResponse(status: number, code: ApiErrorCode, message: string, headers?: Record<string, string>): Response {
  const body: ApiErrorBody = { error: code, message };
  return Response.json(body, { status, headers: { 'Cache-Control': 'no-store', ...headers } });
}

/** True for the rejection an aborted signal causes (DOMException or the core's own AbortError). */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** Maps anything thrown while handling a request to a status, code and message. */
export function describeError(error: unknown): { status: number; code: ApiErrorCode; message: string; headers?: Record<string, string> } {
  if (error instanceof ApiError) return { status: error.status, code: error.code, message: error.message, headers: error.headers };
  // `instanceof` fails when the class comes from another copy of the module (one per route bundle),
  // so the name and code are checked too.
  if (error instanceof InputError || (error instanceof Error && error.name === 'InputError' && 'code' in error)) {
    const code = (error as InputError).code;
    const status = INPUT_ERROR_STATUS[code];
    // The decoder's own wording ("Input buffer contains unsupported image format") is for logs.
    if (code === 'unsupported_image') return { status, code, message: UNSUPPORTED_MESSAGE };
    if (status) return { status, code, message: error.message };
  }
  if (error instanceof QueueFullError || (error instanceof Error && error.name === 'QueueFullError')) {
    const retryAfter = (error as QueueFullError).retryAfterSeconds ?? 5;
    return { status: 503, code: 'busy', message: error.message, headers: { 'Retry-After': String(retryAfter) } };
  }
  // The service's ModelUnavailableError: no model for that task/scale (or a wrong model name).
  if (error instanceof Error && error.name === 'ModelUnavailableError') {
    return { status: 404, code: 'model_unavailable', message: error.message };
  }
  if (isAbortError(error)) return { status: 499, code: 'cancelled', message: 'The request was cancelled.' };
  return { status: 500, code: 'internal', message: 'Something went wrong on the server while processing the image.' };
}

/** The error response for anything thrown; unexpected errors are logged with their stack. */
export function toErrorResponse(error: unknown): Response {
  const described = describeError(error);
  if (described.status >= 500 && described.status !== 503) console.error('[api] unexpected error:', error);
  return errorResponse(described.status, described.code, described.message, described.headers);
}
