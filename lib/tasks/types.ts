/**
 * What a task is to the one training loop: how to read its data, make a training pair, show a
 * sample, score a validation pair and describe the exported model. Adding a task = one file
 * implementing {@link TaskDefinition} + one line in `./registry.ts`.
 */
import type { KeptSplit } from '@/lib/data/images';
import type { Encoding, TaskKind } from '@/lib/model/metadata';
import type { GeneratorConfig } from '@/lib/models/generators';
import type { Rng } from '@/lib/train/rng';

/** One example in the task's encoding, interleaved HWC float32. */
export interface Pair {
  input: Float32Array;
  target: Float32Array;
  inputSize: { width: number; height: number };
  targetSize: { width: number; height: number };
}

/**
 * Random degradations of super-resolution training inputs, applied in this order on top of the
 * bicubic downscale; each maximum is drawn from uniformly per sample.
 */
export interface SrDegradation {
  /** Maximum Gaussian blur sigma in HR pixels, applied before downscaling; 0: none. */
  blur: number;
  /** Maximum Gaussian noise std in 8-bit levels (0-255 units), added to the LR patch; 0: none. */
  noise: number;
  /** Lowest JPEG quality (the draw is from [jpeg, 95]) for compressing the LR patch; null: none. */
  jpeg: number | null;
  /**
   * How HR becomes LR for training inputs: MATLAB-style antialiased `bicubic` (the benchmark
   * degradation; the default) or `area` (box averaging over each scale x scale block).
   */
  downscale?: 'bicubic' | 'area';
}

/** The options every task reads (a subset of the training config). */
export interface TaskOptions {
  /** Side of the square target crop, in pixels. */
  cropSize: number;
  /** Super-resolution factor (sr only). */
  scale: number;
  /** `AtoB` or `BtoA` (paired only). */
  direction: 'AtoB' | 'BtoA';
  /** Fraction of images held out for validation. */
  valFraction: number;
  /** Input sides must be a multiple of this (2^depth for a U-Net). */
  sizeMultiple: number;
  /** Training-input degradations (sr only); absent or all off: the plain bicubic pairs. */
  degradation?: SrDegradation;
  /** colorize: resize training photos to this shorter side first (and run inference at it). */
  imageSide?: number;
  /** sr: extra training copies of each training photo, downscaled by these factors in (0, 1). */
  hrScales?: number[];
  /** sr: false trains on the `hrScales` copies only, not the full-size photos (default true). */
  hrOriginals?: boolean;
}

/** A loaded data set; sources are opaque to the loop. */
export interface TaskData<Source = unknown> {
  train: Source[];
  val: Source[];
  /** File names of the held-out images (written to the run folder). */
  valNames: string[];
  /**
   * Names of the photos (or pairs) trained on, each once: not the scaled copies `train` may add
   * (sr's `hrScales`). With `valNames` they are what the run was given, and what a resume keeps.
   */
  trainNames: string[];
  /** How the data changed since a kept split (see `load`), one sentence each. */
  changes?: string[];
  /** True when the validation images are also trained on (one image, or `--val-fraction 0`). */
  valFromTraining?: boolean;
  /** For metadata and logs, e.g. "335 photos from ../shared/data/photos". */
  description: string;
  skipped: number;
}

export interface TaskHooks {
  log: (line: string) => void;
}

export interface TaskExportInfo {
  task: TaskKind;
  scale: number;
  inputChannels: number;
  outputChannels: number;
  inputEncoding: Encoding;
  outputEncoding: Encoding;
  tile: { size: number; padding: number; multipleOf: number };
  workingSize?: number;
}

export interface TaskDefinition<Source = unknown> {
  name: string;
  summary: string;
  /** Flag defaults for this task, applied under what the user passed. */
  defaults: Record<string, unknown>;
  /** The generator architecture for the resolved options and size flags. */
  generator(options: TaskOptions, size: Record<string, number | string>): GeneratorConfig;
  /** Channels the discriminator sees (input + output, after upsampling the input for SR). */
  discriminatorChannels(options: TaskOptions): number;
  /**
   * Decodes the data and holds out `options.valFraction` of it, drawn with `splitRng`; a resumed run
   * passes the split its first session drew (`kept`), which is kept (see `holdOut`).
   */
  load(dataDir: string, options: TaskOptions, splitRng: Rng, hooks: TaskHooks, kept?: KeptSplit): Promise<TaskData<Source>>;
  /** A random augmented training pair. */
  sample(source: Source, options: TaskOptions, rng: Rng): Pair;
  /** A deterministic validation pair (centre crop). */
  validationPair(source: Source, options: TaskOptions): Pair;
  /**
   * 8-bit RGB of a tensor in this task's encoding, at the target's size, for sample grids:
   * `which` says whether `data` is the input, the target or a model output (`pair` gives context,
   * e.g. the L channel that an ab output is merged with).
   */
  toRgb(which: 'input' | 'output' | 'target', data: Float32Array, pair: Pair): Uint8Array;
  /** Validation metrics of one output against its pair (higher PSNR is better). */
  metrics(output: Float32Array, pair: Pair): Record<string, number>;
  exportInfo(options: TaskOptions): TaskExportInfo;
}
