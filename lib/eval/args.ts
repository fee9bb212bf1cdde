/**
 * `npm run eval` flags: parsed strictly (unknown flags fail), validated with zod, with messages
 * that say which flag is wrong and what it accepts.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseDecimal, rejectRepeatedFlags, UsageError, type FlagToken } from '@/lib/cli/args';
import { describeImageExtensions } from '@/lib/image/formats';
import { COLOUR_STRENGTH_RANGE, colourStrengthProblem } from '@/lib/infer/types';
import { PEER_NAMES, type PeerName } from './methods';
import { DIRECTIONS } from './paired';

export const USAGE = `Usage:
  npm run eval -- --task sr --scale 2|4 --data <folder of HR images> [--model <dir>]
                  [--peers slim,medium,thick|none] [--gray y|stored] [--ensemble] [--limit N] [--json] [--verbose]
  npm run eval -- --task colorize --data <folder of colour images> [--model <dir>] [--strength S[,S...]]
                  [--limit N] [--json] [--verbose]
  npm run eval -- --task paired --data <paired folder> [--model <dir>] [--direction AtoB|BtoA]
                  [--limit N] [--json] [--verbose]

  --task      sr (super-resolution, published protocol), colorize, or paired (a model trained
              with --task paired, against the pairs' targets)
  --scale     2 or 4 (sr only)
  --data      sr, colorize: folder of images: those directly inside, in name order, that this
              build of sharp decodes (${describeImageExtensions()});
              one that is unreadable, too small to score or (colorize) without colour is
              named and skipped
              paired: a folder as training reads it: A/ and B/ holding images of the same names
              (sub-folders too), or side-by-side A|B images; a file that is unreadable, has no
              partner or one of another size, or a pair under 11 x 11 px, is named and skipped
  --model     an exported model folder (model.json, weights.bin, metadata.json); repeat for
              several rows (the only flag that may be given twice, with folders of different
              names); default: the model the app would use from MODELS_DIR or models/ (paired:
              the one paired model there; with several, name one)
  --direction AtoB or BtoA: which image of a pair is the input (paired only; default: the
              direction the models were trained in, else AtoB)
  --peers     UpscalerJS ESRGAN models to compare with (sr only; default slim,medium,thick; none)
  --gray      how single-channel files are scored (sr only): y = BT.601 Y like colour files
              (BasicSR; default), stored = their stored intensities (the MATLAB-era Set14 tables)
  --ensemble  also score each of our models with the 8-way self-ensemble (sr only; one more row each)
  --strength  colour strengths to score each of our models at, e.g. 1,1.2,1.4 (colorize only; a row
              each; default 1, the model's own colour; 0-2)
  --limit     only the first N images (paired: pairs) that can be scored
  --backend   tensorflow, wasm or cpu (default: TF_BACKEND, else the best available)
  --json      print one JSON object instead of the markdown table
  --verbose   per-image rows too`;

// The scripts' one usage error (print the message and the usage, exit 2), re-exported for eval's callers.
export { UsageError };

const common = {
  data: z.string({ message: '--data <folder> is required' }).min(1, '--data must not be empty'),
  model: z.array(z.string().min(1, '--model must not be empty')).optional(),
  limit: z
    .string()
    .regex(/^[1-9][0-9]*$/, '--limit must be a positive whole number')
    .transform(Number)
    .optional(),
  backend: z.enum(['tensorflow', 'wasm', 'cpu'], { message: '--backend must be tensorflow, wasm or cpu' }).optional(),
  json: z.boolean().default(false),
  verbose: z.boolean().default(false),
};

const peersSchema = z
  .string()
  .default(PEER_NAMES.join(','))
  .transform((value, ctx): PeerName[] => {
    if (value.trim() === 'none') return [];
    const names = value.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !(PEER_NAMES as readonly string[]).includes(n));
    if (names.length === 0 || unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `--peers takes a comma-separated list of ${PEER_NAMES.join(', ')} or "none"; got "${value}"`,
      });
      return z.NEVER;
    }
    return [...new Set(names)] as PeerName[];
  });

const srSchema = z
  .object({
    task: z.literal('sr'),
    scale: z.enum(['2', '4'], { message: '--scale must be 2 or 4' }).transform((s) => Number(s) as 2 | 4),
    peers: peersSchema,
    gray: z.enum(['y', 'stored'], { message: '--gray must be y or stored' }).default('y'),
    ensemble: z.boolean().default(false),
    ...common,
  })
  .strict();

/** `--strength 1,1.2,1.4`: colour strengths, a row per model and strength, in the order given. */
const strengthsSchema = z
  .string()
  .optional()
  .transform((value, ctx): number[] | undefined => {
    if (value === undefined) return undefined;
    const parts = value.split(',').map((s) => s.trim());
    const strengths = parts.map(parseDecimal);
    const bad = parts.find((p, i) => colourStrengthProblem(strengths[i]!) !== undefined);
    if (bad !== undefined) {
      const { min, max } = COLOUR_STRENGTH_RANGE;
      ctx.addIssue({ code: 'custom', message: `--strength takes colour strengths from ${min} to ${max}, comma-separated (1 is the model's own colour); got "${bad}"` });
      return z.NEVER;
    }
    return [...new Set(strengths)];
  });

const colorizeSchema = z
  .object({
    task: z.literal('colorize'),
    strength: strengthsSchema,
    ...common,
  })
  .strict();

const pairedSchema = z
  .object({
    task: z.literal('paired'),
    // No default here: without the flag, the models' own training direction is used (see resolveDirection).
    direction: z.enum(DIRECTIONS, { message: '--direction must be AtoB or BtoA' }).optional(),
    ...common,
  })
  .strict();

export type SrArgs = z.infer<typeof srSchema>;
export type ColorizeArgs = z.infer<typeof colorizeSchema>;
export type PairedArgs = z.infer<typeof pairedSchema>;
export type EvalArgs = SrArgs | ColorizeArgs | PairedArgs;

const SCHEMAS = { sr: srSchema, colorize: colorizeSchema, paired: pairedSchema } as const;
const TASKS = Object.keys(SCHEMAS) as (keyof typeof SCHEMAS)[];

const OPTIONS = {
  task: { type: 'string' },
  scale: { type: 'string' },
  data: { type: 'string' },
  model: { type: 'string', multiple: true },
  peers: { type: 'string' },
  gray: { type: 'string' },
  ensemble: { type: 'boolean' },
  strength: { type: 'string' },
  direction: { type: 'string' },
  limit: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SR_ONLY = ['scale', 'peers', 'gray', 'ensemble'] as const;
const PAIRED_ONLY = ['direction'] as const;
const COLORIZE_ONLY = ['strength'] as const;

/**
 * Parses `argv` (without node and the script). Returns `'help'` for --help. Only `--model` may be
 * given more than once.
 * @throws UsageError naming the bad flag.
 */
export function parseEvalArgs(argv: string[]): EvalArgs | 'help' {
  let values: Record<string, string | boolean | string[] | undefined>;
  let tokens: FlagToken[];
  try {
    ({ values, tokens } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false, tokens: true }));
  } catch (error) {
    // node's messages are clear ("Unknown option '--foo'"); drop its hint about '--' separators.
    throw new UsageError((error as Error).message.split('. To specify')[0] ?? 'bad arguments');
  }
  // Only --model may be repeated (one row per model).
  rejectRepeatedFlags(tokens, OPTIONS);
  if (values.help) return 'help';
  const task = values.task;
  if (task === undefined) throw new UsageError('--task is required (sr, colorize or paired)');
  if (typeof task !== 'string' || !(TASKS as string[]).includes(task)) throw new UsageError(`--task must be sr, colorize or paired; got "${String(task)}"`);
  // A flag of another task is refused by name rather than ignored: `--scale 2` on a paired run
  // would otherwise look as if it had been applied.
  for (const [flags, owner] of [[SR_ONLY, 'sr'], [PAIRED_ONLY, 'paired'], [COLORIZE_ONLY, 'colorize']] as const) {
    const given = flags.filter((k) => values[k] !== undefined).map((k) => `--${k}`);
    if (task !== owner && given.length > 0) throw new UsageError(`${given.join(', ')} only ${given.length === 1 ? 'applies' : 'apply'} to --task ${owner}`);
  }
  if (task === 'sr' && values.scale === undefined) throw new UsageError('--scale is required for --task sr (2 or 4)');
  const defined = Object.fromEntries(Object.entries(values).filter(([k, v]) => v !== undefined && k !== 'help'));
  const parsed = SCHEMAS[task as keyof typeof SCHEMAS].safeParse(defined);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '));
  rejectSameModelName(parsed.data.model ?? []);
  return parsed.data;
}

/**
 * Refuses two `--model` folders of one name. The inference service and the rows know a model by
 * its folder name, so a folder given twice would be scored twice as two identical rows, and two
 * folders of one name (`a/sr-x2`, `b/sr-x2`) would both run one of them under the other's label.
 * A usage error rather than a silent de-duplication: a repeated folder is almost always a slip in
 * a long command, and the user should know which rows to expect.
 *
 * @throws UsageError naming both values.
 */
function rejectSameModelName(dirs: readonly string[]): void {
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    const name = path.basename(path.resolve(dir));
    const earlier = byName.get(name);
    if (earlier === undefined) {
      byName.set(name, dir);
    } else if (path.resolve(earlier) === path.resolve(dir)) {
      throw new UsageError(earlier === dir ? `--model ${dir} is given twice; give each model once` : `--model ${earlier} and --model ${dir} are the same folder; give each model once`);
    } else {
      throw new UsageError(`--model ${earlier} and --model ${dir} are both named ${name}: models are told apart by folder name, so give one of them another name (a copy or a link)`);
    }
  }
}
