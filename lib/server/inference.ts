/**
 * The app's one path to the inference core: validates which tool is asked for, checks that a model
 * for it is loaded, applies the limits and runs it through the process-wide queue.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { HeaderSize } from '@/lib/image/header';
import { getInferenceService } from '@/lib/infer/app-service';
import type { LoadedInferenceService } from '@/lib/infer/service';
import { COLOUR_STRENGTH_RANGE, colourStrengthProblem, defaultCandidates, defaultModelOf, type InferenceResult, type ModelSummary, type Progress } from '@/lib/infer/types';
import { parseDecimal } from '@/lib/cli/args';
import { VARIANT_PATTERN, wrongModelKind } from '@/lib/model/metadata';
import { ApiError } from './errors';
import { serverLimits } from './limits';
import { InferenceQueue } from './queue';

/** A model variant label as models declare it in `metadata.variant` (e.g. `sharp`). */
export const variantSchema = z.string().regex(VARIANT_PATTERN, 'variant must be a short lowercase name such as "sharp"');

/**
 * A model as `GET /api/models` names it: its folder's name. Looked up by exact name among the loaded
 * models (never turned into a path), so this only keeps out what no folder name can be.
 */
export const modelNameSchema = z
  .string()
  .min(1)
  .max(255)
  // No path separators, control characters or leading dot (the loader skips hidden folders).
  .regex(/^(?!\.)[^/\\\p{Cc}]+$/u, 'model must be a model name as GET /api/models lists it');

export const toolSchema = z.discriminatedUnion('task', [
  z.object({
    task: z.literal('colorize'),
    /** Absent or `faithful`: the default model; else a model of that variant (e.g. `vivid`). */
    variant: variantSchema.optional(),
    /** Colour strength (0-2; absent: 1, the model's own colour): multiplies the predicted colour. */
    strength: z.number().min(COLOUR_STRENGTH_RANGE.min).max(COLOUR_STRENGTH_RANGE.max).optional(),
  }),
  z.object({
    task: z.literal('upscale'),
    scale: z.union([z.literal(2), z.literal(4)]),
    /** Absent or `faithful`: the default (PSNR-oriented) model; else a model of that variant. */
    variant: variantSchema.optional(),
    /** Geometric self-ensemble: 8 runs averaged, about 8x slower, a little more faithful. */
    ensemble: z.boolean().optional(),
  }),
  z.object({
    task: z.literal('translate'),
    /**
     * The paired model to run, by name. Absent: the one paired model loaded; with several there is
     * no default, since each is a different translation (maps, facades...).
     */
    model: modelNameSchema.optional(),
  }),
]);
export type ToolRequest = z.infer<typeof toolSchema>;
export type TranslateRequest = Extract<ToolRequest, { task: 'translate' }>;

/** `?ensemble=true|false|1|0` (also the job form's `ensemble` field). */
export const ensembleFlagSchema = z
  .enum(['true', 'false', '1', '0'], { message: 'ensemble must be true or false' })
  .transform((s) => s === 'true' || s === '1');

/** `?strength=` a decimal from 0 to 2 (also the job form's `strength` field). */
export const strengthFieldSchema = z
  .string()
  .transform((s, ctx) => {
    const n = parseDecimal(s);
    if (colourStrengthProblem(n) !== undefined) {
      ctx.addIssue({ code: 'custom', message: STRENGTH_MESSAGE });
      return z.NEVER;
    }
    return n;
  });

/** What a bad colour strength is told, wherever it was given. */
export const STRENGTH_MESSAGE = `The colour strength must be a number from ${COLOUR_STRENGTH_RANGE.min} to ${COLOUR_STRENGTH_RANGE.max} (1 is the model's own colour).`;

/** `?scale=2|4` (also the job form's `scale` field). */
export const scaleSchema = z.enum(['2', '4'], { message: 'scale must be 2 or 4' }).transform((s) => Number(s) as 2 | 4);

// One queue per process even though each route is bundled separately (and the dev server
// re-evaluates modules): it lives on globalThis.
const QUEUE_KEY = Symbol.for('pix2pix-tfjs.app.queue');

/**
 * Seconds per unit of {@link toolCost} (an output megapixel) that Retry-After assumes until a task
 * has finished: about what the shipped models take on one wasm core (0.8-3 s per output megapixel).
 */
const INITIAL_SECONDS_PER_MEGAPIXEL = 2;

/** The process-wide inference queue (concurrency 1, bounded by MAX_QUEUE_LENGTH). */
export function appQueue(): InferenceQueue {
  const holder = globalThis as unknown as Record<symbol, InferenceQueue | undefined>;
  holder[QUEUE_KEY] ??= new InferenceQueue({
    concurrency: 1,
    maxWaiting: serverLimits().maxQueueLength,
    initialTaskSeconds: INITIAL_SECONDS_PER_MEGAPIXEL,
  });
  return holder[QUEUE_KEY];
}

/** The inference service, or a 503 when its models could not be loaded. */
export async function inferenceService(): Promise<LoadedInferenceService> {
  try {
    return await getInferenceService();
  } catch (error) {
    console.error('[api] inference service unavailable:', error);
    throw new ApiError(503, 'model_unavailable', 'The models could not be loaded on the server; see its log.', {
      'Retry-After': '30',
    });
  }
}

/** A loader's message may run to many lines (a stack, a JSON excerpt): health shows one, this long at most. */
const MAX_PROBLEM_CHARS = 300;

/**
 * The service's model folders that failed to load, as `<folder name>: <first line of the reason>`
 * (the models folder itself is named once, in the health message, not in every line).
 */
export function modelProblems(service: Pick<LoadedInferenceService, 'problems' | 'source'>): string[] {
  const prefix = service.source + path.sep;
  return service.problems.map((problem) => {
    const relative = problem.startsWith(prefix) ? problem.slice(prefix.length) : problem;
    const firstLine = relative.split('\n', 1)[0]!.trim();
    return firstLine.length > MAX_PROBLEM_CHARS ? `${firstLine.slice(0, MAX_PROBLEM_CHARS - 1)}…` : firstLine;
  });
}

/**
 * Why the service can serve nothing at all (no model loaded), naming the models folder; undefined
 * when at least one model loaded. The service is loaded once per process, so the fix needs a restart.
 */
export function noModelsMessage(service: Pick<LoadedInferenceService, 'models' | 'problems' | 'source'>): string | undefined {
  if (service.models.length > 0) return undefined;
  const folder = service.source;
  if (service.problems.length > 0) {
    const one = service.problems.length === 1;
    const which = one ? 'its one model folder' : `all ${service.problems.length} of its model folders`;
    return `No model could be loaded from ${folder}: ${which} failed to load (see problems). Fix ${one ? 'it' : 'them'} and restart the server.`;
  }
  if (!existsSync(/*turbopackIgnore: true*/ folder)) {
    return `No model could be loaded: the models folder ${folder} does not exist. Set MODELS_DIR to the folder that holds the models and restart the server.`;
  }
  return `No model could be loaded: the models folder ${folder} has no model folders (model.json, weights.bin, metadata.json). Add one and restart the server.`;
}

/** The 503 for a server with no model at all (rather than 404 "none for this tool"), or undefined. */
export function noModelsError(service: Pick<LoadedInferenceService, 'models' | 'problems' | 'source'>): ApiError | undefined {
  const message = noModelsMessage(service);
  return message ? new ApiError(503, 'model_unavailable', message, { 'Retry-After': '30' }) : undefined;
}

/** The variant `tool` names beyond the default (absent and `faithful` both mean the default model). */
function extraVariant(tool: ToolRequest): string | undefined {
  return tool.task !== 'translate' && tool.variant !== 'faithful' ? tool.variant : undefined;
}

/**
 * The model that would serve `tool`, if one is loaded (the service's own choice when no variant is
 * named). Translating without a model name has one only when a single paired model is loaded.
 */
export function modelFor(models: readonly ModelSummary[], tool: ToolRequest): ModelSummary | undefined {
  if (tool.task === 'translate') {
    if (tool.model !== undefined) return defaultCandidates(models, 'paired').find((m) => m.name === tool.model);
    return defaultModelOf(models, 'paired');
  }
  const candidates = tool.task === 'colorize' ? defaultCandidates(models, 'colorize') : defaultCandidates(models, 'sr', tool.scale);
  const variant = extraVariant(tool);
  return variant ? candidates.find((m) => m.variant === variant) : candidates[0];
}

/** Characters a model's folder name may have that do not belong in a download name. */
const UNSAFE_IN_FILE_NAME = /[^\p{L}\p{N}._-]+/gu;

/**
 * "photo" + colorize -> "photo-colorized.png" ("photo-colorized-vivid.png"); + upscale x4 -> "photo-x4.png"
 * ("photo-x4-sharp.png"); + translate with model "maps" -> "photo-translated-maps.png" (a paired model has
 * no default, so its name always says which translation it is).
 */
export function resultFileName(baseName: string, tool: ToolRequest): string {
  if (tool.task === 'translate') {
    // At most 100 characters, as the photo's own part (downloadBaseName): a 255-character folder
    // name would otherwise make a download name longer than file systems take.
    const model = tool.model?.replace(UNSAFE_IN_FILE_NAME, '-').slice(0, 100).replace(/^[-.]+|[-.]+$/g, '');
    return model ? `${baseName}-translated-${model}.png` : `${baseName}-translated.png`;
  }
  const variant = extraVariant(tool);
  const suffix = variant ? `-${variant}` : '';
  if (tool.task === 'colorize') {
    // Two strengths of one photo are two downloads, not one file saved over the other.
    const strength = tool.strength !== undefined && tool.strength !== 1 ? `-strength${tool.strength}` : '';
    return `${baseName}-colorized${suffix}${strength}.png`;
  }
  return `${baseName}-x${tool.scale}${suffix}.png`;
}

/** "Colorize", "Upscale ×4 (sharp)", "Translate (maps)": the tool as messages name it. */
export function toolLabel(tool: ToolRequest): string {
  if (tool.task === 'translate') return tool.model ? `Translate (${tool.model})` : 'Translate';
  const variant = extraVariant(tool);
  const suffix = variant ? ` (${variant})` : '';
  return tool.task === 'colorize' ? `Colorize${suffix}` : `Upscale ×${tool.scale}${suffix}`;
}

/** `tool` with the model that serves it filled in, for translating (whose result is named after it). */
export function resolvedTool(tool: ToolRequest, modelName: string): ToolRequest {
  return tool.task === 'translate' ? { ...tool, model: modelName } : tool;
}

export interface RunToolOptions {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  onStart?: () => void;
  token?: object;
  /**
   * The already loaded service: with it, the task enters the queue synchronously within this call, so
   * that a capacity check just before it still holds (no other request can take the place in between).
   */
  service?: LoadedInferenceService;
  /**
   * The image's size from its header ({@link headerSize}), for the queue's cost; absent (a format it
   * does not read, a damaged header) it counts as 1 MP, and the service accepts or refuses the image.
   */
  inputSize?: HeaderSize;
}

/**
 * Why no model serves a translate request: an unknown name (404), a model that is not paired (400),
 * several paired models and none named (400: no default among different translations), or none
 * paired at all (404).
 */
function translateRefusal(models: readonly ModelSummary[], name: string | undefined): ApiError {
  const paired = defaultCandidates(models, 'paired').map((m) => m.name);
  const pairedList = paired.length > 0 ? `paired models here: ${paired.join(', ')}` : 'none of the models here is paired';
  if (name !== undefined) {
    const other = models.find((m) => m.name === name);
    if (other) {
      return new ApiError(400, 'bad_request', `${wrongModelKind(`Model "${name}"`, other, { task: 'paired' })}: translating runs models trained with --task paired (${pairedList}).`);
    }
    return new ApiError(404, 'model_unavailable', `No model named "${name}" is installed on this server (${pairedList}).`);
  }
  if (paired.length > 1) {
    return new ApiError(400, 'bad_request', `Several paired models are installed (${paired.join(', ')}): name the one to use with model=NAME.`);
  }
  return new ApiError(404, 'model_unavailable', 'No model for Translate is installed on this server: it runs models trained with --task paired.');
}

/**
 * The 503 when the server has no model at all, else the 404 when none serves `tool` (for
 * translating, see {@link translateRefusal}), else the model.
 * @throws ApiError
 */
export function requireModel(service: LoadedInferenceService, tool: ToolRequest): ModelSummary {
  const model = modelFor(service.models, tool);
  if (model) return model;
  const none = noModelsError(service);
  if (none) throw none;
  if (tool.task === 'translate') throw translateRefusal(service.models, tool.model);
  throw new ApiError(404, 'model_unavailable', `No model for ${toolLabel(tool)} is installed on this server.`);
}

/**
 * Below this many output megapixels a task counts as this many: loading, warm-up and PNG encoding
 * take about as long as the model itself on a small image.
 */
const MIN_COST_MEGAPIXELS = 0.25;

/**
 * How long a tool holds the queue, in output megapixels (each tool's work grows with them; a 4x
 * upscale of a 1 MP photo writes 16), times 8 for an ensemble (8 runs: flips and rotations), so
 * that Retry-After counts the work ahead rather than the number of images. Without `inputSize`
 * (unreadable header) the image counts as one megapixel.
 */
export function toolCost(tool: ToolRequest, inputSize?: HeaderSize): number {
  const runs = tool.task === 'upscale' && tool.ensemble ? 8 : 1;
  const scale = tool.task === 'upscale' ? tool.scale : 1;
  const outputMegapixels = inputSize ? (inputSize.width * inputSize.height * scale * scale) / 1e6 : 1;
  return runs * Math.max(MIN_COST_MEGAPIXELS, outputMegapixels);
}

/**
 * Runs one tool on encoded image bytes through the queue.
 * @throws ApiError 404 when no model for the tool is loaded (503 when none loaded at all; for
 *   translating also 400, see {@link requireModel});
 *   QueueFullError when the queue is full; InputError for bad images; AbortError when cancelled.
 */
export async function runTool(tool: ToolRequest, bytes: Buffer, options: RunToolOptions = {}): Promise<InferenceResult> {
  const service = options.service ?? (await inferenceService());
  const model = requireModel(service, tool);
  const limits = serverLimits();
  const common = {
    signal: options.signal,
    onProgress: options.onProgress,
    maxInputPixels: limits.maxInputPixels,
    maxOutputPixels: limits.maxOutputPixels,
    model: model.name,
  };
  // The model is always named: the service then never has to choose (nor refuse) a default itself.
  const run = () => {
    switch (tool.task) {
      case 'colorize':
        return service.colorize(bytes, { ...common, ...(tool.strength !== undefined ? { colourStrength: tool.strength } : {}) });
      case 'upscale':
        return service.upscale(bytes, { ...common, scale: tool.scale, ensemble: tool.ensemble ?? false });
      case 'translate':
        return service.translate(bytes, common);
    }
  };
  return appQueue().run(run, { signal: options.signal, onStart: options.onStart, token: options.token, cost: toolCost(tool, options.inputSize) });
}

/**
 * The details headers sent with a result PNG. Every value is ASCII: a header value is a byte string,
 * so a model's folder name (any Unicode, e.g. `карта эскиз`) would make `Headers` throw after the work
 * was done (above U+00FF) or go out as Latin-1 bytes no client decodes as UTF-8 (`café`). Hence
 * `X-Model` is percent-encoded UTF-8 (plain names such as `sr-x4` are unchanged by that) and the file
 * name has an ASCII fallback beside its RFC 6266 `filename*`. The backend and sizes are ASCII already.
 */
export function resultHeaders(result: InferenceResult, fileName: string): Record<string, string> {
  return {
    'Content-Type': 'image/png',
    'Content-Length': String(result.png.byteLength),
    'Content-Disposition': `inline; filename="${fileName.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(fileName)}`,
    'Cache-Control': 'no-store',
    'X-Model': encodeURIComponent(result.model),
    'X-Backend': result.backend,
    'X-Elapsed-Ms': String(Math.round(result.ms)),
    'X-Input-Size': `${result.inputWidth}x${result.inputHeight}`,
    'X-Output-Size': `${result.width}x${result.height}`,
  };
}
