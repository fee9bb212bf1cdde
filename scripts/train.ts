/**
 * `npm run train -- --task colorize --data <dir> [flags]`: a thin shell over lib/train.
 * Flags are kebab-case (`--batch-size 4`); `--help` lists them.
 */
import { parseArgs } from 'node:util';
import { ZodError, type z } from 'zod';
import { errorText, rejectRepeatedFlags } from '@/lib/cli/args';
import { cancelExitCode, cancelOnSignals } from '@/lib/cli/signals';
import { DataError } from '@/lib/data/images';
import { resolveNewRunConfig, resolveResumeConfig, trainFlagsSchema } from '@/lib/train/config';
import { train, TrainSetupError } from '@/lib/train/loop';

const HELP = `Usage: npm run train -- --task colorize|sr|paired --data <folder> [options]

  --task            colorize | sr | paired
  --data            folder of training images (paired: A/ and B/ folders, or side-by-side images)
  --run NAME        run name (folder under --runs-dir: letters, digits, _ . -); default <task>-<timestamp>
  --resume NAME     continue run NAME from its last checkpoint (--steps must be above its step)
  --init-from DIR   start from an exported model's generator (fine-tune, e.g. models/sr-x2 on your
                    own photos); size flags and scale default to that model's, fresh optimiser and
                    schedule; an sr model may add --blocks or start another --scale (new tail),
                    a U-Net change --head or --dropout
  --runs-dir DIR    where runs live (default ./runs or $RUNS_DIR)
  --steps N         total optimisation steps           --batch-size N    images per step
  --crop-size N     training crop (target) side         --scale 2|4       sr factor
  --direction AtoB|BtoA (paired)                        --val-fraction F  held-out share (0.1)
  --ngf N --depth N --norm batch|instance|none --dropout F        U-Net size
  --features N --blocks N                                          sr network size
  --expansion N     sr: train each block conv over-parameterised (1x1 to N x features, then 3x3,
                    plus the plain 3x3); exported folded into the plain network (0: off)
  --ndf N --n-layers N                                             PatchGAN size
  --gan vanilla|lsgan|wgangp|none  --lambda-l1 F  --lambda-gan F  --lr F  --beta1 F
  --pixel-loss l1|l2|l1-luma|ab-classes  reconstruction term (default l1); l2, the mean squared error, is
                    PSNR's own objective: for a last low-lr fine-tune of a faithful model
                    (--init-from); l1-luma (RGB outputs): L1 on BT.601 Y plus a quarter of it on
                    Cb and Cr, what the eye and Y-PSNR weigh
  --decay-steps N   linear lr decay over the last N steps (default half)
  --log-every N --sample-every N --val-every N --checkpoint-minutes M
  --seed N          --max-minutes M (time box; resume later with --resume)
  --val-seed N      seed of the held-out split (default 1, apart from --seed: runs with another
                    seed hold out the same photos); the run lists them in held-out.txt
  --export NAME     export the generator to <models-dir>/NAME when done (--models-dir DIR)
  --image-side N    colorize: resize photos to an N px short side before cropping (crops see most
                    of the picture; a multiple of 2^depth); the exported model then runs at that
                    size (default: photos as they are, and the exported model runs at 256)
  --head classes    colorize: predict a distribution over a*b* colour bins at half resolution and
                    decode it by its annealed mean (Zhang et al. 2016) instead of a*b* directly:
                    aims at more vivid colour than L1's cautious average; trains with --pixel-loss
                    ab-classes (the default with it) and no GAN. With --init-from a direct-head
                    model, its trained layers start the new head's run
  --ab-grid G       bin spacing in a*b* units (default 10: about 260 bins)
  --temperature T   decoding temperature in (0, 1]: 1 the mean, lower towards the mode (0.38)
  --rebalance L     class rebalancing lambda in [0, 1]: 1 none, lower favours rare colours (0.5)

  sr only, random per training crop (validation stays plain bicubic; fixed for a run, so not
  changeable with --resume):
  --degrade-blur S  Gaussian blur of the HR crop before downscaling, sigma in [0, S] HR px (S <= 5)
  --degrade-noise S Gaussian noise on the LR crop, std in [0, S] 8-bit levels (S <= 50)
  --degrade-jpeg Q  JPEG (4:2:0) the LR crop at a quality in [Q, 95] (Q 10..95)
  --downscale bicubic|area  how HR training crops become LR (default bicubic, the benchmark's)
  --hr-scales F,F   also train on each training photo downscaled by these factors in (0, 1), e.g.
                    0.8,0.6 (more scales of detail, cleaner than JPEG originals)
  --hr-originals false  train on the --hr-scales copies only, not the full-size photos (their finest
                    detail is partly JPEG noise); validation stays on the full-size held-out photos
`;

function toCamel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function toKebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function fail(message: string): never {
  process.stderr.write(`train: ${message}\nRun with --help for the options.\n`);
  process.exit(2);
}

/** One line per zod issue, led by the flag unless the message already names it (`--data is required: ...`). */
function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown option(s): ${issue.keys.map((k) => '--' + toKebab(k)).join(', ')}`;
  const key = issue.path[0];
  if (key === undefined) return issue.message;
  const flag = `--${toKebab(String(key))}`;
  return issue.message.startsWith(flag) ? issue.message : `${flag}: ${issue.message}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(trainFlagsSchema.shape).map((k) => [toKebab(k), { type: 'string' as const }]));
    const parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false, tokens: true });
    rejectRepeatedFlags(parsed.tokens, options);
    values = parsed.values;
  } catch (error) {
    fail((error as Error).message);
  }
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === true) fail(`--${k} needs a value`);
    raw[toCamel(k)] = v;
  }
  let config;
  try {
    config = typeof raw.resume === 'string' ? await resolveResumeConfig(raw) : await resolveNewRunConfig(trainFlagsSchema.parse(raw));
  } catch (error) {
    if (error instanceof ZodError) fail(error.issues.map(issueText).join('\n'));
    fail((error as Error).message);
  }
  process.stdout.write(`config: ${JSON.stringify(config)}\n`);

  // Ctrl-C reaches both npm and this process (npm relays it), so one keypress can arrive twice:
  // only a second signal well after the first means "quit now". (package.json starts the scripts
  // with `node --import tsx`, not the tsx launcher, which SIGKILLs a child busy in a step.)
  const signal = cancelOnSignals();
  signal.addEventListener('abort', () => {
    process.stderr.write(`\n${String(signal.reason)}: finishing the current step and saving a checkpoint (again to quit at once)\n`);
  });

  const tty = process.stderr.isTTY;
  const result = await train(config, {
    signal,
    log: (line) => process.stdout.write((tty ? '\r\x1b[K' : '') + line + '\n'),
    progress: (p) => {
      const width = 24;
      const filled = Math.round((p.step / p.totalSteps) * width);
      const eta = p.etaSec > 3600 ? `${(p.etaSec / 3600).toFixed(1)}h` : p.etaSec >= 60 ? `${Math.round(p.etaSec / 60)}m` : `${Math.round(p.etaSec)}s`;
      const losses = `G ${p.losses.lossG.toFixed(3)} (${config.gan.pixelLoss.toUpperCase()} ${p.losses.lossGL1.toFixed(4)}, GAN ${p.losses.lossGGan.toFixed(3)}) D ${p.losses.lossD.toFixed(3)}`;
      const until = p.etaBy === 'max-minutes' ? ' (--max-minutes)' : '';
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.step}/${p.totalSteps} ${p.imagesPerSec.toFixed(1)} img/s ETA ${eta}${until} ${losses}`;
      process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    },
  }).catch((error: unknown) => {
    if (error instanceof DataError || error instanceof TrainSetupError) fail(error.message);
    throw error;
  });
  process.stdout.write(`${tty ? '\n' : ''}done: ${result.step} steps in ${(result.elapsedSec / 60).toFixed(1)} min (stopped by ${result.stoppedBy}); run ${result.runDir}` + (result.exportedTo ? `; model ${result.exportedTo}` : '') + '\n');
  // Like the other CLIs: a script chaining `npm run train && ...` must not go on after an interrupt.
  if (result.stoppedBy === 'signal') process.exitCode = cancelExitCode(signal);
}

main().catch((error: unknown) => {
  // As the other scripts (runCli): the message, and the stack trace only with DEBUG set.
  process.stderr.write(`train: ${errorText(error)}\n`);
  process.exit(1);
});
