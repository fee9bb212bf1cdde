/**
 * The bodies of the API route handlers, so that `app/api/**` files stay one-liners and the logic is
 * testable without Next.
 */
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { headerSize } from '@/lib/image/header';
import packageJson from '@/package.json';
import { ApiError, errorResponse, toErrorResponse } from './errors';
import {
  appQueue,
  ensembleFlagSchema,
  inferenceService,
  modelNameSchema,
  modelProblems,
  noModelsMessage,
  resolvedTool,
  resultFileName,
  resultHeaders,
  runTool,
  scaleSchema,
  STRENGTH_MESSAGE,
  strengthFieldSchema,
  toolSchema,
  variantSchema,
  type ToolRequest,
  type TranslateRequest,
} from './inference';
import { jobStore, RETENTION_RULE } from './jobs';
import { serverLimits } from './limits';
import { samplePath } from './runs';
import { readImageUpload, type ImageUpload } from './upload';

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

type Task = ToolRequest['task'];

const DOING: Record<Task, string> = { colorize: 'Colorizing', upscale: 'Upscaling', translate: 'Translating' };

/**
 * Each tool option and the tools that take it. Given to another tool it would be ignored, and the
 * image made with something other than what was asked for, so it is refused like an ambiguous one.
 */
const OPTION_TASKS: Record<'scale' | 'ensemble' | 'strength' | 'variant' | 'model', readonly Task[]> = {
  scale: ['upscale'],
  ensemble: ['upscale'],
  strength: ['colorize'],
  variant: ['colorize', 'upscale'],
  model: ['translate'],
};

/**
 * The 400 for the first option `has` finds that `task` does not take: a query parameter or a form
 * field of a tool endpoint (whose message names the endpoints that take it), or a job's form field
 * (whose message names the job tasks).
 */
function misplacedOption(task: Task, has: (name: string) => boolean, where: 'query' | 'form' | 'job'): ApiError | undefined {
  for (const [name, tasks] of Object.entries(OPTION_TASKS)) {
    if (tasks.includes(task) || !has(name)) continue;
    const endpoints = tasks.map((t) => `/api/${t}`).join(' and ');
    const message =
      where === 'query'
        ? `${DOING[task]} takes no ?${name}=; it applies to ${endpoints} only.`
        : where === 'form'
          ? `${DOING[task]} takes no ${name} field; it applies to ${endpoints} only.`
          : `${DOING[task]} takes no ${name}; that field applies to ${tasks.map((t) => `task=${t}`).join(' and ')} only.`;
    return new ApiError(400, 'bad_request', message);
  }
  return undefined;
}

/** Refuses the form fields of another tool sent to `task`'s own endpoint (e.g. `model` to /api/colorize). */
function refuseMisplacedFields(task: Task, upload: ImageUpload): void {
  const misplaced = misplacedOption(task, (name) => Object.hasOwn(upload.fields, name), 'form');
  if (misplaced) throw misplaced;
}

function refuseMisplacedQuery(task: Task, params: URLSearchParams): void {
  const misplaced = misplacedOption(task, (name) => params.has(name), 'query');
  if (misplaced) throw misplaced;
}

/** Parses the optional `?variant=` and `?strength=` for the colorize endpoint (400 for `?scale=`, `?ensemble=` or `?model=`). */
export function parseColorizeQuery(url: string): ToolRequest {
  const params = new URL(url).searchParams;
  refuseMisplacedQuery('colorize', params);
  const variant = parseVariant(params);
  const strength = strengthFieldSchema.optional().safeParse(singleParam(params, 'strength'));
  if (!strength.success) throw new ApiError(400, 'bad_request', STRENGTH_MESSAGE);
  return { task: 'colorize', ...(variant ? { variant } : {}), ...(strength.data !== undefined ? { strength: strength.data } : {}) };
}

/** Parses `?scale=` (400 when missing or not 2/4), the optional `?variant=` and `?ensemble=` for the upscale endpoint (400 for `?model=`). */
export function parseUpscaleQuery(url: string): ToolRequest {
  const params = new URL(url).searchParams;
  refuseMisplacedQuery('upscale', params);
  const scale = scaleSchema.safeParse(singleParam(params, 'scale'));
  if (!scale.success) throw new ApiError(400, 'bad_request', 'Add ?scale=2 or ?scale=4 to the URL.');
  const variant = parseVariant(params);
  const ensemble = ensembleFlagSchema.optional().safeParse(singleParam(params, 'ensemble'));
  if (!ensemble.success) throw new ApiError(400, 'bad_request', 'The ensemble option must be true or false.');
  return { task: 'upscale', scale: scale.data, ...(variant ? { variant } : {}), ...(ensemble.data ? { ensemble: true } : {}) };
}

const MODEL_NAME_MESSAGE = 'The model must be a model name as GET /api/models lists it.';

/** A model name from the query or a form field (400 when malformed). */
function parseModelName(value: string | undefined): string | undefined {
  const model = modelNameSchema.optional().safeParse(value);
  if (!model.success) throw new ApiError(400, 'bad_request', MODEL_NAME_MESSAGE);
  return model.data;
}

/** Parses the optional `?model=` for the translate endpoint (400 for upscaling's and colorizing's options). */
export function parseTranslateQuery(url: string): TranslateRequest {
  const params = new URL(url).searchParams;
  refuseMisplacedQuery('translate', params);
  const model = parseModelName(singleParam(params, 'model'));
  return { task: 'translate', ...(model !== undefined ? { model } : {}) };
}

/** Runs `tool` on the upload and answers the PNG with its detail headers. */
async function toolResponse(tool: ToolRequest, upload: ImageUpload, signal: AbortSignal): Promise<Response> {
  const result = await runTool(tool, upload.bytes, { signal, inputSize: headerSize(upload.bytes) });
  const fileName = resultFileName(upload.baseName, resolvedTool(tool, result.model));
  return new Response(pngBody(result.png), { headers: resultHeaders(result, fileName) });
}

/**
 * `POST /api/colorize` and `POST /api/upscale?scale=`: one image in, PNG out, synchronously. Their
 * options are read from the query (parsed by the route); another tool's option sent as a form field
 * is refused (400) like one in the query, since the image would be made without it.
 */
export async function handleToolRequest(request: Request, tool: ToolRequest): Promise<Response> {
  const upload = await readImageUpload(request, serverLimits().maxUploadBytes);
  refuseMisplacedFields(tool.task, upload);
  // Its own options too: read from the query only, one sent in the form would be silently not applied.
  const own = Object.entries(OPTION_TASKS).find(([name, tasks]) => tasks.includes(tool.task) && Object.hasOwn(upload.fields, name));
  if (own) {
    throw new ApiError(400, 'bad_request', `Give ${own[0]} in the URL (/api/${tool.task}?${own[0]}=...), not as a form field: this endpoint takes only the image from the form.`);
  }
  return toolResponse(tool, upload, request.signal);
}

/**
 * `POST /api/translate`: like {@link handleToolRequest}, with the paired model named by the form
 * field `model` or by `?model=` (not both), and left out only when one paired model is loaded.
 */
export async function handleTranslateRequest(request: Request): Promise<Response> {
  // The query is checked before the upload is read, so a wrong URL costs no upload.
  const fromQuery = parseTranslateQuery(request.url);
  const upload = await readImageUpload(request, serverLimits().maxUploadBytes);
  refuseMisplacedFields('translate', upload);
  const fromField = parseModelName(upload.fields.model);
  if (fromQuery.model !== undefined && fromField !== undefined) {
    throw new ApiError(400, 'bad_request', 'Name the model once: in the form field "model" or as ?model=, not both.');
  }
  const tool: TranslateRequest = fromField !== undefined ? { task: 'translate', model: fromField } : fromQuery;
  return toolResponse(tool, upload, request.signal);
}

const jobFieldsSchema = z.union([
  z.object({ task: z.literal('colorize'), variant: variantSchema.optional(), strength: strengthFieldSchema.optional() }),
  z.object({ task: z.literal('upscale'), scale: scaleSchema, variant: variantSchema.optional(), ensemble: ensembleFlagSchema.optional() }),
  z.object({ task: z.literal('translate'), model: modelNameSchema.optional() }),
]);

const taskSchema = z.enum(['colorize', 'upscale', 'translate']);

/**
 * `POST /api/jobs`: multipart `image` + `task` (`colorize` | `upscale` | `translate`) + its options
 * (`strength`; `scale`, `ensemble`; `variant`; `model`) -> 202 with the job. Options in the query, or of another
 * task, are refused (400).
 */
export async function handleCreateJob(request: Request): Promise<Response> {
  // Its options are form fields: one in the query would be ignored (a job for the default model made
  // when ?variant=vivid was asked for), so it is refused, and before the upload costs anything.
  const params = new URL(request.url).searchParams;
  const inQuery = ['task', ...Object.keys(OPTION_TASKS)].find((name) => params.has(name));
  if (inQuery) throw new ApiError(400, 'bad_request', `POST /api/jobs takes ${inQuery} as a form field, not as ?${inQuery}=.`);
  const upload = await readImageUpload(request, serverLimits().maxUploadBytes);
  const task = taskSchema.safeParse(upload.fields.task);
  if (task.success) {
    const misplaced = misplacedOption(task.data, (name) => Object.hasOwn(upload.fields, name), 'job');
    if (misplaced) throw misplaced;
  }
  const fields = jobFieldsSchema.safeParse(upload.fields);
  if (!fields.success) {
    if (task.success && task.data === 'translate') throw new ApiError(400, 'bad_request', MODEL_NAME_MESSAGE);
    if (task.success && task.data === 'colorize' && !strengthFieldSchema.optional().safeParse(upload.fields.strength).success) {
      throw new ApiError(400, 'bad_request', STRENGTH_MESSAGE);
    }
    throw new ApiError(
      400,
      'bad_request',
      'Choose a tool: task=colorize (optionally strength=0-2), task=upscale with scale=2 or 4 (and optionally ensemble=true), either with an optional variant such as vivid or sharp, or task=translate (and model=NAME, a paired model).',
    );
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
