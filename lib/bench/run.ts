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

/**
 * The small model of the cpu comparison. Even this one took about 17 minutes per step on the cpu
 * backend (measured when the G step still computed D's filter gradients): its Conv2DBackpropFilter
 * reads every operand through TensorBuffer.get (about 0.4 us per multiply-add), two thirds of a
 * step. One timed step and no warm-up: first-call costs vanish next to a step that long.
 */
export const CPU_REFERENCE: ModelSize = { size: 64, ngf: 32, depth: 6, batch: 4 };
export const CPU_REFERENCE_RUNS = { warmup: 0, steps: 1 } as const;

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

/** The training default discriminator, with `ndf` first-layer filters. */
export function discriminatorConfig(ndf: number = DISCRIMINATOR.ndf): PatchGanConfig {
  return { kind: 'patchgan', inputChannels: TASK_SHAPE.inputChannels + TASK_SHAPE.outputChannels, ...DISCRIMINATOR, ndf };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Wall-clock and process CPU time (user + system, all threads) of each timed run, in ms. */
export interface Timed {
  wallMs: number[];
  cpuMs: number[];
}

async function timeRuns(warmup: number, runs: number, once: () => Promise<void>, between?: () => Promise<void>): Promise<Timed> {
  for (let i = 0; i < warmup; i++) await once();
  const timed: Timed = { wallMs: [], cpuMs: [] };
  for (let i = 0; i < runs; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await once();
    timed.wallMs.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    timed.cpuMs.push((cpu.user + cpu.system) / 1000);
    await between?.();
  }
  return timed;
}

export interface TrainTiming {
  /** Each timed training step. */
  step: Timed;
  /** Each timed single-image generator inference (empty when not measured). */
  infer: Timed;
}

/**
 * Builds fresh G and D on the current backend, runs `warmup` untimed then `steps` timed training
 * steps on one random batch (and as many inferences of one image when `infer`), and frees everything.
 */
export async function timeTraining(
  m: ModelSize,
  runs: { warmup: number; steps: number; infer: boolean },
  discriminatorCfg: PatchGanConfig = discriminatorConfig(),
  /** Untimed work after each timed step (the bench samples the matmul ceiling there). */
  betweenSteps?: () => Promise<void>,
): Promise<TrainTiming> {
  const generator = buildUnetGenerator(generatorConfig(m));
  const discriminator = buildPatchGan(discriminatorCfg);
  const trainer = new Pix2PixTrainer({ generator, discriminator, gan: { ...GAN }, optim: { ...OPTIM } });
  // Values in [-1, 1] like the task's encoding; the content does not change the work.
  const input = tf.randomUniform([m.batch, m.size, m.size, TASK_SHAPE.inputChannels], -1, 1) as tf.Tensor4D;
  const target = tf.randomUniform([m.batch, m.size, m.size, TASK_SHAPE.outputChannels], -1, 1) as tf.Tensor4D;
  const single = tf.randomUniform([1, m.size, m.size, TASK_SHAPE.inputChannels], -1, 1) as tf.Tensor4D;
  try {
    const step = await timeRuns(
      runs.warmup,
      runs.steps,
      async () => {
        await trainer.trainStep(input, target);
      },
      betweenSteps,
    );
    const infer = runs.infer
      ? await timeRuns(Math.max(1, runs.warmup), runs.steps, async () => {
          const out = generator.predict(single) as tf.Tensor;
          await out.data();
          out.dispose();
        })
      : { wallMs: [], cpuMs: [] };
    return { step, infer };
  } finally {
    tf.dispose([input, target, single]);
    trainer.dispose();
    generator.dispose();
    discriminator.dispose();
  }
}

/**
 * Times one `[n, n] x [n, n]` product per {@link sample} call, so that the ceiling can be sampled
 * between training steps: on a shared VM whose speed drifts by 2x within minutes, a ceiling taken
 * beside each step keeps the step/ceiling ratio meaningful.
 */
export class MatMulSampler {
  readonly samples: Timed = { wallMs: [], cpuMs: [] };
  private readonly a: tf.Tensor2D;
  private readonly b: tf.Tensor2D;

  constructor(readonly n: number) {
    this.a = tf.randomNormal([n, n]);
    this.b = tf.randomNormal([n, n]);
  }

  /** One untimed product (the first call allocates and packs). */
  async warmUp(): Promise<void> {
    const c = tf.matMul(this.a, this.b);
    await c.data();
    c.dispose();
  }

  async sample(): Promise<void> {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const c = tf.matMul(this.a, this.b);
    await c.data();
    this.samples.wallMs.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    this.samples.cpuMs.push((cpu.user + cpu.system) / 1000);
    c.dispose();
  }

  /** GFLOP/s per wall and per CPU second: medians of the samples so far. */
  result(): { n: number; gflops: number; gflopsCpu: number } {
    const flops = matMulFlops(this.n, this.n, this.n);
    return { n: this.n, gflops: flops / (median(this.samples.wallMs) * 1e6), gflopsCpu: flops / (median(this.samples.cpuMs) * 1e6) };
  }

  dispose(): void {
    tf.dispose([this.a, this.b]);
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
  /** Discriminator filters of the first layer (default 64, the training default). */
  ndf?: number;
  /** Overrides for tests: the cpu comparison model and the matmul side. */
  reference?: ModelSize;
  matMulSize?: number;
  log?: (line: string) => void;
}

/**
 * Figures of one backend. Wall-clock figures are what a user waits; CPU-time figures (`...Cpu...`)
 * count only the time this process ran, so they stay meaningful when other processes compete for
 * the cores (for single-threaded backends they approximate an idle machine's wall-clock time).
 */
export interface BackendResult {
  backend: BackendName;
  /** e.g. `backend: wasm (simd, 1 thread)`. */
  description: string;
  trainStepMs: number;
  trainStepCpuMs: number;
  trainStepMsAll: number[];
  trainStepCpuMsAll: number[];
  imagesPerSec: number;
  /** One image of `size` x `size`, generator only. */
  inferMs: number;
  inferCpuMs: number;
  inferMsAll: number[];
  achievedGflops: number;
  /** Step FLOPs per CPU second. */
  achievedGflopsCpu: number;
  inferGflops: number;
  ceilingGflops: number;
  ceilingGflopsCpu: number;
  /** Wall time of each ceiling matmul, timed right after the training step of the same index. */
  ceilingMatMulMsAll: number[];
  /** Median over timed steps of the step's GFLOP/s over the matmul ceiling sampled right after it (wall). */
  ceilingFraction: number;
  /** The same per CPU second. */
  ceilingFractionCpu: number;
  /** cpu backend's step time over this backend's, on the reference model; null without the cpu reference. */
  speedupVsCpu: number | null;
  /** The same ratio of CPU times. */
  speedupVsCpuByCpuTime: number | null;
  /** This backend's median step on the reference model; null without the cpu reference. */
  referenceStepMs: number | null;
  referenceStepCpuMs: number | null;
  /** Tensors left behind by this backend's measurements (should be 0). */
  leakedTensors: number;
}

export interface CpuReference {
  model: ModelSize;
  warmup: number;
  steps: number;
  trainStepMs: number;
  trainStepCpuMs: number;
  trainStepMsAll: number[];
  flops: number;
  achievedGflops: number;
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
  cpuReference: CpuReference | null;
  /** Other processes on the machine slow every wall-clock figure down; the 1-minute load averages tell by how much. */
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
    // The ceiling is sampled after every timed step (one warm-up product first), not once afterwards.
    const sampler = new MatMulSampler(matMulSize);
    await sampler.warmUp();
    let timing: TrainTiming;
    try {
      timing = await timeTraining(model, { warmup: options.warmup, steps: options.steps, infer: true }, dConfig, () => sampler.sample());
    } finally {
      sampler.dispose();
    }
    const ceiling = sampler.result();
    const trainStepMs = median(timing.step.wallMs);
    const trainStepCpuMs = median(timing.step.cpuMs);
    const inferMs = median(timing.infer.wallMs);
    // Each step against the ceiling sampled right after it, then the median of those ratios.
    // GFLOP/s ratio of a step and the product after it = FLOP ratio x time ratio.
    const flopRatio = breakdown.total / matMulFlops(matMulSize, matMulSize, matMulSize);
    const ceilingFraction = median(timing.step.wallMs.map((ms, i) => (flopRatio * sampler.samples.wallMs[i]!) / ms));
    const ceilingFractionCpu = median(timing.step.cpuMs.map((ms, i) => (flopRatio * sampler.samples.cpuMs[i]!) / ms));
    log(`${name}: step ${trainStepMs.toFixed(0)} ms (${trainStepCpuMs.toFixed(0)} ms CPU), inference ${inferMs.toFixed(0)} ms; matmul ${matMulSize}^2 ${ceiling.gflops.toFixed(1)} GFLOP/s`);
    let onReference: { wall: number; cpu: number } | null = null;
    if (options.cpuReference) {
      if (sameSize(model, reference)) {
        onReference = { wall: trainStepMs, cpu: trainStepCpuMs };
      } else if (name !== 'cpu') {
        log(`${name}: reference model (size ${reference.size}, ngf ${reference.ngf}, depth ${reference.depth}, batch ${reference.batch})...`);
        const { step } = await timeTraining(reference, { warmup: options.warmup, steps: options.steps, infer: false }, dConfig);
        onReference = { wall: median(step.wallMs), cpu: median(step.cpuMs) };
      }
    }
    const achievedGflops = breakdown.total / (trainStepMs * 1e6);
    const achievedGflopsCpu = breakdown.total / (trainStepCpuMs * 1e6);
    results.push({
      backend: name,
      description: describeBackend(info),
      trainStepMs,
      trainStepCpuMs,
      trainStepMsAll: timing.step.wallMs,
      trainStepCpuMsAll: timing.step.cpuMs,
      imagesPerSec: model.batch / (trainStepMs / 1000),
      inferMs,
      inferCpuMs: median(timing.infer.cpuMs),
      inferMsAll: timing.infer.wallMs,
      achievedGflops,
      achievedGflopsCpu,
      inferGflops: inference / (inferMs * 1e6),
      ceilingGflops: ceiling.gflops,
      ceilingGflopsCpu: ceiling.gflopsCpu,
      ceilingMatMulMsAll: sampler.samples.wallMs,
      ceilingFraction,
      ceilingFractionCpu,
      speedupVsCpu: null,
      speedupVsCpuByCpuTime: null,
      referenceStepMs: onReference?.wall ?? null,
      referenceStepCpuMs: onReference?.cpu ?? null,
      leakedTensors: tf.memory().numTensors - before,
    });
  }

  let cpuReference: CpuReference | null = null;
  if (options.cpuReference) {
    const main = results.find((r) => r.backend === 'cpu');
    let step: Timed;
    if (main && sameSize(model, reference)) {
      step = { wallMs: main.trainStepMsAll, cpuMs: main.trainStepCpuMsAll };
    } else {
      await initBackend('cpu');
      log(`cpu reference: ${CPU_REFERENCE_RUNS.warmup} warm-up + ${CPU_REFERENCE_RUNS.steps} timed step (many minutes at the default reference size)...`);
      step = (await timeTraining(reference, { ...CPU_REFERENCE_RUNS, infer: false }, dConfig)).step;
    }
    const trainStepMs = median(step.wallMs);
    const trainStepCpuMs = median(step.cpuMs);
    cpuReference = {
      model: reference,
      ...CPU_REFERENCE_RUNS,
      trainStepMs,
      trainStepCpuMs,
      trainStepMsAll: step.wallMs,
      flops: referenceFlops,
      achievedGflops: referenceFlops / (trainStepMs * 1e6),
    };
    for (const r of results) {
      if (r.backend === 'cpu') {
        r.referenceStepMs = trainStepMs;
        r.referenceStepCpuMs = trainStepCpuMs;
      }
      if (r.referenceStepMs !== null && r.referenceStepCpuMs !== null) {
        r.speedupVsCpu = trainStepMs / r.referenceStepMs;
        r.speedupVsCpuByCpuTime = trainStepCpuMs / r.referenceStepCpuMs;
      }
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
