/**
 * `metadata.json`: what an exported model is and how to feed it. Shared by the exporter (writes it)
 * and every loader (validates it), so a model directory is self-describing.
 */
import { z } from 'zod';

export const TASK_KINDS = ['colorize', 'sr', 'paired'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/**
 * How pixels map to the network's tensors.
 * - `lab-l`: input is CIE L* scaled as L/50 - 1 (one channel, [-1, 1]).
 * - `lab-ab`: output is a*, b* scaled as ab/110 (two channels, about [-1, 1]).
 * - `rgb-unit`: sRGB in [0, 1].
 * - `rgb-tanh`: sRGB in [-1, 1].
 */
export const ENCODINGS = ['lab-l', 'lab-ab', 'rgb-unit', 'rgb-tanh'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** `lab-ab` stores a*, b* divided by this. */
export const LAB_AB_SCALE = 110;

/**
 * What a variant name may be: the API and the app address a variant as `?variant=NAME`, and the
 * server accepts only this form there (`variantSchema` in lib/server/inference.ts), so a model with
 * any other variant could be listed but never asked for.
 */
export const VARIANT_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** {@link VARIANT_PATTERN}'s rule in words, for error messages. */
export const VARIANT_RULE = 'a lowercase letter, then up to 31 lowercase letters, digits or "-" (e.g. "sharp")';

/**
 * A kind of model as messages name it: `colorize`, `paired`, `super-resolution x4` (plain
 * `super-resolution` when the scale does not matter).
 */
export function modelKindLabel(task: TaskKind, scale?: number): string {
  if (task !== 'sr') return task;
  return scale === undefined ? 'super-resolution' : `super-resolution x${scale}`;
}

/** The one wording for a model of the wrong kind: `<subject> is a super-resolution x2 model, not colorize`. */
export function wrongModelKind(subject: string, actual: { task: TaskKind; scale?: number }, wanted: { task: TaskKind; scale?: number }): string {
  return `${subject} is a ${modelKindLabel(actual.task, actual.scale)} model, not ${modelKindLabel(wanted.task, wanted.scale)}`;
}

export const metadataSchema = z.object({
  formatVersion: z.literal(1),
  name: z.string().min(1),
  task: z.enum(TASK_KINDS),
  /** Output size / input size: 1 for colorize and paired, 2 or 4 for super-resolution. */
  scale: z.number().int().min(1).max(8),
  inputChannels: z.number().int().min(1).max(4),
  outputChannels: z.number().int().min(1).max(4),
  inputEncoding: z.enum(ENCODINGS),
  outputEncoding: z.enum(ENCODINGS),
  /**
   * Tiling for images of any size, in input pixels: `size` is the tile the model runs on (a multiple
   * of `multipleOf`), `padding` the overlap context added around each tile and cut off afterwards.
   */
  tile: z.object({
    size: z.number().int().positive(),
    padding: z.number().int().min(0),
    multipleOf: z.number().int().positive(),
  }),
  /** Colorize: the side length the generator sees (L is resized to it, ab resized back). */
  workingSize: z.number().int().positive().optional(),
  architecture: z.record(z.string(), z.unknown()),
  /** pix2pix runs BatchNorm with batch statistics and dropout at test time; tfjs `predict` does not. */
  trainingModeAtInference: z.object({ batchNorm: z.boolean(), dropout: z.boolean() }),
  training: z.object({
    config: z.record(z.string(), z.unknown()),
    steps: z.number().int().min(0),
    wallTimeSeconds: z.number().min(0),
    backend: z.string(),
    data: z.object({ description: z.string(), images: z.number().int().min(0) }),
  }),
  metrics: z.record(z.string(), z.number()),
  createdAt: z.string(),
  /** Extra names the app shows, e.g. "faithful" or "sharp". */
  variant: z.string().regex(VARIANT_PATTERN, `must be ${VARIANT_RULE}`).optional(),
  description: z.string().optional(),
  /**
   * Set when the weights are the mean of other models' (`npm run average`): each source's name, its
   * steps, its share of the mean and the run it came from. `training` is then the first source's.
   */
  averagedFrom: z
    .array(z.object({ name: z.string(), steps: z.number().int().min(0), weight: z.number().positive(), run: z.string().optional() }))
    .optional(),
});

export type ModelMetadata = z.infer<typeof metadataSchema>;

/** Parses untrusted JSON into metadata, with a message naming the file and the bad fields. */
export function parseMetadata(json: unknown, source: string): ModelMetadata {
  const parsed = metadataSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`Invalid model metadata in ${source}: ${issues}`);
  }
  return parsed.data;
}
