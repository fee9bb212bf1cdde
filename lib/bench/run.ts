/**
 * The training-engine benchmark: times `Pix2PixTrainer.trainStep` and generator inference on each
 * backend, relates the step's analytic FLOPs to a matmul ceiling measured on the same backend, and
 * compares with the cpu backend on a small model.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { buildPatchGan, buildUnetGenerator, countParams, type PatchGanConfig, type UnetConfig } from '@/lib/models/generators';
import { BACKEND_NAMES, describeBackend, initBackend, type BackendName } from '@/lib/tf/backend';
import { Pix2PixTrainer } from '@/lib/train/pix2pix';
import { inferenceFlops, matMulFlops, pix2pixStepFlops, type Pix2PixStepFlops } from './flops';

/** The model size the bench varies; everything else is the colorize task's training setup. */
export interface ModelSize {
  size: number;
  ngf: number;
  depth: number;
  batch: number;
}

/** The colorize shape: L in, ab out; D sees L+ab. As `npm run train -- --task colorize` builds it. */
export const TASK_SHAPE = { name: 'colorize', inputChannels: 1, outputChannels: 2 } as const;
const DISCRIMINATOR = { ndf: 64, nLayers: 3, norm: 'instance' } as const;
const GAN = { mode: 'vanilla', lambdaL1: 100, lambdaGan: 1, gradientPenalty: 10 } as const;
const OPTIM = { lr: 2e-4, beta1: 0.5, beta2: 0.999 } as const;

/** The small model of the cpu comparison; the cpu backend takes minutes per step beyond it. */
export const CPU_REFERENCE: ModelSize = { size: 64, ngf: 32, depth: 6, batch: 4 };
export const CPU_REFERENCE_RUNS = { warmup: 1, steps: 1 } as const;

export function generatorConfig(m: ModelSize): UnetConfig {
  return {
    kind: 'unet',
    inputChannels: TASK_SHAPE.inputChannels,
    outputChannels: TASK_SHAPE.outputChannels,
    ngf: m.ngf,
    depth: m.depth,
    norm: 'instance',
    dropout: 0.5,
    outputActivation: 'tanh',
  };
}

/** The training default discriminator; `ndf` is only changed by tests, to keep them fast. */
export function discriminatorConfig(ndf: number = DISCRIMINATOR.ndf): PatchGanConfig {
  return { kind: 'patchgan', inputChannels: TASK_SHAPE.inputChannels + TASK_SHAPE.outputChannels, ...DISCRIMINATOR, ndf };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timeRuns(warmup: number, runs: number, once: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  return times;
}

export interface TrainTiming {
  /** Each timed step, in ms. */
  stepMs: number[];
  /** Each timed single-image generator inference, in ms (empty when not measured). */
  inferMs: number[];
}

/**
 * Builds fresh G and D on the current backend, runs `warmup` untimed then `steps` timed training
 * steps on one random batch (and as many inferences of one image when `infer`), and frees everything.
 */
export async function timeTraining(
  m: ModelSize,
  runs: { warmup: number; steps: number; infer: boolean },
  discriminatorCfg: PatchGanConfig = discriminatorConfig(),
): Promise<TrainTiming> {
  const generator = buildUnetGenerator(generatorConfig(m));
  const discriminator = buildPatchGan(discriminatorCfg);
  const trainer = new Pix2PixTrainer({ generator, discriminator, gan: { ...GAN }, optim: { ...OPTIM } });
  // Values in [-1, 1] like the task's encoding; the content does not change the work.
  const input = tf.randomUniform([m.batch, m.size, m.size, TASK_SHAPE.inputChannels], -1, 1) as tf.Tensor4D;
  const target = tf.randomUniform([m.batch, m.size, m.size, TASK_SHAPE.outputChannels], -1, 1) as tf.Tensor4D;
  const single = tf.randomUniform([1, m.size, m.size, TASK_SHAPE.inputChannels], -1, 1) as tf.Tensor4D;
  try {
    const stepMs = await timeRuns(runs.warmup, runs.steps, async () => {
      await trainer.trainStep(input, target);
    });
    const inferMs = runs.infer
      ? await timeRuns(Math.max(1, runs.warmup), runs.steps, async () => {
          const out = generator.predict(single) as tf.Tensor;
          await out.data();
          out.dispose();
        })
      : [];
    return { stepMs, inferMs };
  } finally {
    tf.dispose([input, target, single]);
    trainer.dispose();
    generator.dispose();
    discriminator.dispose();
  }
}

/** Median GFLOP/s of `[n, n] x [n, n]` products on the current backend (after one warm-up). */
export async function matMulCeiling(n: number, runs: number): Promise<{ n: number; gflops: number }> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  try {
    const times = await timeRuns(1, runs, async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    });
    return { n, gflops: matMulFlops(n, n, n) / (median(times) * 1e6) };
  } finally {
    tf.dispose([a, b]);
  }
}

/** Whether `name` can be initialised here (switches to it as a side effect when it can). */
export async function backendAvailable(name: BackendName): Promise<boolean> {
  try {
    await initBackend(name);
    return true;
  } catch {
    return false;
  }
}

export interface BenchOptions extends ModelSize {
  steps: number;
  warmup: number;
  /** Backends for the main table; undefined = every available one except cpu. */
  backends?: BackendName[];
  cpuReference: boolean;
  /** Overrides for tests: the cpu comparison model, the discriminator width and the matmul side. */
  reference?: ModelSize;
  ndf?: number;
  matMulSize?: number;
  log?: (line: string) => void;
}

export interface BackendResult {
  backend: BackendName;
  /** e.g. `backend: wasm (simd, 1 thread)`. */
  description: string;
  trainStepMs: number;
  trainStepMsAll: number[];
  imagesPerSec: number;
  /** One image of `size` x `size`, generator only. */
  inferMs: number;
  inferMsAll: number[];
  achievedGflops: number;
  inferGflops: number;
  ceilingGflops: number;
  /** achievedGflops / ceilingGflops. */
  ceilingFraction: number;
  /** Step time of the cpu reference over this backend's on the reference model; null without it. */
  speedupVsCpu: number | null;
  /** This backend's median step on the reference model (ms); null without the cpu reference. */
  referenceStepMs: number | null;
  /** Tensors left behind by this backend's measurements (should be 0). */
  leakedTensors: number;
}

export interface BenchResult {
  task: typeof TASK_SHAPE.name;
  inputChannels: number;
  outputChannels: number;
  model: ModelSize & { generatorParams: number; discriminatorParams: number; discriminator: PatchGanConfig; norm: 'instance'; dropout: number };
  steps: number;
  warmup: number;
  flops: { trainStep: number; inference: number; breakdown: Pix2PixStepFlops };
  matMulSize: number;
  /** The main (first) backend's figures, flat. */
  backend: BackendName;
  trainStepMs: number;
  imagesPerSec: number;
  inferMs: number;
  speedupVsCpu: number | null;
  achievedGflops: number;
  ceilingGflops: number;
  backends: BackendResult[];
  cpuReference: { model: ModelSize; warmup: number; steps: number; trainStepMs: number; trainStepMsAll: number[]; flops: number; achievedGflops: number } | null;
  /** Other processes on the machine slow every figure down; the 1-minute load averages tell by how much. */
  machine: { cpus: number; node: string; loadAverageStart: number; loadAverageEnd: number };
}

function sameSize(a: ModelSize, b: ModelSize): boolean {
  return a.size === b.size && a.ngf === b.ngf && a.depth === b.depth && a.batch === b.batch;
}

/**
 * Runs the whole benchmark. Backends are measured one after another, each on freshly built models;
 * the slow cpu reference comes last. Progress goes to `options.log`.
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const log = options.log ?? (() => {});
  const loadAverageStart = os.loadavg()[0]!;
  const reference = options.reference ?? CPU_REFERENCE;
  const matMulSize = options.matMulSize ?? 1024;
  const model: ModelSize = { size: options.size, ngf: options.ngf, depth: options.depth, batch: options.batch };
  const dConfig = discriminatorConfig(options.ndf);

  let backends: BackendName[];
  if (options.backends) {
    for (const name of options.backends) {
      // An explicitly requested backend that is missing is an error, with initBackend's reason.
      await initBackend(name);
    }
    backends = options.backends;
  } else {
    backends = [];
    for (const name of BACKEND_NAMES) if (name !== 'cpu' && (await backendAvailable(name))) backends.push(name);
    if (backends.length === 0) backends.push('cpu');
  }

  // FLOPs depend on shapes only; count them once on throwaway models.
  await initBackend(backends[0]);
  const g = buildUnetGenerator(generatorConfig(model));
  const d = buildPatchGan(dConfig);
  const breakdown = pix2pixStepFlops(g, d, { batch: model.batch, size: model.size, ...TASK_SHAPE });
  const inference = inferenceFlops(g, 1, model.size, TASK_SHAPE.inputChannels);
  const generatorParams = countParams(g);
  const discriminatorParams = countParams(d);
  let referenceFlops = breakdown.total;
  if (!sameSize(model, reference)) {
    const gr = buildUnetGenerator(generatorConfig(reference));
    referenceFlops = pix2pixStepFlops(gr, d, { batch: reference.batch, size: reference.size, ...TASK_SHAPE }).total;
    gr.dispose();
  }
  g.dispose();
  d.dispose();
  log(`one training step: ${(breakdown.total / 1e9).toFixed(2)} GFLOP; one inference: ${(inference / 1e9).toFixed(2)} GFLOP`);

  const results: BackendResult[] = [];
  for (const name of backends) {
    const info = await initBackend(name);
    const before = tf.memory().numTensors;
    log(`${describeBackend(info)}: ${options.warmup} warm-up + ${options.steps} timed training steps...`);
    const timing = await timeTraining(model, { warmup: options.warmup, steps: options.steps, infer: true }, dConfig);
    const trainStepMs = median(timing.stepMs);
    const inferMs = median(timing.inferMs);
    log(`${name}: step ${trainStepMs.toFixed(0)} ms, inference ${inferMs.toFixed(0)} ms; matmul ${matMulSize}^2...`);
    const ceiling = await matMulCeiling(matMulSize, 3);
    let referenceStepMs: number | null = null;
    if (options.cpuReference) {
      if (sameSize(model, reference)) {
        referenceStepMs = trainStepMs;
      } else if (name !== 'cpu') {
        log(`${name}: reference model (size ${reference.size}, ngf ${reference.ngf}, depth ${reference.depth}, batch ${reference.batch})...`);
        referenceStepMs = median((await timeTraining(reference, { warmup: options.warmup, steps: options.steps, infer: false }, dConfig)).stepMs);
      }
    }
    const achievedGflops = breakdown.total / (trainStepMs * 1e6);
    results.push({
      backend: name,
      description: describeBackend(info),
      trainStepMs,
      trainStepMsAll: timing.stepMs,
      imagesPerSec: model.batch / (trainStepMs / 1000),
      inferMs,
      inferMsAll: timing.inferMs,
      achievedGflops,
      inferGflops: inference / (inferMs * 1e6),
      ceilingGflops: ceiling.gflops,
      ceilingFraction: achievedGflops / ceiling.gflops,
      speedupVsCpu: null,
      referenceStepMs,
      leakedTensors: tf.memory().numTensors - before,
    });
  }

  let cpuReference: BenchResult['cpuReference'] = null;
  if (options.cpuReference) {
    const main = results.find((r) => r.backend === 'cpu');
    let stepMsAll: number[];
    if (main && sameSize(model, reference)) {
      stepMsAll = main.trainStepMsAll;
    } else {
      await initBackend('cpu');
      log(`cpu reference: ${CPU_REFERENCE_RUNS.warmup} warm-up + ${CPU_REFERENCE_RUNS.steps} timed step (minutes)...`);
      stepMsAll = (await timeTraining(reference, { ...CPU_REFERENCE_RUNS, infer: false }, dConfig)).stepMs;
    }
    const trainStepMs = median(stepMsAll);
    cpuReference = {
      model: reference,
      ...CPU_REFERENCE_RUNS,
      trainStepMs,
      trainStepMsAll: stepMsAll,
      flops: referenceFlops,
      achievedGflops: referenceFlops / (trainStepMs * 1e6),
    };
    for (const r of results) {
      if (r.backend === 'cpu') r.referenceStepMs = trainStepMs;
      r.speedupVsCpu = r.referenceStepMs === null ? null : trainStepMs / r.referenceStepMs;
    }
  }

  const first = results[0]!;
  return {
    task: TASK_SHAPE.name,
    inputChannels: TASK_SHAPE.inputChannels,
    outputChannels: TASK_SHAPE.outputChannels,
    model: { ...model, generatorParams, discriminatorParams, discriminator: dConfig, norm: 'instance', dropout: 0.5 },
    steps: options.steps,
    warmup: options.warmup,
    flops: { trainStep: breakdown.total, inference, breakdown },
    matMulSize,
    backend: first.backend,
    trainStepMs: first.trainStepMs,
    imagesPerSec: first.imagesPerSec,
    inferMs: first.inferMs,
    speedupVsCpu: first.speedupVsCpu,
    achievedGflops: first.achievedGflops,
    ceilingGflops: first.ceilingGflops,
    backends: results,
    cpuReference,
    machine: { cpus: os.cpus().length, node: process.version, loadAverageStart, loadAverageEnd: os.loadavg()[0]! },
  };
}
