/**
 * `npm run average -- <model folders...> --name NAME [--models-dir DIR] [--weights 1,1,...]`: writes
 * the weight mean of compatible models as a new model folder (see lib/model/average.ts).
 */
import path from 'node:path';
import { z } from 'zod';
import { flag, parseCli, parseDecimal, runCli, UsageError } from '@/lib/cli/args';
import { defaultModelsDir } from '@/lib/infer/models';
import { averageModels, describeRepeat, repeatedFolder } from '@/lib/model/average';
import { VARIANT_PATTERN, VARIANT_RULE } from '@/lib/model/metadata';

const USAGE = `Usage: npm run average -- <model folder> <model folder> [...] --name NAME [--models-dir DIR] [--weights W1,W2,...]

Averages the weights of models trained from the same starting weights (a "model soup"): often more
faithful than each of them, at the same speed. Evaluate the result (npm run eval) before using it.

  --name NAME         the new model's name; it is written to <models-dir>/NAME
  --models-dir DIR    where to write (default: $MODELS_DIR or ./models)
  --weights LIST      one positive weight per model, comma-separated (default: equal); only
                      their ratios matter (2,1 = 0.67, 0.33)
  --variant V         variant name for the app (default: the first model's)
  --description TEXT  description (default: the first model's)
  --help              this text`;

const schema = z
  .object({
    name: flag.modelName('name'),
    'models-dir': flag.text('models-dir').optional(),
    weights: flag
      .text('weights')
      .transform((value, ctx) => {
        const weights = value.split(',').map(parseDecimal);
        // One message for the whole list, however many entries are wrong.
        if (weights.some((w) => !(w > 0) || !Number.isFinite(w))) {
          ctx.addIssue({ code: 'custom', message: `--weights must be positive numbers separated by commas; got "${value}"` });
          return z.NEVER;
        }
        return weights;
      })
      .optional(),
    variant: flag.text('variant').regex(VARIANT_PATTERN, `--variant must be ${VARIANT_RULE}`).optional(),
    description: flag.text('description').optional(),
    positionals: z.array(z.string()).min(2, 'give at least two model folders to average'),
  })
  .refine((v) => !v.weights || v.weights.length === v.positionals.length, { message: '--weights needs one number per model folder', path: ['weights'] });

async function main(argv: readonly string[]): Promise<number> {
  const flags = parseCli(argv, {
    options: {
      name: { type: 'string' },
      'models-dir': { type: 'string' },
      weights: { type: 'string' },
      variant: { type: 'string' },
      description: { type: 'string' },
    },
    schema,
  });
  const repeated = await repeatedFolder(flags.positionals);
  if (repeated) throw new UsageError(`${describeRepeat(repeated)}; give each model folder once (--weights sets how much each counts)`);
  const out = path.resolve(flags['models-dir'] ?? defaultModelsDir(), flags.name);
  const metadata = await averageModels(flags.positionals, out, {
    name: flags.name,
    ...(flags.weights ? { coefficients: flags.weights } : {}),
    ...(flags.variant ? { variant: flags.variant } : {}),
    ...(flags.description ? { description: flags.description } : {}),
  });
  const sources = (metadata.averagedFrom ?? []).map((s) => `${s.name} (${s.weight.toFixed(2)})`).join(', ');
  process.stdout.write(`wrote ${out}: mean of ${sources}\n`);
  return 0;
}

void runCli({ name: 'average', usage: USAGE }, main).then((code) => process.exit(code));
