/**
 * The one training loop for every task: data from the task, models from the config, pix2pix step
 * functions, JSONL log, sample grids, validation, atomic checkpoints, resume, time box, export.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { makeFolders } from '@/lib/fs/folders';
import * as tfl from '@tensorflow/tfjs-layers';
import { shellWord } from '@/lib/cli/args';
import { defaultModelsDir, readMetadata } from '@/lib/infer/models';
import { whyNotReplaceable } from '@/lib/model/io';
import { runsDir as defaultRunsDir } from '@/lib/server/runs';
import { abPrior, rebalancingWeights } from '@/lib/image/ab-classes';
import { LAB_AB_SCALE } from '@/lib/model/metadata';
import { ExpandedConv2D, loadLayersFrom } from '@/lib/models/layers';
import { initBackend, describeBackend, type BackendInfo } from '@/lib/tf/backend';
import { architectureSchema, buildGenerator, buildPatchGan, buildSeeded, countParams } from '@/lib/models/generators';
import type { KeptSplit } from '@/lib/data/images';
import { getTask } from '@/lib/tasks/registry';
import type { Pair, TaskDefinition, TaskOptions } from '@/lib/tasks/types';
import type { TrainConfig } from './config';
import { findCheckpoint, loadCheckpoint, restoreOptimizers, saveCheckpoint } from './checkpoint';
import { exportGenerator, exportedMetrics } from './export';
import { classHeadBins, DEFAULT_CLASS_REBALANCE, learningRateFactor, Pix2PixTrainer, type StepLosses } from './pix2pix';
import { Rng } from './rng';

export interface TrainProgress {
  step: number;
  totalSteps: number;
  imagesPerSec: number;
  /** Seconds until the run stops: at its last step or at `--max-minutes`, whichever comes first. */
  etaSec: number;
  /** What `etaSec` counts down to: the last step, or the `--max-minutes` time box. */
  etaBy: 'steps' | 'max-minutes';
  losses: StepLosses;
}

export interface TrainHooks {
  log?: (line: string) => void;
  progress?: (p: TrainProgress) => void;
  /** Stops after the current step, saving a checkpoint (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
}

export interface TrainResult {
  runDir: string;
  step: number;
  elapsedSec: number;
  stoppedBy: 'steps' | 'time' | 'signal';
  metrics: Record<string, number>;
  exportedTo?: string;
}

/** The options a task reads, from a training config. */
export const taskOptions = (c: TrainConfig): TaskOptions => ({
  cropSize: c.cropSize,
  scale: c.scale,
  direction: c.direction,
  valFraction: c.valFraction,
  sizeMultiple: c.generator.kind === 'unet' ? 2 ** c.generator.depth : 1,
  degradation: c.degradation,
  ...(c.imageSide ? { imageSide: c.imageSide } : {}),
  ...(c.hrScales.length > 0 ? { hrScales: c.hrScales } : {}),
  ...(c.hrOriginals ? {} : { hrOriginals: false }),
});

/** Stacks same-size pairs into `[N, h, w, inC]` inputs and `[N, H, W, outC]` targets. */
export function toBatch(pairs: Pair[], cfg: { inC: number; outC: number }): { input: tf.Tensor4D; target: tf.Tensor4D } {
  const first = pairs[0]!;
  const stack = (key: 'input' | 'target', size: { width: number; height: number }, channels: number) => {
    const data = new Float32Array(pairs.length * size.width * size.height * channels);
    pairs.forEach((p, i) => data.set(p[key], i * size.width * size.height * channels));
    return tf.tensor4d(data, [pairs.length, size.height, size.width, channels]);
  };
  return { input: stack('input', first.inputSize, cfg.inC), target: stack('target', first.targetSize, cfg.outC) };
}

/** Runs G (inference mode) on each pair alone; returns outputs as flat arrays. */
async function predictPairs(generator: tfl.LayersModel, pairs: Pair[], inC: number): Promise<Float32Array[]> {
  const outs: Float32Array[] = [];
  for (const pair of pairs) {
    const out = tf.tidy(() => {
      const x = tf.tensor4d(pair.input, [1, pair.inputSize.height, pair.inputSize.width, inC]);
      return generator.apply(x, { training: false }) as tf.Tensor;
    });
    outs.push((await out.data()) as Float32Array);
    out.dispose();
  }
  return outs;
}

async function writeSampleGrid(file: string, task: TaskDefinition<unknown>, pairs: Pair[], outputs: Float32Array[]): Promise<void> {
  const { width, height } = pairs[0]!.targetSize;
  const gap = 4;
  const gridW = width * 3 + gap * 2;
  const gridH = pairs.length * height + gap * (pairs.length - 1);
  const grid = new Uint8Array(gridW * gridH * 3).fill(255);
  pairs.forEach((pair, row) => {
    const cells = [task.toRgb('input', pair.input, pair), task.toRgb('output', outputs[row]!, pair), task.toRgb('target', pair.target, pair)];
    cells.forEach((cell, col) => {
      for (let y = 0; y < height; y++) {
        const dst = ((row * (height + gap) + y) * gridW + col * (width + gap)) * 3;
        grid.set(cell.subarray(y * width * 3, (y + 1) * width * 3), dst);
      }
    });
  });
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(grid.buffer), { raw: { width: gridW, height: gridH, channels: 3 } }).png().toFile(file);
}

function averageMetrics(all: Record<string, number>[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const m of all) for (const [k, v] of Object.entries(m)) sums[k] = (sums[k] ?? 0) + v;
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / all.length]));
}

/** A wasm heap exhaustion (4 GiB at most) as an actionable message; other errors pass through. */
export function explainWasmAbort(error: unknown, config: Pick<TrainConfig, 'batchSize' | 'cropSize'>): Error {
  const message = (error as Error)?.message ?? String(error);
  if (/Aborted|out of memory|Cannot enlarge memory|memory access out of bounds/i.test(message)) {
    return new Error(
      `The wasm backend ran out of memory (its heap is 4 GiB at most) for batch ${config.batchSize} at ${config.cropSize}px. ` +
        'Use a smaller --batch-size, --crop-size or --ngf, or install @tensorflow/tfjs-node. (' + message + ')',
    );
  }
  return error as Error;
}

/**
 * Whether `to` is `from` with more residual blocks and/or another scale: an srnet whose extra blocks
 * start as (nearly) the identity, so copying `from`'s layers by name gives a network that computes
 * almost what `from` does; at another scale only the tail (its output conv) starts afresh, as
 * EDSR starts its x4 model from the x2 one.
 */
function grows(from: Record<string, unknown>, to: TrainConfig['generator']): boolean {
  return (
    to.kind === 'srnet' &&
    from.kind === 'srnet' &&
    from.channels === to.channels &&
    from.features === to.features &&
    typeof from.blocks === 'number' &&
    from.blocks <= to.blocks &&
    (from.expansion === undefined || from.expansion === 0)
  );
}

/**
 * Whether `from` and `to` are U-Nets that differ in `fields` only (compared after parsing, so that
 * models exported before a field existed compare with its default).
 */
function unetDiffersOnlyIn(from: Record<string, unknown>, to: TrainConfig['generator'], fields: readonly ('classHead' | 'dropout')[]): boolean {
  if (to.kind !== 'unet' || from.kind !== 'unet') return false;
  const parsed = architectureSchema.safeParse(from);
  if (!parsed.success || parsed.data.kind !== 'unet') return false;
  const without = (architecture: object): Record<string, unknown> => {
    const rest: Record<string, unknown> = { ...architecture };
    for (const field of fields) delete rest[field];
    return rest;
  };
  return isDeepStrictEqual(without(parsed.data), without(to));
}

/**
 * The generator of an exported model, for fine-tuning: the same architecture as the run's, (srnet)
 * the run's with more blocks, whose new blocks keep their identity-like initialisation, or (U-Net)
 * the run's with another output head, which starts fresh on the model's trained features, or with
 * another dropout rate.
 */
async function loadInitialGenerator(dir: string, config: TrainConfig, log: (line: string) => void): Promise<tfl.LayersModel> {
  const metadata = await readMetadata(dir);
  // Parsed, so that models exported before a field existed compare with its default.
  const parsed = architectureSchema.safeParse(metadata.architecture);
  const same = parsed.success && isDeepStrictEqual(parsed.data, config.generator);
  // Another output head: every layer but the last carries over. Another dropout rate: dropout has no weights.
  const newHead = !same && unetDiffersOnlyIn(metadata.architecture, config.generator, ['classHead']);
  const newDropout = !same && unetDiffersOnlyIn(metadata.architecture, config.generator, ['dropout']);
  if (!same && !newHead && !newDropout && !grows(metadata.architecture, config.generator)) {
    throw new Error(
      `--init-from ${dir}: its architecture ${JSON.stringify(metadata.architecture)} differs from this run's ` +
        `${JSON.stringify(config.generator)}; drop the size flags or make them match (an srnet may only add --blocks, a U-Net change --head or --dropout)`,
    );
  }
  const source = await loadLayersFrom(dir);
  if (same) return source;
  const target = buildSeeded(config.seed * 1000, () => buildGenerator(config.generator));
  let copied = 0;
  const targetNames = new Set(target.layers.map((layer) => layer.name));
  const fresh: string[] = [];
  for (const layer of source.layers) {
    const weights = layer.getWeights();
    // A new head replaces the source's last layer.
    if (weights.length === 0 || (newHead && !targetNames.has(layer.name))) continue;
    const into = target.getLayer(layer.name);
    // Another scale: the tail's output channels differ, so it keeps its fresh (bilinear-like) start.
    if (!(into instanceof ExpandedConv2D) && into.getWeights().some((w, i) => !isDeepStrictEqual(w.shape, weights[i]?.shape))) {
      fresh.push(layer.name);
      continue;
    }
    // A plain conv seeds an over-parameterised one as itself (its extra factor starts at zero).
    if (into instanceof ExpandedConv2D) into.setPlainWeights(weights);
    else into.setWeights(weights);
    copied++;
  }
  source.dispose();
  log(
    newHead
      ? `new output head on ${JSON.stringify(metadata.architecture)}: ${copied} layers copied, the head starts fresh`
      : newDropout
        ? `dropout ${String(metadata.architecture.dropout)} -> ${config.generator.kind === 'unet' ? config.generator.dropout : ''}: ${copied} layers copied`
        : `grew ${JSON.stringify(metadata.architecture)} into ${JSON.stringify(config.generator)}: ${copied} layers copied` +
          (target.layers.length > source.layers.length ? ', the new blocks start near the identity' : '') +
          (fresh.length > 0 ? `; ${fresh.join(', ')} ${fresh.length === 1 ? 'starts' : 'start'} fresh (another scale)` : ''),
  );
  return target;
}

/** Training pairs drawn to estimate the colour distribution for class rebalancing. */
const PRIOR_SAMPLES = 256;

/**
 * Rebalancing weights of the class head's bins from the colours of {@link PRIOR_SAMPLES} training
 * pairs, drawn from their own seeded stream so a resumed run computes the same weights.
 */
function colourClassWeights(
  generator: tfl.LayersModel,
  config: TrainConfig,
  task: TaskDefinition<unknown>,
  train: unknown[],
  options: TaskOptions,
  log: (line: string) => void,
): Float32Array {
  const bins = classHeadBins(generator);
  const rng = new Rng(config.seed * 7919 + 17);
  const colours = Array.from({ length: PRIOR_SAMPLES }, () => {
    const target = task.sample(train[rng.int(train.length)]!, options, rng).target;
    return Float32Array.from(target, (v) => v * LAB_AB_SCALE);
  });
  const lambda = config.gan.classRebalance ?? DEFAULT_CLASS_REBALANCE;
  const weights = rebalancingWeights(abPrior(bins, colours), lambda);
  const range = weights.reduce((r, w) => [Math.min(r[0]!, w), Math.max(r[1]!, w)], [Infinity, -Infinity]);
  log(`colour classes: ${bins.count} a*b* bins of ${bins.grid}; rebalancing lambda ${lambda}, weights ${range[0]!.toFixed(2)}-${range[1]!.toFixed(2)}`);
  return weights;
}

/** A run that cannot start: its run folder or export folder cannot be written (shown without a stack trace). */
export class TrainSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainSetupError';
  }
}

/**
 * Checks, before the data is loaded and hours are spent, that the run folder and the `--export`
 * folder can be made (no file stands in their path), and says when the export will replace a model
 * that another run exported.
 *
 * @throws TrainSetupError naming the flag and the file in the way.
 */
export async function checkOutputs(config: TrainConfig, log: (line: string) => void): Promise<void> {
  const check = async (dir: string, what: string) => {
    for (let p = dir; ; p = path.dirname(p)) {
      const stat = await fs.stat(p).catch(() => undefined);
      if (stat && !stat.isDirectory()) throw new TrainSetupError(`${what} ${dir}: ${p} is a file, not a folder`);
      if (stat || path.dirname(p) === p) return;
    }
  };
  await check(path.join(config.runsDir, config.run), '--runs-dir: the run folder');
  if (!config.export) return;
  const target = path.join(config.modelsDir, config.export);
  await check(target, '--export: the model folder');
  // Checked now as well as at the export: hours of training should not end in that refusal.
  const refusal = await whyNotReplaceable(target);
  if (refusal) throw new TrainSetupError(`--export: ${refusal}: choose another name`);
  const existing = await readMetadata(target).catch(() => undefined);
  const from = existing?.training.config.run;
  if (existing && from !== config.run) log(`--export ${config.export}: will replace the model in ${target} (${typeof from === 'string' ? `from run ${from}` : 'of another run'}) when done`);
}

/**
 * When the run stops, from the rate so far: after its remaining steps, or when `--max-minutes` (counted
 * from this session's start) runs out, whichever is sooner.
 *
 * @param sessionSec seconds this session has run.
 */
export function estimateEta(p: { stepsLeft: number; batchSize: number; imagesPerSec: number; maxMinutes: number | null; sessionSec: number }): Pick<TrainProgress, 'etaSec' | 'etaBy'> {
  const bySteps = (p.stepsLeft * p.batchSize) / p.imagesPerSec;
  const byTime = p.maxMinutes ? Math.max(0, p.maxMinutes * 60 - p.sessionSec) : Infinity;
  return byTime < bySteps ? { etaSec: byTime, etaBy: 'max-minutes' } : { etaSec: bySteps, etaBy: 'steps' };
}

/**
 * The seed of step `step`'s random draws (dropout masks, WGAN-GP mixing): a function of the run's
 * seed and the step alone, so an uninterrupted run and a resumed one draw the same, and the crop
 * stream of the run's RNG is not consumed (runs without dropout draw as they always did).
 */
export function stepSeed(seed: number, step: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0;
}

/** `runDir/<name>-<stamp><ext>`, a name not yet taken, for a file set aside. */
async function asideName(runDir: string, name: string, ext: string, when: Date): Promise<string> {
  const stamp = when.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  for (let n = 1; ; n++) {
    const candidate = path.join(runDir, `${name}-${stamp}${n > 1 ? `-${n}` : ''}${ext}`);
    if (!(await fs.stat(candidate).then(() => true, () => false))) return candidate;
  }
}

/**
 * A run folder that a session has written to but that holds no checkpoint (stopped or killed before
 * its first one): training starts over at step 0, so the earlier log and sample grids, of weights
 * that no longer exist, are moved aside (`log-<time>.jsonl`, `samples-<time>/`) rather than mixed
 * into the new run's curves and samples (the Training page reads `log.jsonl` and `samples/`).
 */
async function startOver(runDir: string, log: (line: string) => void): Promise<void> {
  const logFile = path.join(runDir, 'log.jsonl');
  const [logStat, samplesStat, configStat] = await Promise.all(
    [logFile, path.join(runDir, 'samples'), path.join(runDir, 'config.json')].map((p) => fs.stat(p).catch(() => undefined)),
  );
  if (!logStat && !samplesStat && !configStat) return;
  const moved: string[] = [];
  // A log without a step or a validation (stopped during startup) has nothing worth keeping.
  const logged = logStat ? /"type":"(train|val)"/.test(await fs.readFile(logFile, 'utf8')) : false;
  if (logStat && !logged) await fs.rm(logFile);
  if (logStat && logged) {
    const to = await asideName(runDir, 'log', '.jsonl', logStat.mtime);
    await fs.rename(logFile, to);
    moved.push(`its log to ${path.basename(to)}`);
  }
  if (samplesStat?.isDirectory()) {
    const to = await asideName(runDir, 'samples', '', samplesStat.mtime);
    await fs.rename(path.join(runDir, 'samples'), to);
    moved.push(`its samples to ${path.basename(to)}/`);
  }
  log(`no checkpoint in ${runDir} yet: starting over at step 0` + (moved.length > 0 ? ` (the earlier attempt's files kept aside: ${moved.join(', ')})` : ''));
}

/**
 * The split a resumed run keeps: its checkpoint's, else (a checkpoint from before it was saved) the
 * held-out.txt its earlier sessions wrote; undefined when neither exists.
 */
async function keptSplit(runDir: string, resumed: { split?: KeptSplit }): Promise<KeptSplit | undefined> {
  if (resumed.split) return resumed.split;
  const text = await fs.readFile(path.join(runDir, 'held-out.txt'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : { heldOut: text.split('\n').filter((line) => line.length > 0) };
}

/** Appends to `file`, starting a line of its own when the file ends in a half-written one (a killed session). */
async function openLog(file: string): Promise<fs.FileHandle> {
  const handle = await fs.open(file, 'a+');
  const { size } = await handle.stat();
  if (size > 0) {
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    if (last[0] !== 0x0a) await handle.appendFile('\n');
  }
  return handle;
}

/** Trains (or resumes) a run to completion, a time limit or an abort. */
export async function train(initial: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? ((line: string) => console.log(line));
  const backend: BackendInfo = await initBackend();
  log(describeBackend(backend));
  const runDir = path.join(initial.runsDir, initial.run);
  await checkOutputs(initial, log);
  const checkpointDir = await findCheckpoint(runDir);
  const resumed = checkpointDir ? await loadCheckpoint(checkpointDir) : undefined;
  // What the model is and what it learns from come from the checkpoint; how long and how often to
  // report come from the caller, so a resumed run can be extended, shortened or re-scheduled.
  const config: TrainConfig = resumed
    ? {
        ...resumed.config,
        // Where the run is now (renamed or moved since it started), not where it was saved.
        run: initial.run,
        runsDir: initial.runsDir,
        steps: initial.steps,
        decaySteps: initial.decaySteps,
        maxMinutes: initial.maxMinutes,
        export: initial.export,
        logEvery: initial.logEvery,
        sampleEvery: initial.sampleEvery,
        valEvery: initial.valEvery,
        checkpointMinutes: initial.checkpointMinutes,
        modelsDir: initial.modelsDir,
      }
    : initial;
  const task = getTask(config.task);
  const options = taskOptions(config);
  const rng = new Rng(config.seed);
  const kept = resumed ? await keptSplit(runDir, resumed) : undefined;
  if (resumed && !kept) log("the run's held-out photos were not recorded (no split in its checkpoint, no held-out.txt): drawn again from its seed, which repeats its first split only if the data folder is unchanged");
  const data = await task.load(config.data, options, config.valSeed === null ? rng : new Rng(config.valSeed), { log }, kept);
  if (data.changes?.length) log(`the data changed since the run started (what it held out stays held out; nothing it trained on is moved into validation): ${data.changes.join('; ')}`);
  log(
    data.valFromTraining
      ? `data: ${data.description}; ${data.train.length} for training; validation on ${data.valNames.join(', ')}, which is also trained on` +
          (data.changes?.length ? '' : ' (too few images or --val-fraction 0)') +
          ', so its scores are not held-out scores'
      : `data: ${data.description}; ${data.train.length} for training, ${data.val.length} held out (listed in held-out.txt)`,
  );
  if (resumed) log(`resuming ${runDir} at step ${resumed.step}`);
  else await startOver(runDir, log);

  const generator =
    resumed?.generator ?? (config.initFrom ? await loadInitialGenerator(config.initFrom, config, log) : buildSeeded(config.seed * 1000, () => buildGenerator(config.generator)));
  if (!resumed && config.initFrom) log(`generator weights from ${config.initFrom}`);
  const dConfig = config.discriminator;
  const discriminator = dConfig ? (resumed?.discriminator ?? buildSeeded(config.seed * 1000 + 500, () => buildPatchGan(dConfig))) : undefined;
  log(`generator: ${config.generator.kind}, ${countParams(generator).toLocaleString('en')} parameters` + (discriminator ? `; discriminator: ${countParams(discriminator).toLocaleString('en')}` : ''));
  const classWeights = config.gan.pixelLoss === 'ab-classes' ? colourClassWeights(generator, config, task, data.train, options, log) : undefined;
  const trainer = new Pix2PixTrainer({ generator, discriminator, gan: config.gan, optim: config.optim, ...(classWeights ? { classWeights } : {}) });
  if (resumed && checkpointDir) {
    await restoreOptimizers(checkpointDir, trainer.optimG, trainer.optimD);
    rng.restore(resumed.rng);
  }
  await makeFolders(runDir);
  await fs.writeFile(path.join(runDir, 'config.json'), JSON.stringify(config, null, 2));
  // Nothing is held out when validation reuses a training image: an empty list says so.
  const heldOut = data.valFromTraining ? [] : data.valNames;
  await fs.writeFile(path.join(runDir, 'held-out.txt'), heldOut.map((name) => name + '\n').join(''));
  // The photos given, each once: not sr's scaled copies, nor a training photo that validation reuses.
  const images = data.trainNames.length + heldOut.length;
  const logFile = await openLog(path.join(runDir, 'log.jsonl'));
  // So that a model exported later from a checkpoint (`npm run export`) can still say what it was trained on.
  await logFile.appendFile(JSON.stringify({ type: 'data', description: data.description, images, heldOut: heldOut.length }) + '\n');

  const exportInfo = task.exportInfo(options);
  const channels = { inC: exportInfo.inputChannels, outC: exportInfo.outputChannels };
  const valPairs = data.val.map((s) => task.validationPair(s, options));
  const samplePairs = valPairs.filter((p) => p.targetSize.width === valPairs[0]!.targetSize.width && p.targetSize.height === valPairs[0]!.targetSize.height).slice(0, 4);

  let step = resumed?.step ?? 0;
  let elapsedBefore = resumed?.elapsedSec ?? 0;
  let best = resumed?.best;
  let lastMetrics: Record<string, number> = {};
  let lastValidatedStep: number | undefined;
  const started = performance.now();
  let lastCheckpoint = started;
  let windowStart = started;
  let windowImages = 0;
  const windowLosses: StepLosses[] = [];
  const elapsed = () => elapsedBefore + (performance.now() - started) / 1000;

  const checkpoint = async () => {
    await saveCheckpoint(runDir, { step, elapsedSec: elapsed(), rng: rng.state, config, best, split: { heldOut, trained: data.trainNames } }, {
      generator,
      discriminator,
      optimG: trainer.optimG,
      optimD: trainer.optimD,
    });
    lastCheckpoint = performance.now();
  };

  const validate = async () => {
    const outputs = await predictPairs(generator, valPairs, channels.inC);
    lastMetrics = averageMetrics(outputs.map((o, i) => task.metrics(o, valPairs[i]!)));
    lastValidatedStep = step;
    await logFile.appendFile(JSON.stringify({ type: 'val', step, elapsedSec: elapsed(), metrics: lastMetrics }) + '\n');
    log(`val @${step}: ${Object.entries(lastMetrics).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
    if (lastMetrics.psnr !== undefined && (!best || lastMetrics.psnr > best.psnr)) best = { psnr: lastMetrics.psnr, step };
  };

  // The rate of the last step taken: what a log record reports (the schedule moves on after it).
  let lastLr = 0;
  const logWindow = async () => {
    const now = performance.now();
    const imagesPerSec = windowImages / ((now - windowStart) / 1000);
    const mean = (k: keyof StepLosses) => windowLosses.reduce((s, l) => s + l[k], 0) / windowLosses.length;
    const avg: StepLosses = { lossG: mean('lossG'), lossGGan: mean('lossGGan'), lossGL1: mean('lossGL1'), lossD: mean('lossD') };
    await logFile.appendFile(JSON.stringify({ type: 'train', step, elapsedSec: elapsed(), ...avg, lr: lastLr, imagesPerSec }) + '\n');
    const eta = estimateEta({ stepsLeft: config.steps - step, batchSize: config.batchSize, imagesPerSec, maxMinutes: config.maxMinutes, sessionSec: (now - started) / 1000 });
    hooks.progress?.({ step, totalSteps: config.steps, imagesPerSec, ...eta, losses: avg });
    windowStart = now;
    windowImages = 0;
    windowLosses.length = 0;
  };

  let stoppedBy: TrainResult['stoppedBy'] = 'steps';
  try {
    while (step < config.steps) {
      // A step yields to the event loop only at real I/O (a log line every --log-every steps), so
      // give Ctrl-C's handler its turn before each step: otherwise it waits up to that many steps.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (hooks.signal?.aborted) {
        stoppedBy = 'signal';
        break;
      }
      if (config.maxMinutes && (performance.now() - started) / 60000 >= config.maxMinutes) {
        stoppedBy = 'time';
        break;
      }
      const lrFactor = learningRateFactor(step, config.steps - config.decaySteps, config.decaySteps);
      trainer.setLearningRateFactor(lrFactor);
      const pairs = Array.from({ length: config.batchSize }, () => task.sample(data.train[rng.int(data.train.length)]!, options, rng));
      const { input, target } = toBatch(pairs, channels);
      let losses: StepLosses;
      try {
        losses = await trainer.trainStep(input, target, { seed: stepSeed(config.seed, step) });
      } finally {
        tf.dispose([input, target]);
      }
      if (!Number.isFinite(losses.lossG) || !Number.isFinite(losses.lossD)) {
        throw new Error(`Training diverged at step ${step + 1} (lossG ${losses.lossG}, lossD ${losses.lossD}); try a lower --lr`);
      }
      step++;
      lastLr = config.optim.lr * lrFactor;
      windowImages += config.batchSize;
      windowLosses.push(losses);
      if (step % config.logEvery === 0 || step === config.steps) await logWindow();
      if (step % config.sampleEvery === 0 && samplePairs.length > 0) {
        const outputs = await predictPairs(generator, samplePairs, channels.inC);
        await writeSampleGrid(path.join(runDir, 'samples', `step-${String(step).padStart(8, '0')}.png`), task, samplePairs, outputs);
      }
      if (step % config.valEvery === 0) await validate();
      if ((performance.now() - lastCheckpoint) / 60000 >= config.checkpointMinutes) await checkpoint();
    }
    // Stopped by Ctrl-C or the time box between log lines: the steps since the last one are logged too.
    if (windowLosses.length > 0) await logWindow();
    // The exported metrics must describe the final weights, not those of the last --val-every step.
    if (step > 0 && lastValidatedStep !== step) await validate();
    // Stopped before its first step (Ctrl-C during startup): there is nothing to save or export.
    if (step > 0) await checkpoint();
  } catch (error) {
    throw explainWasmAbort(error, config);
  } finally {
    await logFile.close();
  }

  const elapsedSec = elapsed();
  elapsedBefore = elapsedSec;
  let exportedTo: string | undefined;
  if (config.export && step === 0) {
    log(`nothing trained: ${path.join(config.modelsDir, config.export)} not exported`);
  } else if (config.export && stoppedBy === 'signal') {
    // An interrupted run is not done: exporting would replace a good model of that name with
    // half-trained weights. The checkpoint keeps them for --resume or an explicit export.
    const runsDirFlag = config.runsDir === defaultRunsDir() ? '' : ` --runs-dir ${shellWord(config.runsDir)}`;
    const modelsDirFlag = config.modelsDir === defaultModelsDir() ? '' : ` --models-dir ${shellWord(config.modelsDir)}`;
    const run = shellWord(config.run);
    log(
      `stopped at step ${step} of ${config.steps}: ${path.join(config.modelsDir, config.export)} not exported. ` +
        `Continue with \`npm run train -- --resume ${run}${runsDirFlag}\` (it exports when done), or export these weights with ` +
        `\`npm run export -- --run ${run}${runsDirFlag} --name ${shellWord(config.export)}${modelsDirFlag}\``,
    );
  } else if (config.export) {
    exportedTo = path.join(config.modelsDir, config.export);
    await exportGenerator(generator, exportedTo, {
      name: config.export,
      config,
      exportInfo,
      steps: step,
      wallTimeSeconds: elapsedSec,
      backend: backend.name,
      dataDescription: data.description,
      images,
      metrics: exportedMetrics(lastMetrics, heldOut.length),
    });
    // The command that runs what was just trained, so that nobody has to look it up.
    const runWith = { colorize: 'npm run colorize --', sr: `npm run upscale -- --scale ${config.scale}`, paired: 'npm run translate --' }[config.task];
    log(`exported ${exportedTo} (use it: ${runWith} --model ${shellWord(exportedTo)} <images> --out <dir>)`);
  }
  trainer.dispose();
  generator.dispose();
  discriminator?.dispose();
  return { runDir, step, elapsedSec, stoppedBy, metrics: lastMetrics, exportedTo };
}
