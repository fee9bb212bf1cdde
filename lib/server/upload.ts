/**
 * Reads an image upload (multipart form, file in field `image`) from a Request without ever holding
 * more than the byte limit in memory: the declared Content-Length is checked first, then the body is
 * counted while it streams in.
 */
import { z } from 'zod';
import { ApiError } from './errors';
import { formatBytes } from './limits';

/** Room for the multipart boundaries, headers and small text fields around the file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

export interface ImageUpload {
  bytes: Buffer;
  /** The client's file name without its extension, safe for a download name ("photo"). */
  baseName: string;
  /** The other text fields of the form. */
  fields: Record<string, string>;
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'too_large', `The file is larger than the ${formatBytes(maxBytes)} limit.`);
}

async function readCapped(request: Request, capBytes: number, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  if (!request.body) throw new ApiError(400, 'bad_request', 'The request has no body; send the image as multipart form data in the field "image".');
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The connection broke mid-upload (the client went away): a cancellation, not a server fault.
      const error = new Error('The upload was interrupted.');
      error.name = 'AbortError';
      throw error;
    }
    const { done, value } = chunk;
    if (done) break;
    total += value.byteLength;
    if (total > capBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(new ArrayBuffer(total));
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** "My Photo.final.JPG" -> "My Photo.final"; anything odd falls back to "image". */
export function downloadBaseName(fileName: string | undefined): string {
  const withoutPath = (fileName ?? '').split(/[\\/]/).pop() ?? '';
  const stem = withoutPath.replace(/\.[^.]*$/, '');
  // Keep letters, digits and a few separators so the name is safe in a Content-Disposition header.
  // Leading dots would make a hidden file on Linux and macOS ('..' -> '.-colorized.png'), trailing ones
  // an odd name on Windows.
  const cleaned = stem
    .replace(/[^\p{L}\p{N} ._-]+/gu, '')
    .slice(0, 100)
    .replace(/^[\s.]+|[\s.]+$/g, '');
  return cleaned || 'image';
}

const fileSchema = z.instanceof(Blob, { message: 'The form has no file in the field "image".' });

/**
 * Parses the upload.
 * @throws ApiError 400 (not multipart, no `image` file, a field given twice), 413 (over `maxBytes`),
 *   422 (an empty file).
 */
export async function readImageUpload(request: Request, maxBytes: number): Promise<ImageUpload> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new ApiError(400, 'bad_request', 'Send the image as multipart/form-data with the file in the field "image".');
  }
  const capBytes = maxBytes + MULTIPART_OVERHEAD_BYTES;
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > capBytes) throw tooLarge(maxBytes);

  const body = await readCapped(request, capBytes, maxBytes);
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new ApiError(400, 'bad_request', 'The multipart form data could not be read.');
  }

  // `scale=4&scale=2` or two files would otherwise be resolved silently (last or first wins): 400,
  // as for a query parameter given twice.
  const seen = new Set<string>();
  for (const key of form.keys()) {
    if (seen.has(key)) throw new ApiError(400, 'bad_request', `Give the field "${key.slice(0, 40)}" only once.`);
    seen.add(key);
  }

  const file = fileSchema.safeParse(form.get('image'));
  if (!file.success) throw new ApiError(400, 'bad_request', file.error.issues[0]?.message ?? 'No image in the form.');
  if (file.data.size > maxBytes) throw tooLarge(maxBytes);
  // Said here, before the queue: the decoder would call it an unsupported format (415), which it is not.
  if (file.data.size === 0) throw new ApiError(422, 'unusable_image', 'The file is empty.');

  const fields: Record<string, string> = {};
  for (const [key, value] of form.entries()) {
    if (typeof value === 'string') fields[key] = value;
  }
  const name = 'name' in file.data && typeof file.data.name === 'string' ? file.data.name : undefined;
  return {
    bytes: Buffer.from(await file.data.arrayBuffer()),
    baseName: downloadBaseName(name),
    fields,
  };
}
