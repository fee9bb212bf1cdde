/**
 * Paired (A->B) evaluation: each aligned pair's input (A, or B with `--direction BtoA`) is run
 * through the model as `npm run translate` runs it, and the 8-bit result is compared with the
 * other image by PSNR and SSIM on RGB. The input itself, scored as the output, is the baseline:
 * a model that does not beat it has learned nothing the pairs can measure.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from '@/lib/cli/args';
import { quantize, type FloatImage } from './image';
import type { Method } from './methods';
import { imageTiming, psnr, rowScores, ssim, timedRun, type ImageScore, type ScoreRow } from './metrics';

/** Which image of a pair is the input: as `npm run train -- --task paired --direction`. */
export type Direction = 'AtoB' | 'BtoA';

export const DIRECTIONS = ['AtoB', 'BtoA'] as const satisfies readonly Direction[];

/** `A->B` or `B->A`, for the report. */
export function directionLabel(direction: Direction): string {
  return direction === 'AtoB' ? 'A->B' : 'B->A';
}

/** One aligned pair of the data set, both images as float RGB of the same size. */
export interface PairedImages {
  /** The pair's name as training's held-out.txt lists it: its path in `A/` (or in the folder, side by side). */
  name: string;
  a: FloatImage;
  b: FloatImage;
}

/** A pair as it is scored: the model's input and the target its output is compared with. */
export interface PairedPair {
  name: string;
  input: FloatImage;
  target: FloatImage;
}

/** The pairs with input and target chosen by `direction` (A is the input for `AtoB`). */
export function orientPairs(pairs: readonly PairedImages[], direction: Direction): PairedPair[] {
  return pairs.map(({ name, a, b }) => (direction === 'AtoB' ? { name, input: a, target: b } : { name, input: b, target: a }));
}

/** One pair's scores and times. */
export type PairedImageScore = ImageScore;

/** One method's row: RGB PSNR/SSIM means and speed. */
export type PairedRow = ScoreRow;

/** The baseline: the input itself, scored as the output. */
export const identityBaseline: Method = {
  name: 'input (identity)',
  detail: 'the input image itself as the output (what a model must beat)',
  run: async (image) => image,
  dispose: () => {},
};

export interface PairedRunOptions {
  onImage?: (method: string, score: PairedImageScore) => void;
  /** One untimed run on the first input before timing (default true; the baseline needs none). */
  warmUp?: boolean;
}

/** Runs `method` on every pair's input (after one untimed warm-up run) and scores the 8-bit results against the targets. */
export async function evaluatePairedMethod(method: Method, pairs: readonly PairedPair[], options: PairedRunOptions = {}): Promise<PairedRow> {
  const first = pairs[0];
  if (!first) throw new Error('evaluatePairedMethod: no images');
  // The first run at a size allocates and compiles what later runs reuse: not what a user waits for per image.
  if (options.warmUp ?? true) await method.run(first.input);
  const perImage: PairedImageScore[] = [];
  for (const pair of pairs) {
    const { output: raw, ms, cpuMs } = await timedRun(method, pair.input);
    const { target } = pair;
    if (raw.width !== target.width || raw.height !== target.height || raw.channels !== 3) {
      throw new Error(`${method.name} returned ${raw.width}x${raw.height}x${raw.channels} for ${pair.name}; expected ${target.width}x${target.height}x3`);
    }
    const output = quantize(raw);
    const score: PairedImageScore = {
      image: pair.name,
      width: raw.width,
      height: raw.height,
      psnr: psnr(output, target),
      ssim: ssim(output, target),
      ...imageTiming(ms, cpuMs, raw.width, raw.height),
    };
    perImage.push(score);
    options.onImage?.(method.name, score);
  }
  return { method: method.name, detail: method.detail, ...rowScores(perImage), perImage };
}

// Only the field read here: the rest of metadata.json is the loader's to validate.
const trainedDirectionSchema = z.object({ training: z.object({ config: z.object({ direction: z.enum(DIRECTIONS) }) }) });

/**
 * The direction a paired model was trained in, from its `metadata.json` (`training.config.direction`,
 * which `npm run train` records).
 *
 * @returns undefined when the metadata does not say (e.g. a model made by other means).
 */
export async function trainedDirection(modelDir: string): Promise<Direction | undefined> {
  try {
    const parsed = trainedDirectionSchema.safeParse(JSON.parse(await fs.readFile(path.join(modelDir, 'metadata.json'), 'utf8')));
    return parsed.success ? parsed.data.training.config.direction : undefined;
  } catch {
    // The service has already loaded this folder's metadata; unreadable now means "not known".
    return undefined;
  }
}

/** A model of the evaluation and the direction it was trained in (undefined: not recorded). */
export interface TrainedDirection {
  model: string;
  direction: Direction | undefined;
}

/**
 * The direction to score in: `--direction` when given; else the one the models were trained in
 * (a model scored the other way round would be judged on a translation it never learned, so
 * "AtoB because it is the default" would report garbage for a BtoA model); else AtoB, as training
 * defaults to it. Notes name each model that is scored against its training direction.
 *
 * @throws UsageError when `--direction` is not given and the models were trained in different directions.
 */
export function resolveDirection(requested: Direction | undefined, models: readonly TrainedDirection[]): { direction: Direction; source: string; notes: string[] } {
  const known = models.filter((m): m is TrainedDirection & { direction: Direction } => m.direction !== undefined);
  const recorded = [...new Set(known.map((m) => m.direction))];
  if (requested === undefined && recorded.length > 1) {
    throw new UsageError(
      `the models were trained in different directions (${known.map((m) => `${m.model} ${m.direction}`).join(', ')}): ` +
        'give --direction AtoB or BtoA, or evaluate them separately',
    );
  }
  const direction = requested ?? recorded[0] ?? 'AtoB';
  const source = requested !== undefined ? '--direction' : recorded.length > 0 ? "the models' training direction" : 'the default';
  const notes = known
    .filter((m) => m.direction !== direction)
    .map((m) => `${m.model} was trained ${m.direction} but is scored ${direction} here, as --direction asks.`);
  return { direction, source, notes };
}
