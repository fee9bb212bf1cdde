/**
 * `npm run bench:sr-designs`: trains each super-resolution design for the same CPU budget and
 * scores it on a benchmark folder along the way (the work is in lib/bench/sr-designs.ts).
 */
import { z } from 'zod';
import { flag, parseCli, runCli, UsageError } from '@/lib/cli/args';
import { compareSrDesigns, cropSizeProblem, SR_DESIGNS, srDesignsTable } from '@/lib/bench/sr-designs';

const USAGE = `Usage: npm run bench:sr-designs -- --data <photos> --bench <HR folder, e.g. Set5> [--scale 2|4]
                       [--cpu-minutes M] [--evaluations N] [--crop-size N] [--batch N] [--designs srnet,unet-pre] [--json]

Trains our low-resolution srnet and pix2pix's U-Net on the bicubic-upsampled image for the same
training CPU time each (default 10 minutes) and prints the benchmark Y-PSNR at N points of that
budget: quality per CPU-hour. Process CPU time is counted, so other load matters less than wall time.`;

const schema = z.object({
  data: z.string({ message: '--data is required' }),
  bench: z.string({ message: '--bench is required' }),
  scale: flag.int('scale', 2).pipe(z.union([z.literal(2), z.literal(4)], { message: '--scale must be 2 or 4' })).default(4),
  'cpu-minutes': flag.number('cpu-minutes', { above: 0 }).default(10),
  evaluations: flag.int('evaluations', 1).default(4),
  'crop-size': flag.int('crop-size', 32).default(96),
  batch: flag.int('batch', 1).default(8),
  designs: z
    .string()
    .transform((s) => s.split(',').map((d) => d.trim()))
    .pipe(z.array(z.enum(SR_DESIGNS)).min(1))
    .default([...SR_DESIGNS]),
  json: z.boolean().default(false),
  positionals: z.array(z.string()).max(0, 'no positional arguments'),
});

void runCli({ name: 'bench:sr-designs', usage: USAGE }, async (argv) => {
  const args = parseCli(argv, {
    options: {
      data: { type: 'string' },
      bench: { type: 'string' },
      scale: { type: 'string' },
      'cpu-minutes': { type: 'string' },
      evaluations: { type: 'string' },
      'crop-size': { type: 'string' },
      batch: { type: 'string' },
      designs: { type: 'string' },
      json: { type: 'boolean' },
    },
    schema,
  });
  const cropProblem = cropSizeProblem(args.designs, args['crop-size'], args.scale);
  if (cropProblem) throw new UsageError(cropProblem);
  const options = {
    data: args.data,
    bench: args.bench,
    scale: args.scale,
    cpuSeconds: args['cpu-minutes'] * 60,
    evaluations: args.evaluations,
    cropSize: args['crop-size'],
    batchSize: args.batch,
    designs: args.designs,
    log: (line: string) => process.stderr.write(`[sr-designs] ${line}\n`),
  };
  const results = await compareSrDesigns(options);
  process.stdout.write((args.json ? JSON.stringify({ options: { ...options, log: undefined }, results }, null, 2) : srDesignsTable(results, options)) + '\n');
  return 0;
}).then((code) => process.exit(code));
