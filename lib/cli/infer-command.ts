/**
 * `npm run colorize`, `npm run upscale` and `npm run translate`: flags, model choice and the batch,
 * shared so that the three scripts are one line each.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { readMetadata } from '@/lib/infer/models';
import { modelKindLabel, wrongModelKind } from '@/lib/model/metadata';
import { createInferenceService, describeModelProblem, type LoadedInferenceService } from '@/lib/infer/service';
import { COLOUR_STRENGTH_RANGE, severalPairedModels } from '@/lib/infer/types';
import { readLimits } from '@/lib/server/limits';
import { BACKEND_NAMES, currentBackend, describeBackend } from '@/lib/tf/backend';
import { makeFolders } from '@/lib/fs/folders';
import { flag, parseCli, UsageError } from './args';
import { processImages } from './batch';
import { describeImageExtensions } from '@/lib/image/formats';
import { collectImageFiles } from './files';
import { cancelExitCode } from './signals';

export type InferCommand = 'colorize' | 'upscale' | 'translate';

/** The model task each command runs. */
const COMMAND_TASK = { colorize: 'colorize', upscale: 'sr', translate: 'paired' } as const;

const IMAGES_HELP = `  <files or folders>  images, or folders: the files in them that this build of sharp decodes are
                      taken (${describeImageExtensions()})
  --out DIR           where <name>.png results are written (created if needed); an existing file
                      of that name is replaced, never an input; inputs sharing a name (a.jpg,
                      a.png) get a.png, a-2.png, ... in the order they are taken`;

const COMMON_HELP = `  --recursive         also take images in sub-folders (except the --out folder)
  --backend NAME      tensorflow, wasm or cpu (default: $TF_BACKEND, else the best available)
  --help              this text

Exit code: 0 when every image succeeded, 1 when any failed or none was found, 2 for a usage error, 130 when
cancelled with Ctrl-C, 143 when stopped with SIGTERM (no half-written result either way).`;

export const USAGE: Record<InferCommand, string> = {
  colorize: `Usage: npm run colorize -- <files or folders> --out <dir> [--model <dir>] [--strength S] [--recursive] [--backend wasm|cpu|tensorflow]

Colorizes photos (any size; colour inputs are reduced to lightness first). Results are the input's size.

${IMAGES_HELP}
  --strength S        colour strength, ${COLOUR_STRENGTH_RANGE.min} to ${COLOUR_STRENGTH_RANGE.max} (default 1: the model's own colour, its most
                      faithful guess, muted where it is unsure; 1.4 is bolder and less faithful)
  --model DIR         an exported model folder (model.json, weights.bin, metadata.json);
                      default: the matching model in $MODELS_DIR or ./models
${COMMON_HELP}`,
  upscale: `Usage: npm run upscale -- --scale 2|4 <files or folders> --out <dir> [--model <dir>] [--ensemble] [--recursive] [--backend ...]

Upscales photos 2 or 4 times (any size, processed in tiles).

  --scale 2|4         the enlargement factor (required)
  --ensemble          average 8 flipped/rotated runs: a little more faithful, about 8x slower
${IMAGES_HELP}
  --model DIR         an exported model folder (model.json, weights.bin, metadata.json);
                      default: the matching model in $MODELS_DIR or ./models
${COMMON_HELP}`,
  translate: `Usage: npm run translate -- <files or folders> --out <dir> [--model <dir>] [--recursive] [--backend ...]

Runs a model trained with \`npm run train -- --task paired\` (your A->B translation) on images of any
size, at their own scale, as the model was trained. Results are the input's size.

${IMAGES_HELP}
  --model DIR         the exported paired model folder (model.json, weights.bin, metadata.json);
                      default: the one paired model in $MODELS_DIR or ./models (with several there,
                      name one)
${COMMON_HELP}`,
};

const baseShape = {
  out: flag.text('out'),
  model: flag.text('model').optional(),
  recursive: z.boolean().optional(),
  backend: flag.choice('backend', BACKEND_NAMES).optional(),
  positionals: z.array(z.string()).min(1, 'give at least one image file or folder'),
};

const schemas = {
  colorize: z.object({ ...baseShape, strength: flag.number('strength', COLOUR_STRENGTH_RANGE).optional() }),
  translate: z.object(baseShape),
  upscale: z.object({
    ...baseShape,
    scale: z
      .string({ message: '--scale 2|4 is required' })
      .refine((s) => s === '2' || s === '4', { message: '--scale must be 2 or 4' })
      .transform((s) => Number(s) as 2 | 4),
    ensemble: z.boolean().optional(),
  }),
};

const OPTIONS = {
  out: { type: 'string' },
  model: { type: 'string' },
  recursive: { type: 'boolean' },
  backend: { type: 'string' },
  scale: { type: 'string' },
  ensemble: { type: 'boolean' },
  strength: { type: 'string' },
} as const;

export interface InferCommandIO {
  stderr?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Cancels the batch (the scripts wire SIGINT and SIGTERM to it with `cancelOnSignals`). */
  signal?: AbortSignal;
}

/** `EACCES: permission denied, open '/x/y'` -> `permission denied`: the reason without the probe's path. */
function describeFsError(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  return /^[A-Z][A-Z0-9_]*: ([^,]+)/.exec(message)?.[1] ?? message;
}

/**
 * Makes sure `--out` can take the results before anything is loaded: refuses an existing file (or
 * a path through one), creates the folder when missing, and writes and removes a probe file in it.
 * Without this an unwritable `--out` (permissions, a read-only disk) would only show once every
 * image had been run through the model and each write failed.
 *
 * @throws UsageError naming `--out`.
 */
export async function checkOutDir(out: string): Promise<void> {
  let stat: import('node:fs').Stats | undefined;
  try {
    stat = await fs.stat(out);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UsageError(`--out ${out}: part of this path is a file, not a folder`);
    if (code !== 'ENOENT') throw new UsageError(`--out ${out}: ${(error as Error).message}`);
  }
  if (stat && !stat.isDirectory()) throw new UsageError(`--out ${out} is a file, not a folder`);
  if (!stat) {
    try {
      await makeFolders(out);
    } catch (error) {
      throw new UsageError(`--out ${out} is not writable (cannot create the folder: ${describeFsError(error)})`);
    }
  }
  // A real write, not access(W_OK): root passes that check on folders that still refuse its files
  // (/sys, an ACL or a FUSE mount's own rules).
  const probe = path.join(out, `.write-test-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.writeFile(probe, '', { flag: 'wx' });
  } catch (error) {
    throw new UsageError(`--out ${out} is not writable (${describeFsError(error)})`);
  }
  await fs.rm(probe, { force: true });
}

/**
 * The pixel limits the CLIs pass to the inference service: `MAX_INPUT_PIXELS` and
 * `MAX_OUTPUT_PIXELS` when set (parsed as the server parses them). Unlike the server's 16 MP
 * defaults, an unset variable means no limit of the user's: a CLI user's own big photo is not a
 * stranger's upload. The service still refuses what cannot be written (`MAX_RESULT_PIXELS`).
 *
 * @throws Error naming the variable when a value is malformed.
 */
export function cliPixelLimits(env: Record<string, string | undefined> = process.env): { maxInputPixels: number; maxOutputPixels: number } {
  const parsed = readLimits({ MAX_INPUT_PIXELS: env.MAX_INPUT_PIXELS, MAX_OUTPUT_PIXELS: env.MAX_OUTPUT_PIXELS });
  const isSet = (name: string) => (env[name]?.trim() ?? '') !== '';
  return {
    maxInputPixels: isSet('MAX_INPUT_PIXELS') ? parsed.maxInputPixels : Infinity,
    maxOutputPixels: isSet('MAX_OUTPUT_PIXELS') ? parsed.maxOutputPixels : Infinity,
  };
}

/**
 * Refuses an explicit `--model` that cannot serve `command` from its `metadata.json` alone, before
 * images are collected or weights loaded: a colorizer given to upscale is the usage error about the
 * model, not "no images" about a mistyped input beside it.
 *
 * @throws UsageError naming `--model`.
 */
async function checkModelKind(dir: string, command: InferCommand, scale?: 2 | 4): Promise<void> {
  const resolved = path.resolve(dir);
  let metadata;
  try {
    metadata = await readMetadata(resolved);
  } catch (error) {
    const problem = `${resolved}: ${(error as Error).message}`;
    throw new UsageError(`--model ${dir}: ${describeModelProblem(problem, dir) ?? problem}`);
  }
  const task = COMMAND_TASK[command];
  if (metadata.task !== task || (task === 'sr' && metadata.scale !== scale)) {
    throw new UsageError(wrongModelKind(`--model ${dir}`, metadata, { task, scale }));
  }
}

/**
 * Parses flags, loads the model, processes every image.
 * @returns the exit code: 0 all succeeded, 1 any failed, 130 cancelled (143 when `io.signal` was
 *   aborted with the reason `'SIGTERM'`, as `cancelOnSignals` does).
 * @throws UsageError for bad flags (the caller's runCli prints it and exits 2).
 */
export async function runInferCommand(command: InferCommand, argv: readonly string[], io: InferCommandIO = {}): Promise<number> {
  const stderr = io.stderr ?? process.stderr;
  const { scale: _scale, ensemble: _ensemble, strength: _strength, ...commonOptions } = OPTIONS;
  const args =
    command === 'upscale'
      ? { ...parseCli(argv, { options: { ...commonOptions, scale: OPTIONS.scale, ensemble: OPTIONS.ensemble }, schema: schemas.upscale }), strength: undefined }
      : command === 'colorize'
        ? { ...parseCli(argv, { options: { ...commonOptions, strength: OPTIONS.strength }, schema: schemas.colorize }), scale: undefined, ensemble: undefined }
        : { ...parseCli(argv, { options: commonOptions, schema: schemas[command] }), scale: undefined, ensemble: undefined, strength: undefined };
  // Everything that can be refused is refused before any model or image work.
  const limits = cliPixelLimits();
  if (args.model) await checkModelKind(args.model, command, args.scale);
  await checkOutDir(args.out);

  const { files, problems } = await collectImageFiles(args.positionals, { recursive: args.recursive, skipFolders: [args.out] });
  for (const p of problems) stderr.write(`FAIL  ${p.path}: ${p.message}\n`);
  if (files.length === 0) {
    stderr.write(`${command}: no images to process\n`);
    return 1;
  }

  const task = COMMAND_TASK[command];
  // An explicit --model is loaded whatever its task, so that a wrong one is named as such below.
  const service: LoadedInferenceService = await createInferenceService({
    ...(args.model ? { modelDirs: [args.model] } : { tasks: [task] }),
    backend: args.backend,
    // A broken --model is the usage error below, not also a warning.
    quiet: args.model !== undefined,
  });
  try {
    const problem = service.problems[0];
    if (args.model && problem !== undefined) {
      throw new UsageError(`--model ${args.model}: ${describeModelProblem(problem, args.model) ?? problem}`);
    }
    // Without --model: the faithful one, as the app would pick (not the first by folder name, which
    // would be a variant such as "a-sharp" before "sr-x4").
    const model = args.model ? service.models[0] : service.defaultModel(task, args.scale);
    if (!model) {
      const several = severalPairedModels(task === 'paired' ? service.models : [], service.source, 'choose one with --model <dir>');
      if (several) throw new UsageError(several);
      throw new Error(
        `no ${modelKindLabel(task, args.scale)} model in ${service.source}` +
          (service.problems.length ? ` (${service.problems.join('; ')})` : '') +
          `; train and export one${task === 'paired' ? ' (npm run train -- --task paired --data <dir> --export <name>)' : ''}, or pass --model <dir>`,
      );
    }
    const backend = currentBackend();
    stderr.write(`${command}: ${files.length} image${files.length === 1 ? '' : 's'}, model ${model.name}` + `${backend ? `, ${describeBackend(backend)}` : ''}\n`);

    let result;
    try {
      result = await processImages({
        files,
        outDir: path.resolve(args.out),
        signal: io.signal,
        unit: command === 'translate' ? 'steps' : 'tiles',
        stream: stderr,
        failedBefore: problems.map((p) => ({ file: p.path, message: p.message })),
        run: (bytes, options) =>
          command === 'colorize'
            ? service.colorize(bytes, { ...options, ...limits, model: model.name, ...(args.strength !== undefined ? { colourStrength: args.strength } : {}) })
            : command === 'translate'
              ? service.translate(bytes, { ...options, ...limits, model: model.name })
              : service.upscale(bytes, { ...options, ...limits, scale: args.scale!, model: model.name, ensemble: args.ensemble ?? false }),
      });
    } catch (error) {
      if ((error as Error)?.name !== 'AbortError') throw error;
      const reason: unknown = io.signal?.reason;
      stderr.write(`${command}: cancelled${typeof reason === 'string' && reason.startsWith('SIG') ? ` by ${reason}` : ''}\n`);
      return cancelExitCode(io.signal);
    }
    return result.failed.length === 0 ? 0 : 1;
  } finally {
    service.dispose();
  }
}
