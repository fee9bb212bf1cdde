/**
 * The tools the home page offers, from the models the server has loaded: a tool for each task and
 * scale with a model, one per extra variant, and one "Translate" tool over all paired models.
 */
import type { ModelSummary } from '@/lib/infer/types';
import { defaultCandidates } from '@/lib/infer/types';
import { modelFor, variantSchema } from './inference';

/** A paired model as the page lists it for choosing. */
export interface ToolModel {
  name: string;
  /** The model's `metadata.description`, or {@link NO_DESCRIPTION} when it has none. */
  description: string;
}

/**
 * What the model chooser says for a paired model without a description. That is the usual case (a
 * model `npm run train --export` wrote has none), so it says how to give one rather than only that
 * it is missing; the chooser still tells models apart by their names.
 */
export const NO_DESCRIPTION = 'No description: npm run export with --description "…" sets one.';

/** One tool on the page (what its radio button says and what its job asks for). */
export interface ToolOption {
  /** `colorize`, `x2`, `x4`, `x4-sharp` / `colorize-vivid` style ids for variants, `translate`. */
  id: string;
  task: 'colorize' | 'upscale' | 'translate';
  label: string;
  description: string;
  /** The model it runs; for translating, the one chosen at first. */
  model: string;
  /** Upscale tools: the factor; colorize and upscale tools: the model variant when not the default one. */
  scale?: 2 | 4;
  variant?: string;
  /** Translating: the paired models to choose from, by name; none is a default. */
  models?: ToolModel[];
}

/** Installed variants of a task beyond its default model (e.g. a GAN-trained "sharp" upscaler, a "vivid" colorizer). */
function extraVariants(models: readonly ModelSummary[], fits: (m: ModelSummary) => boolean, chosen: ModelSummary): (ModelSummary & { variant: string })[] {
  return models.filter(
    (m): m is ModelSummary & { variant: string } =>
      fits(m) && m !== chosen && m.variant !== undefined && m.variant !== 'faithful' && variantSchema.safeParse(m.variant).success,
  );
}

const capitalised = (word: string) => `${word[0]!.toUpperCase()}${word.slice(1)}`;

/**
 * The tools this server can offer, in a fixed order, from the loaded models: Colorize (and its
 * variants), Upscale ×2, ×4 (and theirs), then Translate when a paired model is loaded.
 */
export function toolOptions(models: readonly ModelSummary[]): ToolOption[] {
  const options: ToolOption[] = [];
  const colorize = modelFor(models, { task: 'colorize' });
  if (colorize) {
    options.push({
      id: 'colorize',
      task: 'colorize',
      label: 'Colorize',
      description: 'Adds plausible colour to a black-and-white photo. Same size out.',
      model: colorize.name,
    });
    for (const m of extraVariants(models, (x) => x.task === 'colorize', colorize)) {
      options.push({
        id: `colorize-${m.variant}`,
        task: 'colorize',
        label: `${capitalised(m.variant)} colorize`,
        description:
          m.variant === 'vivid'
            ? 'Bolder colour from a model that predicts colour classes; it commits to colours the plain Colorize leaves muted, and is wrong more visibly when it guesses wrong.'
            : `Colorize with the "${m.variant}" model.`,
        model: m.name,
        variant: m.variant,
      });
    }
  }
  for (const scale of [2, 4] as const) {
    const sr = modelFor(models, { task: 'upscale', scale });
    if (sr) {
      options.push({
        id: `x${scale}`,
        task: 'upscale',
        label: `Upscale ×${scale}`,
        description: `Makes a photo ${scale}× wider and taller with sharper detail than plain resizing.`,
        model: sr.name,
        scale,
      });
    }
    // Other variants (e.g. a GAN-trained "sharp" model) as extra tools, after the default one.
    for (const m of sr ? extraVariants(models, (x) => x.task === 'sr' && x.scale === scale, sr) : []) {
      options.push({
        id: `x${scale}-${m.variant}`,
        task: 'upscale',
        label: `${capitalised(m.variant)} upscale ×${scale}`,
        description:
          m.variant === 'sharp'
            ? `×${scale} with crisper texture from a GAN-trained model; it may invent fine detail, the plain ×${scale} is more faithful.`
            : `×${scale} with the "${m.variant}" model.`,
        model: m.name,
        scale,
        variant: m.variant,
      });
    }
  }
  // Paired models are each a different translation (maps, facades, ...): one tool, and the page
  // asks which model, rather than a tool per model that would crowd out the photo tools.
  const paired = defaultCandidates(models, 'paired').sort((a, b) => a.name.localeCompare(b.name));
  if (paired[0]) {
    options.push({
      id: 'translate',
      task: 'translate',
      label: 'Translate (your models)',
      description: 'Runs an image-to-image model trained with --task paired (A → B) on the whole photo. Same size out.',
      model: paired[0].name,
      models: paired.map((m) => ({ name: m.name, description: m.description?.trim() || NO_DESCRIPTION })),
    });
  }
  return options;
}
