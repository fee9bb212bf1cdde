/**
 * Reads training runs for the read-only training page. A run is a folder `<runsDir>/<run>/` with
 * `config.json` (the resolved training config), `log.jsonl` (one JSON record per line, appended while
 * training, so the last line may be half-written) and `samples/step-XXXXXXXX.png` sample grids.
 * Nothing here trusts the files: every record is validated and bad lines are counted, not fatal.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** `RUNS_DIR`, else `<cwd>/runs`. */
export function runsDir(env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env.RUNS_DIR?.trim();
  // turbopackIgnore: the runs folder is data read at run time, not something to trace into the build.
  return path.resolve(/*turbopackIgnore: true*/ fromEnv || path.join(/*turbopackIgnore: true*/ process.cwd(), 'runs'));
}

/** A log is live when it was written to within this window. */
export const LIVE_WINDOW_MS = 60_000;
/** Curves are thinned to about this many points so that long runs stay light to send and draw. */
export const MAX_CURVE_POINTS = 2_000;

const finite = z.number().finite();

export const trainRecordSchema = z.looseObject({
  type: z.literal('train'),
  step: z.number().int().min(0),
  elapsedSec: finite.optional(),
  lossD: finite.optional(),
  lossG: finite.optional(),
  lossGGan: finite.optional(),
  lossGL1: finite.optional(),
  lr: finite.optional(),
  imagesPerSec: finite.optional(),
});
export const valRecordSchema = z.looseObject({
  type: z.literal('val'),
  step: z.number().int().min(0),
  elapsedSec: finite.optional(),
  metrics: z.record(z.string(), z.number()),
});

/** One training step's numbers (only the known fields; absent ones stay absent). */
export interface TrainPoint {
  step: number;
  elapsedSec?: number;
  lossD?: number;
  lossG?: number;
  lossGGan?: number;
  lossGL1?: number;
  lr?: number;
  imagesPerSec?: number;
}
export interface ValPoint {
  step: number;
  metrics: Record<string, number>;
}

export interface ParsedLog {
  train: TrainPoint[];
  val: ValPoint[];
  /** Lines that were not valid JSON or not a known record (e.g. the half-written last line). */
  skippedLines: number;
}

const TRAIN_FIELDS = ['elapsedSec', 'lossD', 'lossG', 'lossGGan', 'lossGL1', 'lr', 'imagesPerSec'] as const;

/** Parses `log.jsonl` text; never throws. Unknown record types and fields are ignored. */
export function parseLog(text: string): ParsedLog {
  const train: TrainPoint[] = [];
  const val: ValPoint[] = [];
  let skippedLines = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      skippedLines++;
      continue;
    }
    const asTrain = trainRecordSchema.safeParse(json);
    if (asTrain.success) {
      const point: TrainPoint = { step: asTrain.data.step };
      for (const field of TRAIN_FIELDS) {
        const value = asTrain.data[field];
        if (value !== undefined) point[field] = value;
      }
      train.push(point);
      continue;
    }
    const asVal = valRecordSchema.safeParse(json);
    if (asVal.success) {
      val.push({ step: asVal.data.step, metrics: asVal.data.metrics });
      continue;
    }
    // Other record types (e.g. "start", "checkpoint") are fine to ignore; malformed train/val are not.
    const type = (json as { type?: unknown } | null)?.type;
    if (type === 'train' || type === 'val' || typeof type !== 'string') skippedLines++;
  }
  return { train, val, skippedLines };
}

/** Keeps every `stride`-th point plus the last, so a curve keeps its shape and its latest value. */
export function thin<T>(points: readonly T[], maxPoints = MAX_CURVE_POINTS): T[] {
  if (points.length <= maxPoints) return [...points];
  const stride = Math.ceil(points.length / maxPoints);
  const kept = points.filter((_, i) => i % stride === 0);
  if ((points.length - 1) % stride !== 0) kept.push(points[points.length - 1]!);
  return kept;
}

// `npm run train -- --run NAME` takes [\w.-]+; a leading underscore is fine, a leading dot or dash is not listed.
const RUN_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const SAMPLE_NAME = /^step-\d{8}\.png$/;

/** A run folder name that is safe to join to the runs folder (no separators, no `..`). */
export function isValidRunName(name: string): boolean {
  return RUN_NAME.test(name) && !name.includes('..');
}
export function isValidSampleName(name: string): boolean {
  return SAMPLE_NAME.test(name);
}

export interface RunSummary {
  name: string;
  /** From the config, when it says (`colorize`, `sr`, ...). */
  task?: string;
  /** Newest modification of the log (or the folder), ms since epoch. */
  modifiedAt: number;
  live: boolean;
  lastStep?: number;
  lastTrain?: TrainPoint;
  lastVal?: ValPoint;
  sampleCount: number;
}

export interface RunDetail extends RunSummary {
  config: Record<string, unknown> | null;
  /** `config.json` exists but is not valid JSON. */
  configError?: string;
  train: TrainPoint[];
  val: ValPoint[];
  /** Sample grid file names, oldest first. */
  samples: string[];
  skippedLines: number;
}

async function statOrUndefined(file: string) {
  return fs.stat(file).catch(() => undefined);
}

async function readConfig(dir: string): Promise<{ config: Record<string, unknown> | null; error?: string }> {
  const text = await fs.readFile(path.join(dir, 'config.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return { config: null };
  try {
    const parsed = z.record(z.string(), z.unknown()).safeParse(JSON.parse(text));
    return parsed.success ? { config: parsed.data } : { config: null, error: 'config.json is not a JSON object' };
  } catch (error) {
    return { config: null, error: `config.json is not valid JSON (${(error as Error).message})` };
  }
}

async function listSamples(dir: string): Promise<string[]> {
  const names = await fs.readdir(path.join(dir, 'samples')).catch(() => [] as string[]);
  return names.filter(isValidSampleName).sort();
}

function taskOf(config: Record<string, unknown> | null): string | undefined {
  const task = config?.task;
  return typeof task === 'string' ? task : undefined;
}

/** The last `bytes` of a text file, starting at a line boundary (the whole file when smaller). */
async function readTail(file: string, bytes: number): Promise<string> {
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    return start === 0 ? text : text.slice(text.indexOf('\n') + 1);
  } finally {
    await handle.close();
  }
}

/** How much of each log {@link listRuns} reads: enough for the latest records, cheap for long runs. */
const SUMMARY_TAIL_BYTES = 64 * 1024;

/**
 * Reads one run (curves thinned to {@link MAX_CURVE_POINTS}); with `tailBytes`, only the end of its
 * log, which is all a summary needs.
 * @returns undefined when the name is invalid or the folder does not exist.
 */
export async function readRun(
  name: string,
  dir = runsDir(),
  now = Date.now(),
  options: { tailBytes?: number } = {},
): Promise<RunDetail | undefined> {
  if (!isValidRunName(name)) return undefined;
  const runDir = path.join(/*turbopackIgnore: true*/ dir, name);
  const dirStat = await statOrUndefined(runDir);
  if (!dirStat?.isDirectory()) return undefined;
  const logFile = path.join(runDir, 'log.jsonl');
  const [logStat, logText, { config, error: configError }, samples] = await Promise.all([
    statOrUndefined(logFile),
    options.tailBytes ? readTail(logFile, options.tailBytes) : fs.readFile(logFile, 'utf8').catch(() => ''),
    readConfig(runDir),
    listSamples(runDir),
  ]);
  const log = parseLog(logText);
  const modifiedAt = (logStat ?? dirStat).mtimeMs;
  const lastTrain = log.train.at(-1);
  const lastVal = log.val.at(-1);
  const steps = [lastTrain?.step, lastVal?.step].filter((s): s is number => s !== undefined);
  const detail: RunDetail = {
    name,
    modifiedAt,
    live: logStat !== undefined && now - logStat.mtimeMs < LIVE_WINDOW_MS,
    sampleCount: samples.length,
    config,
    train: thin(log.train),
    val: thin(log.val),
    samples,
    skippedLines: log.skippedLines,
  };
  const task = taskOf(config);
  if (task) detail.task = task;
  if (steps.length) detail.lastStep = Math.max(...steps);
  if (lastTrain) detail.lastTrain = lastTrain;
  if (lastVal) detail.lastVal = lastVal;
  if (configError) detail.configError = configError;
  return detail;
}

/** All runs, newest first. A missing runs folder is an empty list. */
export async function listRuns(dir = runsDir(), now = Date.now()): Promise<RunSummary[]> {
  const entries = await fs.readdir(/*turbopackIgnore: true*/ dir, { withFileTypes: true }).catch(() => []);
  const runs = await Promise.all(
    entries.filter((e) => e.isDirectory() && isValidRunName(e.name)).map((e) => readRun(e.name, dir, now, { tailBytes: SUMMARY_TAIL_BYTES })),
  );
  return runs
    .filter((r): r is RunDetail => r !== undefined)
    .map(({ name, task, modifiedAt, live, lastStep, lastTrain, lastVal, sampleCount }) => {
      const summary: RunSummary = { name, modifiedAt, live, sampleCount };
      if (task) summary.task = task;
      if (lastStep !== undefined) summary.lastStep = lastStep;
      if (lastTrain) summary.lastTrain = lastTrain;
      if (lastVal) summary.lastVal = lastVal;
      return summary;
    })
    .sort((a, b) => b.modifiedAt - a.modifiedAt);
}

/** Absolute path of a run's sample grid, or undefined when a name is unsafe. */
export function samplePath(run: string, sample: string, dir = runsDir()): string | undefined {
  if (!isValidRunName(run) || !isValidSampleName(sample)) return undefined;
  const file = path.resolve(dir, run, 'samples', sample);
  return file.startsWith(path.resolve(dir) + path.sep) ? file : undefined;
}
