/**
 * `npm run bench` flags, parsed with the shared helpers of `lib/cli/args.ts`.
 */
import { z } from 'zod';
import { BACKEND_NAMES, type BackendName } from '@/lib/tf/backend';
import { flag, parseCli, type FlagOptions } from '@/lib/cli/args';

export const USAGE = `Usage: npm run bench -- [--size N] [--ngf N] [--depth N] [--batch N] [--ndf N] [--steps N]
                       [--warmup N] [--backends wasm,cpu] [--no-cpu] [--json]

Times the pix2pix training engine on the colorize shape (generator 1 -> 2 channels, PatchGAN on 3
channels, 3 layers, instance norm): the median G+D training step and the median generator
inference on one image, on each backend, after warm-up; the achieved GFLOP/s of the step against a
large tf.matMul measured on the same backend; and the speed-up over the cpu backend on a small model.

  --size N       crop side in pixels, a multiple of 2^depth and at least 32 (default 128)
  --ngf N        generator filters of the first layer (default 32)
  --depth N      U-Net downsamplings, 2..9 (default 7)
  --batch N      images per training step (default 4)
  --ndf N        discriminator filters of the first layer (default 64, as npm run train)
  --steps N      timed steps (default 5)
  --warmup N     untimed steps before timing (default 2)
  --backends L   comma-separated: ${BACKEND_NAMES.join(', ')} (default: every available one except cpu,
                 which is slow and measured separately as the speed-up reference)
  --no-cpu       skip the cpu reference of the speed-up column, which runs by default, after the
                 other backends: one step (no warm-up: first-call costs are nothing next to a step
                 of many minutes) of a size 64, ngf 32, depth 6, batch 4 model on the cpu backend.
                 SLOW: 17 minutes per step measured on one 2020s core before the G step stopped
                 computing D's filter gradients, nearly all in tfjs-backend-cpu's
                 Conv2DBackpropFilter
  --json         print one JSON object instead of the table`;

const OPTIONS = {
  size: { type: 'string' },
  ngf: { type: 'string' },
  depth: { type: 'string' },
  batch: { type: 'string' },
  ndf: { type: 'string' },
  steps: { type: 'string' },
  warmup: { type: 'string' },
  backends: { type: 'string' },
  'no-cpu': { type: 'boolean' },
  json: { type: 'boolean' },
} satisfies FlagOptions;

const backendList = z
  .string({ message: '--backends needs a value' })
  .transform((value, ctx): BackendName[] => {
    const names = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const unknown = names.filter((n) => !(BACKEND_NAMES as readonly string[]).includes(n));
    if (names.length === 0 || unknown.length > 0) {
      ctx.addIssue({ code: 'custom', message: `--backends takes a comma-separated list of ${BACKEND_NAMES.join(', ')}; got "${value}"` });
      return z.NEVER;
    }
    return [...new Set(names)] as BackendName[];
  });

const schema = z
  .object({
    size: flag.int('size', 32).default(128),
    ngf: flag.int('ngf', 1).default(32),
    depth: flag.int('depth', 2).pipe(z.number().max(9, '--depth must be at most 9')).default(7),
    batch: flag.int('batch', 1).default(4),
    ndf: flag.int('ndf', 1).default(64),
    steps: flag.int('steps', 1).default(5),
    warmup: flag.int('warmup', 0).default(2),
    backends: backendList.optional(),
    'no-cpu': z.boolean().default(false),
    json: z.boolean().default(false),
    positionals: z.array(z.string()).max(0, 'bench takes no arguments, only flags'),
  })
  .superRefine((v, ctx) => {
    if (v.size % 2 ** v.depth !== 0) {
      ctx.addIssue({ code: 'custom', path: ['size'], message: `--size ${v.size} must be a multiple of 2^depth = ${2 ** v.depth}` });
    }
  });

export interface BenchArgs {
  size: number;
  ngf: number;
  depth: number;
  batch: number;
  ndf: number;
  steps: number;
  warmup: number;
  /** Undefined: every available backend except cpu. */
  backends?: BackendName[];
  cpuReference: boolean;
  json: boolean;
}

/**
 * Parses the bench flags (argv without node and script paths).
 * @throws UsageError naming the wrong flag.
 */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const v = parseCli(argv, { options: OPTIONS, schema });
  return {
    size: v.size,
    ngf: v.ngf,
    depth: v.depth,
    batch: v.batch,
    ndf: v.ndf,
    steps: v.steps,
    warmup: v.warmup,
    backends: v.backends,
    cpuReference: !v['no-cpu'],
    json: v.json,
  };
}
