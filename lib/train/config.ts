/**
 * The training configuration: command-line flags validated with zod, per-task defaults underneath,
 * resolved into one object that is printed, saved with the run and stored in every checkpoint.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { flag, numberSchema, parseDecimal, shellWord, type NumberRule } from '@/lib/cli/args';
import { architectureSchema, NORMS, patchGanConfigSchema } from '@/lib/models/generators';
import { defaultModelsDir, readMetadata } from '@/lib/infer/models';
import { wrongModelKind } from '@/lib/model/metadata';
import { isValidRunName, runsDir as defaultRunsDir } from '@/lib/server/runs';
import { getTask, TASK_NAMES } from '@/lib/tasks/registry';
import { DEFAULT_CLASS_REBALANCE, GAN_MODES, ganConfigSchema, optimConfigSchema, PIXEL_LOSSES } from './pix2pix';

/** A numeric flag; messages leave the flag's name to the caller (scripts/train.ts puts `--flag:` before them). */
const numberFlag = (rule: NumberRule = {}) => numberSchema(rule);

const positiveInt = numberFlag({ int: true, min: 1 });

/** `a, b or c`. */
const oneOf = (values: readonly string[]) => `${values.slice(0, -1).join(', ')}${values.length > 1 ? ' or ' : ''}${values.at(-1) ?? ''}`;

/** One of `values`, with the choices spelled out instead of zod's `Invalid option: expected one of "a"|"b"`. */
function choice<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { message: `must be ${oneOf(values)}` });
}

/**
 * A run's name: a folder name ({@link flag.modelName}) that the Training page also lists
 * ({@link isValidRunName}: not starting with "." or "-", no "..", at most 128 characters).
 */
const runName = (name: string) =>
  // Piped: checked only once the name passes the folder-name rule, so one message per problem.
  flag.modelName(name).pipe(z.string().refine(isValidRunName, `--${name} must start with a letter, digit or "_", have no "..", and be at most 128 characters`));

/** A folder path: given empty it would otherwise silently mean the default folder (or the current one). */
const folder = () => z.string().min(1, 'must not be empty');

/** The flags `npm run train` accepts (kebab-case on the command line, camelCase here). */
export const trainFlagsSchema = z
  .object({
    task: z.enum(TASK_NAMES, {
      error: (issue) => (issue.input === undefined ? `--task is required: ${oneOf(TASK_NAMES)}` : `must be ${oneOf(TASK_NAMES)}`),
    }),
    data: z.string({ message: '--data is required: the folder of training images' }).min(1, 'must not be empty'),
    // Run and model names become one path segment under --runs-dir / --models-dir: "." or ".."
    // would put a run's files in (or beside) the runs folder itself, and a model beside the others.
    run: runName('run').optional(),
    runsDir: folder().optional(),
    resume: runName('resume').optional(),
    initFrom: folder().optional(),
    steps: positiveInt.optional(),
    batchSize: positiveInt.optional(),
    cropSize: positiveInt.optional(),
    scale: numberFlag({ int: true })
      .refine((s) => s === 2 || s === 4, 'must be 2 or 4')
      .optional(),
    direction: choice(['AtoB', 'BtoA']).optional(),
    valFraction: numberFlag({ min: 0, max: 0.5 }).optional(),
    ngf: positiveInt.optional(),
    depth: numberFlag({ int: true, min: 2, max: 9 }).optional(),
    norm: choice(NORMS).optional(),
    dropout: numberFlag({ min: 0, max: 0.9 }).optional(),
    features: positiveInt.optional(),
    blocks: numberFlag({ int: true, min: 0 }).optional(),
    expansion: numberFlag({ int: true, min: 0, max: 8 }).optional(),
    head: choice(['direct', 'classes']).optional(),
    abGrid: numberFlag({ min: 4, max: 40 }).optional(),
    temperature: numberFlag({ above: 0, max: 1 }).optional(),
    rebalance: numberFlag({ min: 0, max: 1 }).optional(),
    ndf: positiveInt.optional(),
    nLayers: numberFlag({ int: true, min: 1, max: 6 }).optional(),
    gan: choice(GAN_MODES).optional(),
    pixelLoss: choice(PIXEL_LOSSES).optional(),
    lambdaL1: numberFlag({ min: 0 }).optional(),
    lambdaGan: numberFlag({ min: 0 }).optional(),
    lr: numberFlag({ above: 0 }).optional(),
    beta1: numberFlag({ min: 0, max: 1 }).optional(),
    decaySteps: numberFlag({ int: true, min: 0 }).optional(),
    sampleEvery: positiveInt.optional(),
    valEvery: positiveInt.optional(),
    logEvery: positiveInt.optional(),
    checkpointMinutes: numberFlag({ above: 0 }).optional(),
    seed: numberFlag({ int: true, min: 0 }).optional(),
    valSeed: numberFlag({ int: true, min: 0 }).optional(),
    maxMinutes: numberFlag({ above: 0 }).optional(),
    export: flag.modelName('export').optional(),
    modelsDir: folder().optional(),
    degradeBlur: numberFlag({ min: 0, max: 5 }).optional(),
    degradeNoise: numberFlag({ min: 0, max: 50 }).optional(),
    degradeJpeg: numberFlag({ int: true, min: 10, max: 95 }).optional(),
    downscale: choice(['bicubic', 'area']).optional(),
    imageSide: positiveInt.optional(),
    hrScales: z
      .string()
      .transform((text, ctx) => {
        const values = text.split(',').map(parseDecimal);
        if (values.some((v) => !(v > 0 && v < 1))) {
          ctx.addIssue({ code: 'custom', message: 'a comma-separated list of factors between 0 and 1 (exclusive), e.g. 0.8,0.6' });
          return z.NEVER;
        }
        return values;
      })
      .optional(),
    hrOriginals: z.enum(['true', 'false'], { message: 'must be true or false' }).transform((v) => v === 'true').optional(),
  })
  .strict();
export type TrainFlags = z.infer<typeof trainFlagsSchema>;

export const trainConfigSchema = z.object({
  task: z.enum(TASK_NAMES),
  data: z.string(),
  run: z.string(),
  runsDir: z.string(),
  steps: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  cropSize: z.number().int().positive(),
  scale: z.number().int(),
  direction: z.enum(['AtoB', 'BtoA']),
  valFraction: z.number(),
  generator: architectureSchema,
  discriminator: patchGanConfigSchema.nullable(),
  gan: ganConfigSchema,
  optim: optimConfigSchema,
  /** Constant learning rate for `steps - decaySteps` steps, then linear decay to 0. */
  decaySteps: z.number().int().min(0),
  sampleEvery: z.number().int().positive(),
  valEvery: z.number().int().positive(),
  logEvery: z.number().int().positive(),
  checkpointMinutes: z.number().positive(),
  seed: z.number().int(),
  /**
   * Seed of the held-out split, apart from `seed` so that runs with another seed (fine-tunes of
   * a model, repeats) hold out the same photos. null (configs from before it existed): the split
   * was drawn from `seed`'s stream, as those runs still do.
   */
  valSeed: z.number().int().nullable().default(null),
  maxMinutes: z.number().positive().nullable(),
  export: z.string().nullable(),
  modelsDir: z.string(),
  /** An exported model folder whose generator weights start this run (fine-tuning); null: fresh init. */
  initFrom: z.string().nullable().default(null),
  /** Random SR training-input degradations (see `SrDegradation`); the default keeps older configs parsing. */
  degradation: z
    .object({
      blur: z.number().min(0).max(5),
      noise: z.number().min(0).max(50),
      jpeg: z.number().int().min(10).max(95).nullable(),
      downscale: z.enum(['bicubic', 'area']).default('bicubic'),
    })
    .default({ blur: 0, noise: 0, jpeg: null, downscale: 'bicubic' }),
  /**
   * colorize: training photos are first resized so their shorter side is this many pixels (crops then
   * see most of the picture, at the scale inference runs at: the export's working size); null: only
   * capped at 512 px.
   */
  imageSide: z.number().int().positive().nullable().default(null),
  /**
   * sr: each training photo is also used downscaled by these factors (antialiased bicubic), for more
   * scales of detail and cleaner targets than the JPEG originals; validation stays at full size.
   */
  hrScales: z.array(z.number().gt(0).lt(1)).default([]),
  /**
   * sr: whether the full-size photos train too (default) or only their `hrScales` copies: the
   * originals are 8-bit JPEGs, so their finest detail is partly compression noise that a clean
   * benchmark's targets do not have.
   */
  hrOriginals: z.boolean().default(true),
});
export type TrainConfig = z.infer<typeof trainConfigSchema>;

function pick<T>(...values: (T | undefined)[]): T {
  for (const v of values) if (v !== undefined) return v;
  throw new Error('pick: no value');
}

/** Flags + the task's defaults -> the full config (a new run; `--resume` loads a saved one instead). */
export function resolveConfig(flags: TrainFlags, now = new Date()): TrainConfig {
  const task = getTask(flags.task);
  const d = task.defaults as Partial<Record<string, number | string>>;
  const num = (key: keyof TrainFlags, fallback: number): number => pick(flags[key] as number | undefined, d[key] as number | undefined, fallback);
  const str = <T extends string>(key: keyof TrainFlags, fallback: T): T => pick(flags[key] as T | undefined, d[key] as T | undefined, fallback);
  refuseFlagsThatDoNotApply(flags);
  const scale = flags.task === 'sr' ? num('scale', 4) : 1;
  const cropSize = num('cropSize', 128);
  if (flags.hrOriginals === false && !flags.hrScales?.length) throw new Error('--hr-originals false trains on the --hr-scales copies only: give --hr-scales too');
  const classFlags = (['head', 'abGrid', 'temperature', 'rebalance'] as const).filter((key) => flags[key] !== undefined);
  const classHead = flags.head === 'classes';
  const classOnly = classFlags.filter((key) => key !== 'head');
  if (!classHead && classOnly.length > 0) throw new Error(`${classOnly.map(flagName).join(', ')}: only with --head classes`);
  if (classHead && flags.pixelLoss !== undefined && flags.pixelLoss !== 'ab-classes') {
    throw new Error(`--head classes learns with --pixel-loss ab-classes, not ${flags.pixelLoss}`);
  }
  if (!classHead && flags.pixelLoss === 'ab-classes') throw new Error('--pixel-loss ab-classes needs --head classes (colorize)');
  if (classHead && flags.gan !== undefined && flags.gan !== 'none') throw new Error(`--head classes trains without a discriminator: drop --gan ${flags.gan} (or pass --gan none)`);
  if (flags.imageSide !== undefined && flags.imageSide < cropSize) {
    throw new Error(`--image-side ${flags.imageSide} must be at least --crop-size ${cropSize}`);
  }
  const options = { cropSize, scale, direction: str('direction', 'AtoB'), valFraction: num('valFraction', 0.1), sizeMultiple: 1 };
  const size: Record<string, number | string> = {};
  for (const key of SIZE_FLAGS) {
    const v = flags[key] ?? d[key];
    if (v !== undefined) size[key] = v;
  }
  const generator = architectureSchema.parse(task.generator(options, size));
  if (generator.kind === 'unet' && cropSize % 2 ** generator.depth !== 0) {
    throw new Error(`--crop-size ${cropSize} must be a multiple of 2^depth = ${2 ** generator.depth}`);
  }
  if (generator.kind === 'unet' && flags.imageSide !== undefined && flags.imageSide % 2 ** generator.depth !== 0) {
    // The export's working size must equal it, and inference sizes are multiples of 2^depth.
    throw new Error(`--image-side ${flags.imageSide} must be a multiple of 2^depth = ${2 ** generator.depth}`);
  }
  if (generator.kind === 'srnet' && cropSize % scale !== 0) {
    throw new Error(`--crop-size ${cropSize} must be a multiple of --scale ${scale}`);
  }
  const outputChannels = generator.kind === 'unet' ? generator.outputChannels : generator.channels;
  if (flags.pixelLoss === 'l1-luma' && outputChannels !== 3) {
    throw new Error(`--pixel-loss l1-luma weighs luma and chroma of RGB outputs; ${flags.task} predicts ${outputChannels} channels`);
  }
  const ganMode = classHead ? 'none' : str<(typeof GAN_MODES)[number]>('gan', 'vanilla');
  const steps = num('steps', 20000);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return trainConfigSchema.parse({
    task: flags.task,
    data: path.resolve(flags.data),
    run: flags.run ?? `${flags.task}${flags.task === 'sr' ? `-x${scale}` : ''}-${stamp}`,
    runsDir: flags.runsDir ? path.resolve(flags.runsDir) : defaultRunsDir(),
    steps,
    batchSize: num('batchSize', 4),
    cropSize,
    scale,
    direction: options.direction,
    valFraction: options.valFraction,
    generator,
    discriminator:
      ganMode === 'none'
        ? null
        : {
            kind: 'patchgan',
            inputChannels: task.discriminatorChannels(options),
            ndf: num('ndf', 64),
            nLayers: num('nLayers', 3),
            norm: str('norm', 'instance'),
          },
    gan: {
      mode: ganMode,
      pixelLoss: flags.pixelLoss ?? (classHead ? 'ab-classes' : 'l1'),
      ...(classHead ? { classRebalance: flags.rebalance ?? DEFAULT_CLASS_REBALANCE } : {}),
      lambdaL1: num('lambdaL1', 100),
      lambdaGan: num('lambdaGan', 1),
    },
    optim: { lr: num('lr', 2e-4), beta1: num('beta1', 0.5) },
    decaySteps: Math.min(steps, num('decaySteps', Math.floor(steps / 2))),
    sampleEvery: num('sampleEvery', 500),
    valEvery: num('valEvery', 1000),
    logEvery: num('logEvery', 10),
    checkpointMinutes: num('checkpointMinutes', 5),
    seed: num('seed', 1),
    valSeed: num('valSeed', 1),
    maxMinutes: flags.maxMinutes ?? null,
    export: flags.export ?? null,
    modelsDir: flags.modelsDir ? path.resolve(flags.modelsDir) : defaultModelsDir(),
    initFrom: flags.initFrom ? path.resolve(flags.initFrom) : null,
    degradation: { blur: flags.degradeBlur ?? 0, noise: flags.degradeNoise ?? 0, jpeg: flags.degradeJpeg ?? null, downscale: flags.downscale ?? 'bicubic' },
    imageSide: flags.imageSide ?? null,
    hrScales: flags.hrScales ?? [],
    hrOriginals: flags.hrOriginals ?? true,
  });
}

/** The flags only some tasks use, by the tasks that use them. */
const TASK_FLAGS: Partial<Record<keyof TrainFlags, readonly TrainFlags['task'][]>> = {
  scale: ['sr'],
  features: ['sr'],
  blocks: ['sr'],
  expansion: ['sr'],
  hrScales: ['sr'],
  hrOriginals: ['sr'],
  degradeBlur: ['sr'],
  degradeNoise: ['sr'],
  degradeJpeg: ['sr'],
  downscale: ['sr'],
  ngf: ['colorize', 'paired'],
  depth: ['colorize', 'paired'],
  dropout: ['colorize', 'paired'],
  imageSide: ['colorize'],
  head: ['colorize'],
  abGrid: ['colorize'],
  temperature: ['colorize'],
  rebalance: ['colorize'],
  direction: ['paired'],
};

/** Flags that size or weigh the discriminator, so mean nothing without one. */
const GAN_FLAGS = ['ndf', 'nLayers', 'lambdaGan', 'lambdaL1'] as const;

/**
 * Refuses flags that would change nothing in this run: a new run would accept and ignore them, and
 * then the same command plus `--resume` would be refused, as the saved run has no such value.
 *
 * @throws Error naming each such flag and what it applies to.
 */
function refuseFlagsThatDoNotApply(flags: TrainFlags): void {
  const misplaced = new Map<string, string[]>();
  for (const [key, tasks] of Object.entries(TASK_FLAGS) as [keyof TrainFlags, readonly string[]][]) {
    if (flags[key] === undefined || tasks.includes(flags.task)) continue;
    const where = `only for --task ${oneOf(tasks)}`;
    misplaced.set(where, [...(misplaced.get(where) ?? []), flagName(key)]);
  }
  if (misplaced.size > 0) throw new Error([...misplaced].map(([where, names]) => `${names.join(', ')}: ${where}`).join('; '));
  // A class head trains without a discriminator whatever --gan says (refused with it elsewhere).
  const gan = flags.head === 'classes' ? 'none' : (flags.gan ?? (getTask(flags.task).defaults.gan as string | undefined) ?? 'vanilla');
  if (gan !== 'none') return;
  // sr's --norm is the discriminator's; a U-Net's is its own as well.
  const dOnly = [...GAN_FLAGS, ...(flags.task === 'sr' ? (['norm'] as const) : [])].filter((key) => flags[key] !== undefined);
  if (dOnly.length > 0) {
    throw new Error(
      `${dOnly.map(flagName).join(', ')}: only with a discriminator (--gan vanilla, lsgan or wgangp); this run has none` +
        (flags.head === 'classes' ? ' (--head classes)' : flags.gan === undefined ? ` (--task ${flags.task} defaults to --gan none)` : '') +
        (dOnly.includes('lambdaL1') ? ': without one the pixel loss alone is the loss, unweighted' : ''),
    );
  }
}

const SIZE_FLAGS = ['ngf', 'depth', 'norm', 'dropout', 'features', 'blocks', 'expansion', 'head', 'abGrid', 'temperature'] as const;

/** `abGrid` -> `--ab-grid`. */
const flagName = (key: string) => '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/**
 * `resolveConfig` for a run that may start from an exported model (`--init-from`): the model's
 * task and scale must match, and size flags the caller left out are taken from the model's
 * architecture, so `--init-from models/sr-x2` alone fine-tunes the shipped network as it is.
 */
export async function resolveConfigWithInit(flags: TrainFlags, now = new Date()): Promise<TrainConfig> {
  if (!flags.initFrom) return resolveConfig(flags, now);
  const metadata = await readMetadata(path.resolve(flags.initFrom));
  // Without scales: an sr model may start a run at another scale.
  if (metadata.task !== flags.task) throw new Error(wrongModelKind(`--init-from ${flags.initFrom}`, { task: metadata.task }, { task: flags.task }));
  // An sr model may start a run at another --scale (its tail then starts fresh); by default its own.
  const filled: TrainFlags = { ...flags, ...(flags.task === 'sr' ? { scale: flags.scale ?? (metadata.scale as TrainFlags['scale']) } : {}) };
  const architecture: Record<string, unknown> = { ...metadata.architecture };
  // A class head's settings, in flag form, for a model trained with one.
  const head = architecture.classHead as { grid?: number; temperature?: number } | undefined;
  if (head && filled.head === undefined) Object.assign(architecture, { head: 'classes', abGrid: head.grid, temperature: head.temperature });
  for (const key of SIZE_FLAGS) {
    if (filled[key] === undefined && architecture[key] !== undefined) (filled as Record<string, unknown>)[key] = architecture[key];
  }
  return resolveConfig(filled, now);
}

/** What a resumed run may change: how long it trains and how often it reports, and where it exports. */
const RESUMABLE_FLAGS = ['resume', 'runsDir', 'steps', 'decaySteps', 'maxMinutes', 'export', 'modelsDir', 'logEvery', 'sampleEvery', 'valEvery', 'checkpointMinutes'] as const;

/** Each other flag's value in a saved config, to tell a flag repeated as it was from one that changes the run. */
const SAVED_VALUE: { [K in Exclude<keyof TrainFlags, (typeof RESUMABLE_FLAGS)[number]>]: (c: TrainConfig) => unknown } = {
  task: (c) => c.task,
  data: (c) => c.data,
  run: (c) => c.run,
  initFrom: (c) => c.initFrom,
  batchSize: (c) => c.batchSize,
  cropSize: (c) => c.cropSize,
  scale: (c) => c.scale,
  direction: (c) => c.direction,
  valFraction: (c) => c.valFraction,
  seed: (c) => c.seed,
  valSeed: (c) => c.valSeed,
  ngf: (c) => (c.generator.kind === 'unet' ? c.generator.ngf : undefined),
  depth: (c) => (c.generator.kind === 'unet' ? c.generator.depth : undefined),
  norm: (c) => (c.generator.kind === 'unet' ? c.generator.norm : c.discriminator?.norm),
  dropout: (c) => (c.generator.kind === 'unet' ? c.generator.dropout : undefined),
  features: (c) => (c.generator.kind === 'srnet' ? c.generator.features : undefined),
  blocks: (c) => (c.generator.kind === 'srnet' ? c.generator.blocks : undefined),
  expansion: (c) => (c.generator.kind === 'srnet' ? c.generator.expansion : undefined),
  head: (c) => (c.generator.kind === 'unet' && c.generator.classHead ? 'classes' : 'direct'),
  abGrid: (c) => (c.generator.kind === 'unet' ? c.generator.classHead?.grid : undefined),
  temperature: (c) => (c.generator.kind === 'unet' ? c.generator.classHead?.temperature : undefined),
  rebalance: (c) => c.gan.classRebalance,
  ndf: (c) => c.discriminator?.ndf,
  nLayers: (c) => c.discriminator?.nLayers,
  gan: (c) => c.gan.mode,
  pixelLoss: (c) => c.gan.pixelLoss,
  lambdaL1: (c) => c.gan.lambdaL1,
  lambdaGan: (c) => c.gan.lambdaGan,
  lr: (c) => c.optim.lr,
  beta1: (c) => c.optim.beta1,
  degradeBlur: (c) => c.degradation.blur,
  degradeNoise: (c) => c.degradation.noise,
  degradeJpeg: (c) => c.degradation.jpeg,
  downscale: (c) => c.degradation.downscale,
  imageSide: (c) => c.imageSide,
  hrScales: (c) => c.hrScales,
  hrOriginals: (c) => c.hrOriginals,
};

/**
 * The step of a run's newest checkpoint; undefined without one, or when its state cannot be read
 * (resuming then reports that, with the checkpoint's path).
 */
async function checkpointStep(runDir: string): Promise<number | undefined> {
  // Imported here, not at the top: checkpoint.ts imports this module.
  const { findCheckpoint, readCheckpointState } = await import('./checkpoint');
  const dir = await findCheckpoint(runDir);
  if (!dir) return undefined;
  try {
    return (await readCheckpointState(dir)).step;
  } catch {
    return undefined;
  }
}

/**
 * The config of `--resume <run>`: the run's saved `config.json` with the flags a resumed run may
 * change ({@link RESUMABLE_FLAGS}: steps, schedule, reporting, export) applied. Any other flag must
 * repeat the saved value (so the original command line plus `--resume` works): the model, its data
 * and its optimiser come from the checkpoint, and a changed value would otherwise be ignored.
 *
 * @param raw the command line's flags, camelCase, values as typed (validated here).
 * @throws Error naming the missing run, each flag that would change the run and its saved value, or
 *   a `--steps` (given, or the run's own) that is not above the step the run's checkpoint is at.
 */
export async function resolveResumeConfig(raw: Record<string, unknown>): Promise<TrainConfig> {
  const flags = trainFlagsSchema.partial().parse(raw);
  if (!flags.resume) throw new Error('--resume needs the name of the run to continue');
  const runsDir = flags.runsDir ? path.resolve(flags.runsDir) : defaultRunsDir();
  const file = path.join(runsDir, flags.resume, 'config.json');
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new Error(`no run to resume at ${file}`);
  });
  const saved = trainConfigSchema.parse(JSON.parse(text));
  const changed: string[] = [];
  for (const [key, savedValue] of Object.entries(SAVED_VALUE) as [keyof typeof SAVED_VALUE, (c: TrainConfig) => unknown][]) {
    let given: unknown = flags[key];
    if (given === undefined) continue;
    // The run is the folder --resume names: a renamed one's original command (plus --resume) still
    // gives its first name, and after a resumed session its config holds the new one.
    if (key === 'run') continue;
    if ((key === 'data' || key === 'initFrom') && typeof given === 'string') given = path.resolve(given);
    const was = savedValue(saved);
    if (!isDeepStrictEqual(given, was)) changed.push(`${flagName(key)} ${String(given)} (the run has ${was === undefined || was === null ? 'none' : String(was)})`);
  }
  if (changed.length > 0) {
    throw new Error(
      `--resume ${flags.resume} continues the run as it was saved, so these cannot change: ${changed.join(', ')}. ` +
        `A resumed run may change only ${RESUMABLE_FLAGS.filter((k) => k !== 'resume' && k !== 'runsDir').map(flagName).join(', ')}; ` +
        'start a new run (--init-from an export of this one to fine-tune) for anything else',
    );
  }
  const steps = flags.steps ?? saved.steps;
  const at = await checkpointStep(path.join(runsDir, flags.resume));
  if (at !== undefined && steps <= at) {
    // The loop would train nothing and report "done" as if it had; say what to do instead.
    const runsDirFlag = runsDir === defaultRunsDir() ? '' : ` --runs-dir ${shellWord(runsDir)}`;
    throw new Error(
      `--resume ${flags.resume}: the run is already at step ${at}, so ` +
        (flags.steps === undefined ? `its --steps ${steps} are done` : `--steps ${steps} would train nothing`) +
        `: give --steps above ${at} to train on, or export it as it is with \`npm run export -- --run ${shellWord(flags.resume)}${runsDirFlag} --name NAME\``,
    );
  }
  return {
    ...saved,
    // Where the run is now, should its folder have been renamed or moved since it started: the
    // loop writes there (and rewrites config.json with them), and its hints name it.
    run: flags.resume,
    runsDir,
    steps,
    decaySteps: Math.min(steps, flags.decaySteps ?? saved.decaySteps),
    maxMinutes: flags.maxMinutes ?? null,
    export: flags.export ?? saved.export,
    logEvery: flags.logEvery ?? saved.logEvery,
    sampleEvery: flags.sampleEvery ?? saved.sampleEvery,
    valEvery: flags.valEvery ?? saved.valEvery,
    checkpointMinutes: flags.checkpointMinutes ?? saved.checkpointMinutes,
    modelsDir: flags.modelsDir ? path.resolve(flags.modelsDir) : saved.modelsDir,
  };
}

/**
 * The config of a new run ({@link resolveConfigWithInit}), refused when its run folder already
 * holds a checkpoint: training would silently continue that run with its own saved settings.
 *
 * @throws Error pointing to `--resume` or another `--run` name.
 */
export async function resolveNewRunConfig(flags: TrainFlags, now = new Date()): Promise<TrainConfig> {
  const config = await resolveConfigWithInit(flags, now);
  // Imported here, not at the top: checkpoint.ts imports this module.
  const { findCheckpoint } = await import('./checkpoint');
  if (await findCheckpoint(path.join(config.runsDir, config.run))) {
    throw new Error(`run ${config.run} already exists in ${config.runsDir} with a checkpoint: continue it with --resume ${config.run} (its own settings), or choose another --run`);
  }
  return config;
}
