/**
 * The contract between the inference core (`lib/infer`) and its shells (the app's routes, the CLIs,
 * the evaluation). Images cross it as encoded bytes or as raw interleaved pixels.
 */

/** Raw interleaved 8-bit pixels, row-major, `channels` per pixel (3 = RGB, 4 = RGBA, 1 = gray). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

export interface Progress {
  /** Units of work finished (tiles). */
  done: number;
  total: number;
  elapsedMs: number;
}

export interface InferOptions {
  /** Cancels between tiles; the promise then rejects with an `AbortError`. */
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

export interface InferenceResult {
  /** The result as PNG bytes (alpha kept when the input had it). */
  png: Buffer;
  width: number;
  height: number;
  inputWidth: number;
  inputHeight: number;
  /** The model directory name used, e.g. `sr-x4`. */
  model: string;
  backend: string;
  ms: number;
}

/** Why an input cannot be processed; shells map `code` to a status / exit code. */
export type InputErrorCode =
  | 'unsupported_image' // not an image we can decode (HTTP 415)
  | 'too_large' // bytes or pixels over a limit (HTTP 413)
  | 'unusable_image'; // decodable but unusable, e.g. zero-sized (HTTP 422)

export class InputError extends Error {
  constructor(
    readonly code: InputErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** No loaded model can serve the request (none installed for the task/scale, or a wrong name). */
export class ModelUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelUnavailableError';
  }
}

/** One loadable model as the app and CLIs list it (from its `metadata.json`). */
export interface ModelSummary {
  /** Directory name under the models folder, e.g. `colorize`, `sr-x2`, `sr-x4`. */
  name: string;
  task: 'colorize' | 'sr' | 'paired';
  scale: number;
  inputChannels: number;
  outputChannels: number;
  variant?: string;
  description?: string;
  metrics: Record<string, number>;
}

/**
 * The models serving `task` (at `scale`, for sr) in the order a default is chosen when none is
 * named: variant `faithful`, then no variant, then the other variants, each by name.
 */
export function defaultCandidates<M extends ModelSummary>(models: readonly M[], task: ModelSummary['task'], scale?: number): M[] {
  const rank = (m: M) => (m.variant === 'faithful' ? 0 : m.variant === undefined ? 1 : 2);
  return models
    .filter((m) => m.task === task && (task !== 'sr' || m.scale === scale))
    .sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/**
 * The model a tool uses when none is named: the first of {@link defaultCandidates}; of paired models
 * only a sole one, since two are two different translations (maps, facades) and which one is meant
 * cannot be guessed.
 */
export function defaultModelOf<M extends ModelSummary>(models: readonly M[], task: ModelSummary['task'], scale?: number): M | undefined {
  const candidates = defaultCandidates(models, task, scale);
  return task === 'paired' && candidates.length > 1 ? undefined : candidates[0];
}

/**
 * The message for several paired models and none named, `how` saying how to name one: the CLIs',
 * eval's and the service's wording in one place.
 */
export function severalPairedModels(models: readonly ModelSummary[], where: string, how: string): string | undefined {
  const paired = defaultCandidates(models, 'paired').map((m) => m.name);
  return paired.length > 1 ? `${where} holds ${paired.length} paired models (${paired.join(', ')}) and none is a default: ${how}` : undefined;
}

/** Limits enforced by the core before any pixels are processed (shells choose the numbers). */
export interface Limits {
  /** Largest decoded input, in pixels (also passed to sharp's `limitInputPixels`). */
  maxInputPixels?: number;
  /** Largest output, in pixels (upscaling). */
  maxOutputPixels?: number;
}

/**
 * The inference core as the app's route handlers and the CLIs use it; one per process, models loaded
 * once and warmed. Implemented in `lib/infer/service.ts`; the app's is `getInferenceService()` in `app-service.ts`.
 */
export interface InferenceService {
  /** `wasm`, `cpu` or `tensorflow`. */
  readonly backend: string;
  readonly models: readonly ModelSummary[];
  /**
   * Any decodable image in (colour is reduced to L first); same-size colour PNG out. `colourStrength`
   * (0-2, default 1) multiplies the predicted colour (see `ColorizeOptions` in `./colorize.ts`).
   */
  colorize(input: Buffer, options?: InferOptions & Limits & { model?: string; colourStrength?: number }): Promise<InferenceResult>;
  /** Any decodable image in; PNG `scale` times larger out. */
  upscale(input: Buffer, options: InferOptions & Limits & { scale: 2 | 4; model?: string; ensemble?: boolean }): Promise<InferenceResult>;
  /**
   * Any decodable image in; same-size PNG out through a model trained with `--task paired` (A->B).
   * `model` may be left out only when one paired model is loaded: with several, which translation
   * is meant cannot be guessed.
   */
  translate(input: Buffer, options?: InferOptions & Limits & { model?: string }): Promise<InferenceResult>;
}

/** The colour strengths `ColorizeOptions.colourStrength` (`./colorize.ts`) accepts, inclusive. */
export const COLOUR_STRENGTH_RANGE = { min: 0, max: 2 } as const;

/**
 * Why `strength` is not a colour strength `colorizeImage` accepts (a sentence for the shells'
 * error messages), or undefined when it is one.
 */
export function colourStrengthProblem(strength: number): string | undefined {
  const { min, max } = COLOUR_STRENGTH_RANGE;
  return Number.isFinite(strength) && strength >= min && strength <= max
    ? undefined
    : `the colour strength must be a number from ${min} to ${max} (1 is the model's own colour); got ${strength}`;
}

/** @throws RangeError when `strength` is not a colour strength `colorizeImage` accepts. */
export function assertColourStrength(strength: number): void {
  const problem = colourStrengthProblem(strength);
  if (problem !== undefined) throw new RangeError(`${problem[0]!.toUpperCase()}${problem.slice(1)}.`);
}
