/**
 * Reads training runs for the read-only training page. A run is a folder `<runsDir>/<run>/` with
 * `config.json` (the resolved training config), `log.jsonl` (one JSON record per line, appended while
 * training, so the last line may be half-written) and `samples/step-XXXXXXXX.png` sample grids.
 * Nothing here trusts the files: every record is validated and bad lines are counted, not fatal.
 *
 * The files are read synchronously, on purpose. Where inference runs on the server's thread
 * (`INFERENCE_WORKER=0`, a native backend, or a worker that could not start) it yields only between model runs, so while an image
 * is processed every await costs a model run (seconds for an ensemble): the training page, chaining a
 * dozen fs promises per run, took 40 s during an ensemble job. The reads are a few small files per
 * run (a 64 KiB log tail for the list), a few ms in all.
 */
import fs from 'node:fs';
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

function statOrUndefined(file: string): fs.Stats | undefined {
  return fs.statSync(file, { throwIfNoEntry: false });
}

function readTextOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function readConfig(dir: string): { config: Record<string, unknown> | null; error?: string } {
  const text = readTextOrUndefined(path.join(dir, 'config.json'));
  if (text === undefined) return { config: null };
  try {
    const parsed = z.record(z.string(), z.unknown()).safeParse(JSON.parse(text));
    return parsed.success ? { config: parsed.data } : { config: null, error: 'config.json is not a JSON object' };
  } catch (error) {
    return { config: null, error: `config.json is not valid JSON (${(error as Error).message})` };
  }
}

function listSamples(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(dir, 'samples'));
  } catch {
    return [];
  }
  return names.filter(isValidSampleName).sort();
}

function taskOf(config: Record<string, unknown> | null): string | undefined {
  const task = config?.task;
  return typeof task === 'string' ? task : undefined;
}

/** The last `bytes` of a text file, starting at a line boundary (the whole file when smaller). */
function readTail(file: string, bytes: number): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = fs.fstatSync(fd);
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    const read = fs.readSync(fd, buffer, 0, buffer.length, start);
    const text = buffer.subarray(0, read).toString('utf8');
    return start === 0 ? text : text.slice(text.indexOf('\n') + 1);
  } finally {
    fs.closeSync(fd);
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
  return readRunSync(name, dir, now, options);
}

function readRunSync(name: string, dir: string, now: number, options: { tailBytes?: number }): RunDetail | undefined {
  const runDir = path.join(/*turbopackIgnore: true*/ dir, name);
  const dirStat = statOrUndefined(runDir);
  if (!dirStat?.isDirectory()) return undefined;
  const logFile = path.join(runDir, 'log.jsonl');
  const logStat = statOrUndefined(logFile);
  const logText = options.tailBytes ? readTail(logFile, options.tailBytes) : (readTextOrUndefined(logFile) ?? '');
  const { config, error: configError } = readConfig(runDir);
  const samples = listSamples(runDir);
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
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(/*turbopackIgnore: true*/ dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory() && isValidRunName(e.name))
    .map((e) => readRunSync(e.name, dir, now, { tailBytes: SUMMARY_TAIL_BYTES }))
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
