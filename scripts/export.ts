/**
 * `npm run export -- --run <name> --name <model> [--runs-dir DIR] [--models-dir DIR] [--variant V]
 * [--description TEXT] [--temperature T]`: exports the generator of a run's latest checkpoint as a
 * model folder (model.json, weights.bin, metadata.json), with the run's last validation metrics.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { flag, parseCli, runCli } from '@/lib/cli/args';
import { defaultModelsDir } from '@/lib/infer/models';
import { runsDir } from '@/lib/server/runs';
import { initBackend } from '@/lib/tf/backend';
import { findCheckpoint, loadCheckpoint } from '@/lib/train/checkpoint';
import { exportGenerator, summariseRunLog } from '@/lib/train/export';
import { getTask } from '@/lib/tasks/registry';
import { taskOptions } from '@/lib/train/loop';

const USAGE = `Usage: npm run export -- --run <name> --name <model> [--runs-dir DIR] [--models-dir DIR]
  [--variant V] [--description TEXT] [--temperature T]

Exports the generator of a run's latest checkpoint to <models-dir>/<model> (model.json, weights.bin,
metadata.json with the run's config and last validation metrics).

  --run NAME          the training run (a folder in --runs-dir)
  --name MODEL        the model's name; it is written to <models-dir>/MODEL
  --runs-dir DIR      where runs are (default: $RUNS_DIR or ./runs)
  --models-dir DIR    where to write (default: $MODELS_DIR or ./models)
  --variant V         variant name for the app (e.g. sharp)
  --description TEXT  one line shown in the app
  --temperature T     decode a colour-class head at T in (0, 1] instead of its training setting
  --help              this text`;

const schema = z.object({
  run: flag.text('run'),
  name: flag.modelName('name'),
  'runs-dir': flag.text('runs-dir').optional(),
  'models-dir': flag.text('models-dir').optional(),
  variant: flag.text('variant').optional(),
  description: flag.text('description').optional(),
  temperature: flag
    .text('temperature')
    .transform(Number)
    .pipe(z.number({ message: '--temperature must be a number' }).gt(0, '--temperature must be above 0').max(1, '--temperature must be at most 1'))
    .optional(),
});

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
    },
    schema,
    allowPositionals: false,
  });
  const runDir = path.resolve(flags['runs-dir'] ?? runsDir(), flags.run);
  const checkpointDir = await findCheckpoint(runDir);
  if (!checkpointDir) {
    const exists = await fs.stat(runDir).then((s) => s.isDirectory(), () => false);
    throw new Error(exists ? `no checkpoint in ${runDir}` : `no run named ${flags.run} in ${path.dirname(runDir)}`);
  }
  const backend = await initBackend();
  const checkpoint = await loadCheckpoint(checkpointDir);
  const { config } = checkpoint;
  const task = getTask(config.task);
  const out = path.resolve(flags['models-dir'] ?? defaultModelsDir(), flags.name);
  const runLog = summariseRunLog(await fs.readFile(path.join(runDir, 'log.jsonl'), 'utf8').catch(() => ''));
  const metadata = await exportGenerator(checkpoint.generator, out, {
    name: flags.name,
    config,
    exportInfo: task.exportInfo(taskOptions(config)),
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
  return 0;
}

void runCli({ name: 'export', usage: USAGE }, main).then((code) => process.exit(code));
