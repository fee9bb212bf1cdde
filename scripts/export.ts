/**
 * `npm run export -- --run <name> --name <model> [--runs-dir DIR] [--models-dir DIR] [--variant V]
 * [--description TEXT] [--temperature T] [--working-size N]`: exports the generator of a run's latest checkpoint as a
 * model folder (model.json, weights.bin, metadata.json), with the validation metrics the run logged
 * at the checkpoint's step (none when it logged none there).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { flag, parseCli, runCli, UsageError } from '@/lib/cli/args';
import { defaultModelsDir } from '@/lib/infer/models';
import { whyNotReplaceable } from '@/lib/model/io';
import { VARIANT_PATTERN, VARIANT_RULE } from '@/lib/model/metadata';
import { runsDir } from '@/lib/server/runs';
import { initBackend } from '@/lib/tf/backend';
import { findCheckpoint, loadCheckpoint, readCheckpointState } from '@/lib/train/checkpoint';
import { exportGenerator, summariseRunLog } from '@/lib/train/export';
import { getTask } from '@/lib/tasks/registry';
import { taskOptions } from '@/lib/train/loop';

const USAGE = `Usage: npm run export -- --run <name> --name <model> [--runs-dir DIR] [--models-dir DIR]
  [--variant V] [--description TEXT] [--temperature T] [--working-size N]

Exports the generator of a run's latest checkpoint to <models-dir>/<model> (model.json, weights.bin,
metadata.json with the run's config and the validation metrics logged at the checkpoint's step).

  --run NAME          the training run (a folder in --runs-dir)
  --name MODEL        the model's name; it is written to <models-dir>/MODEL, replacing a model
                      of that name (said when it does)
  --runs-dir DIR      where runs are (default: $RUNS_DIR or ./runs)
  --models-dir DIR    where to write (default: $MODELS_DIR or ./models)
  --variant V         variant name for the app (e.g. sharp): a lowercase letter, then lowercase
                      letters, digits or "-" (32 at most)
  --description TEXT  one line shown in the app
  --temperature T     decode a colour-class head at T in (0, 1] instead of its training setting
  --working-size N    colorize: run the model at an N px short side instead of the run's --image-side
                      (rounded to a multiple of 2^depth); e.g. a model trained on 192 px photos with
                      128 px crops sees objects at the scale of a 128 px whole photo
  --help              this text`;

const schema = z.object({
  run: flag.modelName('run'),
  name: flag.modelName('name'),
  'runs-dir': flag.text('runs-dir').optional(),
  'models-dir': flag.text('models-dir').optional(),
  // The app and the API ask for a variant as ?variant=NAME: any other form could never be asked for.
  variant: flag.text('variant').regex(VARIANT_PATTERN, `--variant must be ${VARIANT_RULE}`).optional(),
  description: flag.text('description').optional(),
  temperature: flag.number('temperature', { above: 0, max: 1 }).optional(),
  'working-size': flag.int('working-size', 16).optional(),
});

/**
 * What the export would replace at `out`: undefined when nothing is there, else a note naming the
 * model that is (the run it came from, its steps), for the user to see what was overwritten.
 *
 * @throws UsageError when a file stands where the models folder or the model folder would go, or
 *   `out` is a folder with files but no model in it (the export replaces the folder whole).
 */
async function replacedModel(out: string): Promise<string | undefined> {
  for (let p = path.dirname(out); ; p = path.dirname(p)) {
    const stat = await fs.stat(p).catch(() => undefined);
    if (stat && !stat.isDirectory()) throw new UsageError(`the models folder ${path.dirname(out)} cannot be made: ${p} is a file, not a folder`);
    if (stat || path.dirname(p) === p) break;
  }
  const refusal = await whyNotReplaceable(out);
  if (refusal) throw new UsageError(`${refusal}: choose another --name`);
  const text = await fs.readFile(path.join(out, 'metadata.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let training: { config?: { run?: unknown }; steps?: unknown } | undefined;
  try {
    training = (JSON.parse(text) as { training?: typeof training }).training;
  } catch {
    // Unreadable metadata: still a model folder (the app lists it), of unknown origin.
  }
  const run = training?.config?.run;
  const steps = training?.steps;
  return `the model that was in ${out}` + (typeof run === 'string' ? ` (from run ${run}${typeof steps === 'number' ? `, step ${steps}` : ''})` : '');
}

async function main(argv: readonly string[]): Promise<number> {
  const flags = parseCli(argv, {
    options: {
      run: { type: 'string' },
      name: { type: 'string' },
      'runs-dir': { type: 'string' },
      'models-dir': { type: 'string' },
      variant: { type: 'string' },
      description: { type: 'string' },
      temperature: { type: 'string' },
      'working-size': { type: 'string' },
    },
    schema,
    allowPositionals: false,
  });
  const runDir = path.resolve(flags['runs-dir'] ?? runsDir(), flags.run);
  const checkpointDir = await findCheckpoint(runDir);
  if (!checkpointDir) {
    const exists = await fs.stat(runDir).then((s) => s.isDirectory(), () => false);
    throw new UsageError(
      exists
        ? `no checkpoint in ${runDir}: the run saved none yet (it does every --checkpoint-minutes and when it stops)`
        : `no run named ${flags.run} in ${path.dirname(runDir)}`,
    );
  }
  const out = path.resolve(flags['models-dir'] ?? defaultModelsDir(), flags.name);
  // Checked before the weights are loaded: a mistake here should cost nothing.
  const replacing = await replacedModel(out);
  const { generator: saved, task: savedTask } = (await readCheckpointState(checkpointDir)).config;
  if (flags['working-size'] !== undefined && savedTask !== 'colorize') {
    throw new UsageError(`--working-size only applies to colorize runs; run ${flags.run} is --task ${savedTask}`);
  }
  if (flags.temperature !== undefined && !(saved.kind === 'unet' && saved.classHead)) {
    throw new UsageError(`--temperature decodes a colour-class head (a run trained with --head classes); run ${flags.run} has none`);
  }
  const backend = await initBackend();
  const checkpoint = await loadCheckpoint(checkpointDir);
  const { config } = checkpoint;
  const task = getTask(config.task);
  // Only a validation at the checkpoint's step scored these weights: a killed run may have logged later ones.
  const runLog = summariseRunLog(await fs.readFile(path.join(runDir, 'log.jsonl'), 'utf8').catch(() => ''), checkpoint.step);
  const metadata = await exportGenerator(checkpoint.generator, out, {
    name: flags.name,
    config,
    exportInfo: { ...task.exportInfo(taskOptions(config)), ...(flags['working-size'] !== undefined ? { workingSize: flags['working-size'] } : {}) },
    steps: checkpoint.step,
    wallTimeSeconds: checkpoint.elapsedSec,
    backend: backend.name,
    dataDescription: runLog.data?.description ?? path.basename(config.data),
    images: runLog.data?.images ?? 0,
    metrics: runLog.metrics,
    variant: flags.variant,
    description: flags.description,
    ...(flags.temperature !== undefined ? { inference: { temperature: flags.temperature } } : {}),
  });
  process.stdout.write(`exported ${out} (${metadata.task}, x${metadata.scale}, step ${metadata.training.steps})\n`);
  if (Object.keys(runLog.metrics).length === 0) {
    const why = runLog.heldOut === 0 ? 'the run held no photos out (its validation scored a training image)' : `the run's log has no validation at step ${checkpoint.step}, the checkpoint's`;
    process.stdout.write(`no validation metrics in its metadata: ${why} (score it with \`npm run eval\`)\n`);
  }
  // As `npm run train -- --export` says it: a model of that name (perhaps a shipped one) is gone.
  if (replacing) process.stdout.write(`replaced ${replacing}\n`);
  return 0;
}

void runCli({ name: 'export', usage: USAGE }, main).then((code) => process.exit(code));
