/**
 * `npm run export -- --run <name> --name <model> [--runs-dir DIR] [--models-dir DIR] [--variant V]
 * [--temperature T]`: exports the generator of a run's latest checkpoint as a model folder
 * (model.json, weights.bin, metadata.json), with the run's last validation metrics. `--temperature`
 * decodes a colour-class head at T in (0, 1] instead of its training setting (no retraining).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { wantsHelp } from '@/lib/cli/args';
import { initBackend } from '@/lib/tf/backend';
import { findCheckpoint, loadCheckpoint } from '@/lib/train/checkpoint';
import { exportGenerator, summariseRunLog } from '@/lib/train/export';
import { getTask } from '@/lib/tasks/registry';
import { taskOptions } from '@/lib/train/loop';

const flagsSchema = z
  .object({
    run: z.string().min(1),
    name: z.string().regex(/^[\w.-]+$/),
    'runs-dir': z.string().optional(),
    'models-dir': z.string().optional(),
    variant: z.string().optional(),
    description: z.string().optional(),
    temperature: z.coerce.number().gt(0).max(1).optional(),
  })
  .strict();

const USAGE = `Usage: npm run export -- --run <name> --name <model> [--runs-dir DIR] [--models-dir DIR]
  [--variant V] [--description TEXT] [--temperature T]

Exports the generator of a run's latest checkpoint to <models-dir>/<model> (model.json, weights.bin,
metadata.json with the run's config and last validation metrics). --temperature decodes a colour-class
head at T in (0, 1] instead of its training setting.
`;

function fail(message: string): never {
  process.stderr.write(`export: ${message}\nRun with --help for the options.\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(USAGE);
    return;
  }
  let values;
  try {
    ({ values } = parseArgs({
      options: Object.fromEntries(Object.keys(flagsSchema.shape).map((k) => [k, { type: 'string' as const }])),
      strict: true,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  const parsed = flagsSchema.safeParse(values);
  if (!parsed.success) fail(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  const flags = parsed.data;
  const runDir = path.resolve(flags['runs-dir'] ?? process.env.RUNS_DIR ?? 'runs', flags.run);
  const checkpointDir = await findCheckpoint(runDir);
  if (!checkpointDir) fail(`no checkpoint in ${runDir}`);
  const backend = await initBackend();
  const checkpoint = await loadCheckpoint(checkpointDir);
  const { config } = checkpoint;
  const task = getTask(config.task);
  const out = path.resolve(flags['models-dir'] ?? process.env.MODELS_DIR ?? 'models', flags.name);
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
}

main().catch((error: unknown) => {
  process.stderr.write(`export: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
