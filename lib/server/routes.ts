/**
 * The bodies of the API route handlers, so that `app/api/**` files stay one-liners and the logic is
 * testable without Next.
 */
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import packageJson from '@/package.json';
import { ApiError, errorResponse, toErrorResponse } from './errors';
import {
  appQueue,
  ensembleFlagSchema,
  inferenceService,
  modelProblems,
  noModelsMessage,
  resultFileName,
  resultHeaders,
  runTool,
  scaleSchema,
  toolSchema,
  variantSchema,
  type ToolRequest,
} from './inference';
import { jobStore, RETENTION_RULE } from './jobs';
import { serverLimits } from './limits';
import { samplePath } from './runs';
import { readImageUpload } from './upload';

/** Wraps a handler so that anything it throws becomes the JSON error shape. */
export function guarded<A extends unknown[]>(handler: (...args: A) => Promise<Response>) {
  return async (...args: A): Promise<Response> => {
    try {
      return await handler(...args);
    } catch (error) {
      return toErrorResponse(error);
    }
  };
}

/** The methods a route serves (`HEAD` and `OPTIONS` are added to its `Allow` list). */
export type RouteMethod = 'GET' | 'POST' | 'DELETE';

function allowHeader(allowed: readonly RouteMethod[]): string {
  return [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
}

/**
 * The handler for the methods a route does not serve: 405 in the JSON error shape with an `Allow`
 * header (Next's own 405 has neither a body nor `Allow`). Export it under each other method name.
 */
export function methodNotAllowed(...allowed: RouteMethod[]): (request: Request) => Promise<Response> {
  return async (request: Request) =>
    errorResponse(405, 'method_not_allowed', `${request.method} is not supported here; use ${allowed.join(' or ')}.`, { Allow: allowHeader(allowed) });
}

/**
 * The `OPTIONS` handler of a route that also exports {@link methodNotAllowed}: 204 with `Allow` listing
 * only the methods it serves (Next's automatic answer would list the refusing handlers too).
 */
export function allowedMethods(...allowed: RouteMethod[]): () => Promise<Response> {
  return async () => new Response(null, { status: 204, headers: { Allow: allowHeader(allowed) } });
}

/** Any path under `/api/` that is not an endpoint: 404 in the JSON error shape instead of the HTML page. */
export async function handleUnknownApiPath(request: Request): Promise<Response> {
  return errorResponse(404, 'not_found', `There is no API endpoint at ${new URL(request.url).pathname}; see the README's HTTP API section.`);
}

function pngBody(png: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(png);
}

/** A query parameter given at most once: `?scale=2&scale=4` is ambiguous, so 400 rather than a silent pick. */
function singleParam(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw new ApiError(400, 'bad_request', `Give ?${name}= only once.`);
  return values[0];
}

/** The optional `?variant=` of a tool endpoint (400 when malformed). */
function parseVariant(params: URLSearchParams): string | undefined {
  const variant = variantSchema.optional().safeParse(singleParam(params, 'variant'));
  if (!variant.success) throw new ApiError(400, 'bad_request', 'The variant must be a short lowercase name such as "sharp".');
  return variant.data;
}

/** Upscaling's options: given to colorize they would be ignored, so they are refused like an ambiguous one. */
const UPSCALE_ONLY = ['scale', 'ensemble'] as const;

/** Parses the optional `?variant=` for the colorize endpoint (400 for `?scale=` or `?ensemble=`). */
export function parseColorizeQuery(url: string): ToolRequest {
  const params = new URL(url).searchParams;
  const misplaced = UPSCALE_ONLY.find((name) => params.has(name));
  if (misplaced) throw new ApiError(400, 'bad_request', `Colorizing takes no ?${misplaced}=; it applies to /api/upscale only.`);
  const variant = parseVariant(params);
  return { task: 'colorize', ...(variant ? { variant } : {}) };
}

/** Parses `?scale=` (400 when missing or not 2/4), the optional `?variant=` and `?ensemble=` for the upscale endpoint. */
export function parseUpscaleQuery(url: string): ToolRequest {
  const params = new URL(url).searchParams;
  const scale = scaleSchema.safeParse(singleParam(params, 'scale'));
  if (!scale.success) throw new ApiError(400, 'bad_request', 'Add ?scale=2 or ?scale=4 to the URL.');
  const variant = parseVariant(params);
  const ensemble = ensembleFlagSchema.optional().safeParse(singleParam(params, 'ensemble'));
  if (!ensemble.success) throw new ApiError(400, 'bad_request', 'The ensemble option must be true or false.');
  return { task: 'upscale', scale: scale.data, ...(variant ? { variant } : {}), ...(ensemble.data ? { ensemble: true } : {}) };
}

/** `POST /api/colorize` and `POST /api/upscale?scale=`: one image in, PNG out, synchronously. */
export async function handleToolRequest(request: Request, tool: ToolRequest): Promise<Response> {
  const upload = await readImageUpload(request, serverLimits().maxUploadBytes);
  const result = await runTool(tool, upload.bytes, { signal: request.signal });
  return new Response(pngBody(result.png), { headers: resultHeaders(result, resultFileName(upload.baseName, tool)) });
}

const jobFieldsSchema = z.union([
  z.object({ task: z.literal('colorize'), variant: variantSchema.optional() }),
  z.object({ task: z.literal('upscale'), scale: scaleSchema, variant: variantSchema.optional(), ensemble: ensembleFlagSchema.optional() }),
]);

/** `POST /api/jobs`: multipart `image` + `task` (`colorize` | `upscale`) + `scale` -> 202 with the job. */
export async function handleCreateJob(request: Request): Promise<Response> {
  const upload = await readImageUpload(request, serverLimits().maxUploadBytes);
  if (upload.fields.task === 'colorize') {
    const misplaced = UPSCALE_ONLY.find((name) => Object.hasOwn(upload.fields, name));
    if (misplaced) throw new ApiError(400, 'bad_request', `Colorizing takes no ${misplaced}; that field applies to task=upscale only.`);
  }
  const fields = jobFieldsSchema.safeParse(upload.fields);
  if (!fields.success) {
    throw new ApiError(400, 'bad_request', 'Choose a tool: task=colorize, or task=upscale with scale=2 or 4 (and optionally a variant such as sharp or vivid, and ensemble=true for upscale).');
  }
  const tool = toolSchema.parse(fields.data);
  const store = jobStore();
  const job = await store.create(tool, upload.bytes, upload.baseName);
  return Response.json(store.view(job), { status: 202, headers: { Location: `/api/jobs/${job.id}`, 'Cache-Control': 'no-store' } });
}

// Ids are made by randomUUID (lowercase); a UUID is case-insensitive, so an uppercased one finds its job.
const jobIdSchema = z.uuid().transform((id) => id.toLowerCase());

function findJob(id: string) {
  const parsed = jobIdSchema.safeParse(id);
  if (!parsed.success) throw new ApiError(400, 'bad_request', 'That is not a job id.');
  const job = jobStore().get(parsed.data);
  if (!job) throw new ApiError(404, 'not_found', `There is no such job; ${RETENTION_RULE}.`);
  return job;
}

/** `GET /api/jobs/:id`: status, queue position, tile progress. */
export async function handleGetJob(id: string): Promise<Response> {
  return Response.json(jobStore().view(findJob(id)), { headers: { 'Cache-Control': 'no-store' } });
}

/** `DELETE /api/jobs/:id`: cancels a queued or running job. */
export async function handleCancelJob(id: string): Promise<Response> {
  const store = jobStore();
  const job = store.cancel(findJob(id).id)!;
  return Response.json(store.view(job), { headers: { 'Cache-Control': 'no-store' } });
}

/** `GET /api/jobs/:id/result`: the PNG once done; the job's error once failed; 409 before. */
export async function handleJobResult(id: string): Promise<Response> {
  const job = findJob(id);
  if (job.status === 'done' && job.result) {
    jobStore().markFetched(job);
    return new Response(pngBody(job.result.png), { headers: resultHeaders(job.result, job.fileName) });
  }
  if (job.error) return errorResponse(job.error.status, job.error.code, job.error.message);
  if (job.status === 'cancelled') return errorResponse(409, 'cancelled', 'The job was cancelled.');
  return errorResponse(409, 'not_ready', 'The job has not finished yet.');
}

/** `GET /api/models`: the loaded models with their metadata summary. */
export async function handleModels(): Promise<Response> {
  const service = await inferenceService();
  return Response.json({ models: service.models }, { headers: { 'Cache-Control': 'no-store' } });
}

/**
 * `GET /api/health`: 200 with backend, models, version, queue and the model folders that failed to
 * load (`problems`); 503 model_unavailable when no model is loaded (naming the models folder) or the
 * service could not start at all.
 */
export async function handleHealth(): Promise<Response> {
  const queue = appQueue();
  const base = {
    version: packageJson.version,
    queue: { running: queue.running, waiting: queue.waiting, maxWaiting: queue.maxWaiting },
    limits: serverLimits(),
  };
  const unavailable = (message: string, problems: string[]) =>
    Response.json(
      { status: 'unavailable', error: 'model_unavailable', message, problems, ...base },
      { status: 503, headers: { 'Retry-After': '30', 'Cache-Control': 'no-store' } },
    );
  const service = await inferenceService().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  if (service instanceof Error) return unavailable(service.message, []);
  const problems = modelProblems(service);
  // A server that loaded nothing cannot serve any tool: that is not healthy, even though nothing threw.
  const noModels = noModelsMessage(service);
  if (noModels) return unavailable(noModels, problems);
  return Response.json(
    { status: 'ok', backend: service.backend, backendDetails: service.backendDetails, models: service.models.map((m) => m.name), problems, ...base },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

/** `GET /api/runs/:run/samples/:file`: a sample grid from the runs folder. */
export async function handleRunSample(run: string, file: string): Promise<Response> {
  const filePath = samplePath(run, file);
  if (!filePath) throw new ApiError(400, 'bad_request', 'That is not a run or sample name.');
  const bytes = await fs.readFile(filePath).catch(() => undefined);
  if (!bytes) throw new ApiError(404, 'not_found', 'No such sample.');
  // Sample names carry their step, so a given name never changes content.
  return new Response(new Uint8Array(bytes), { headers: { 'Content-Type': 'image/png', 'Cache-Control': 'public, max-age=3600' } });
}
