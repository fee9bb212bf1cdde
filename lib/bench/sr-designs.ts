/**
 * Which super-resolution design gives more quality per CPU-hour of training on this engine?
 * Both designs see the same photos, the same random LR/HR patches (the `sr` task's sampler), the
 * same L1 loss and the same CPU-time budget; each is scored on a benchmark folder (Set5) at
 * fixed fractions of that budget with the standard protocol (Y-PSNR, `scale` pixels shaved).
 *
 * - `srnet`: our low-resolution network (residual blocks on the LR image, pixel-shuffle head,
 *   residual over bilinear upsampling).
 * - `unet-pre`: pix2pix's U-Net on the bicubic-upsampled image, images in [-1, 1], tanh output,
 *   as the original paper would do super-resolution as image-to-image translation.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildSeeded, buildSrNet, buildUnetGenerator, countParams } from '@/lib/models/generators';
import { imresize } from '@/lib/eval/bicubic';
import { listImages } from '@/lib/eval/data';
import { quantize, readImageFile, type FloatImage } from '@/lib/eval/image';
import { makeSrPair, scoreSr, type SrPair } from '@/lib/eval/sr';
import { srTask, type SrSource } from '@/lib/tasks/sr';
import type { Pair, TaskOptions } from '@/lib/tasks/types';
import { toBatch } from '@/lib/train/loop';
import { Pix2PixTrainer } from '@/lib/train/pix2pix';
import { Rng } from '@/lib/train/rng';
import { initBackend } from '@/lib/tf/backend';

export const SR_DESIGNS = ['srnet', 'unet-pre'] as const;
export type SrDesign = (typeof SR_DESIGNS)[number];

export interface SrDesignOptions {
  /** Training photos (the `sr` task's loader; the seeded 10 % hold-out is left out). */
  data: string;
  /** Benchmark HR folder (e.g. Set5). */
  bench: string;
  scale: 2 | 4;
  /** Training CPU seconds per design (process CPU time, so other load on the machine matters less). */
  cpuSeconds: number;
  /** How many times during the budget each design is scored on the benchmark. */
  evaluations: number;
  cropSize: number;
  batchSize: number;
  designs: readonly SrDesign[];
  log: (line: string) => void;
}

export interface SrDesignPoint {
  steps: number;
  cpuSeconds: number;
  psnr: number;
}

export interface SrDesignResult {
  design: SrDesign;
  description: string;
  params: number;
  lr: number;
  points: SrDesignPoint[];
  /** Inference CPU ms per output megapixel on the benchmark (whole images). */
  inferCpuMsPerMegapixel: number;
}

interface Design {
  description: string;
  lr: number;
  model: tfl.LayersModel;
  /** A training pair (LR patch [0, 1] -> HR patch [0, 1]) in the model's own encoding. */
  encode(pair: Pair, scale: number): Pair;
  /** LR image [0, 1] -> SR image [0, 1] (unclipped), run on the whole image. */
  upscale(lr: FloatImage, scale: number): FloatImage;
}

const UNET_DEPTH = 5;

/**
 * Why training crops of `cropSize` (HR pixels) cannot serve `designs` at `scale`, or undefined.
 * Checked before any training: unet-pre's skip connections fail on a crop it cannot halve
 * {@link UNET_DEPTH} times, which otherwise showed only after the first design had spent its budget.
 */
export function cropSizeProblem(designs: readonly SrDesign[], cropSize: number, scale: number): string | undefined {
  if (cropSize % scale !== 0) return `--crop-size ${cropSize} must be a multiple of --scale ${scale}`;
  const multiple = 2 ** UNET_DEPTH;
  if (designs.includes('unet-pre') && cropSize % multiple !== 0) {
    const nearest = Math.max(multiple, Math.round(cropSize / multiple) * multiple);
    return `--crop-size ${cropSize}: unet-pre halves its input ${UNET_DEPTH} times, so it must be a multiple of ${multiple} (e.g. ${nearest}), or leave unet-pre out of --designs`;
  }
  return undefined;
}

function toSigned(data: Float32Array): Float32Array {
  return data.map((v) => v * 2 - 1);
}

function makeDesign(design: SrDesign, scale: 2 | 4): Design {
  if (design === 'srnet') {
    const model = buildSeeded(1000, () => buildSrNet({ kind: 'srnet', scale, channels: 3, features: 32, blocks: 4 }));
    return {
      description: 'srnet F32 B4: LR residual blocks, pixel shuffle, residual over bilinear; [0, 1]',
      lr: 5e-4,
      model,
      encode: (pair) => pair,
      upscale: (lr) =>
        tf.tidy(() => {
          const out = model.predict(tf.tensor4d(lr.data, [1, lr.height, lr.width, 3])) as tf.Tensor4D;
          return { data: out.dataSync() as Float32Array, width: out.shape[2], height: out.shape[1], channels: 3 };
        }),
    };
  }
  const model = buildSeeded(1000, () =>
    buildUnetGenerator({ kind: 'unet', inputChannels: 3, outputChannels: 3, ngf: 16, depth: UNET_DEPTH, norm: 'none', dropout: 0, outputActivation: 'tanh' }),
  );
  const multiple = 2 ** UNET_DEPTH;
  return {
    description: `pix2pix U-Net ngf 16 depth ${UNET_DEPTH}, no norm, on the bicubic-upsampled image; [-1, 1], tanh`,
    lr: 2e-4,
    model,
    encode: (pair, s) => {
      const { width, height } = pair.inputSize;
      const up = imresize({ data: pair.input, width, height, channels: 3 }, { scale: s });
      return { input: toSigned(up.data), target: toSigned(pair.target), inputSize: pair.targetSize, targetSize: pair.targetSize };
    },
    upscale: (lr, s) => {
      const up = imresize(lr, { scale: s });
      const padW = Math.ceil(up.width / multiple) * multiple;
      const padH = Math.ceil(up.height / multiple) * multiple;
      return tf.tidy(() => {
        const x = tf.tensor4d(toSigned(up.data), [1, up.height, up.width, 3]);
        const padded = tf.mirrorPad(x, [[0, 0], [0, padH - up.height], [0, padW - up.width], [0, 0]], 'symmetric');
        const out = tf.slice(model.predict(padded) as tf.Tensor4D, [0, 0, 0, 0], [1, up.height, up.width, 3]);
        const unit = tf.div(tf.add(out, 1), 2);
        return { data: unit.dataSync() as Float32Array, width: up.width, height: up.height, channels: 3 };
      });
    },
  };
}

function benchPsnr(design: Design, pairs: SrPair[], scale: number): { psnr: number; cpuMsPerMegapixel: number } {
  let total = 0;
  let cpuMs = 0;
  let pixels = 0;
  for (const pair of pairs) {
    const start = process.cpuUsage();
    const out = design.upscale(pair.lr, scale);
    const used = process.cpuUsage(start);
    cpuMs += (used.user + used.system) / 1000;
    pixels += out.width * out.height;
    total += scoreSr(quantize(out), pair, scale).psnr;
  }
  return { psnr: total / pairs.length, cpuMsPerMegapixel: cpuMs / (pixels / 1e6) };
}

const cpuSecondsNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Trains each design for the same CPU budget and scores it along the way. */
export async function compareSrDesigns(options: SrDesignOptions): Promise<SrDesignResult[]> {
  await initBackend();
  const taskOptions: TaskOptions = { cropSize: options.cropSize, scale: options.scale, direction: 'AtoB', valFraction: 0.1, sizeMultiple: 1 };
  const data = await srTask.load(options.data, taskOptions, new Rng(1), { log: options.log });
  const benchFiles = await listImages(options.bench);
  const benchPairs = await Promise.all(
    benchFiles.map(async (file) => {
      const { image, grayFile } = await readImageFile(file);
      return makeSrPair({ name: file, image, grayFile }, options.scale);
    }),
  );
  const results: SrDesignResult[] = [];
  for (const name of options.designs) {
    const design = makeDesign(name, options.scale);
    const trainer = new Pix2PixTrainer({ generator: design.model, gan: { mode: 'none', lambdaL1: 1, lambdaGan: 0, gradientPenalty: 0 }, optim: { lr: design.lr, beta1: 0.9, beta2: 0.999 } });
    const rng = new Rng(2);
    const points: SrDesignPoint[] = [];
    let trainCpu = 0;
    let steps = 0;
    options.log(`${name}: ${design.description}; ${countParams(design.model).toLocaleString('en')} params`);
    for (let k = 1; k <= options.evaluations; k++) {
      const until = (options.cpuSeconds * k) / options.evaluations;
      while (trainCpu < until) {
        const start = cpuSecondsNow();
        const pairs = Array.from({ length: options.batchSize }, () =>
          design.encode(srTask.sample(data.train[rng.int(data.train.length)] as SrSource, taskOptions, rng), options.scale),
        );
        const { input, target } = toBatch(pairs, { inC: 3, outC: 3 });
        await trainer.trainStep(input, target);
        tf.dispose([input, target]);
        steps++;
        trainCpu += cpuSecondsNow() - start;
      }
      const { psnr } = benchPsnr(design, benchPairs, options.scale);
      points.push({ steps, cpuSeconds: trainCpu, psnr });
      options.log(`${name}: ${steps} steps, ${(trainCpu / 60).toFixed(1)} CPU-min -> ${psnr.toFixed(2)} dB`);
    }
    const { cpuMsPerMegapixel } = benchPsnr(design, benchPairs, options.scale);
    results.push({ design: name, description: design.description, params: countParams(design.model), lr: design.lr, points, inferCpuMsPerMegapixel: cpuMsPerMegapixel });
    trainer.dispose();
    design.model.dispose();
  }
  return results;
}

/** A markdown table: one row per design, PSNR at each evaluation point. */
export function srDesignsTable(results: SrDesignResult[], options: Pick<SrDesignOptions, 'scale' | 'bench' | 'cropSize' | 'batchSize'>): string {
  const evaluations = results[0]?.points.length ?? 0;
  const head = ['design', 'params', 'lr', ...Array.from({ length: evaluations }, (_, i) => `PSNR @ ${(results[0]!.points[i]!.cpuSeconds / 60).toFixed(1)} CPU-min`), 'steps', 'infer CPU s/MP'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of results) {
    const last = r.points[r.points.length - 1];
    lines.push(`| ${r.design} | ${(r.params / 1000).toFixed(0)} k | ${r.lr} | ${r.points.map((p) => p.psnr.toFixed(2)).join(' | ')} | ${last?.steps ?? 0} | ${(r.inferCpuMsPerMegapixel / 1000).toFixed(2)} |`);
  }
  lines.push('', `x${options.scale}, Y-PSNR on ${options.bench} (MATLAB bicubic LR, ${options.scale} px shaved), training on ${options.cropSize} px HR crops, batch ${options.batchSize}, L1, Adam.`);
  for (const r of results) lines.push(`- ${r.design}: ${r.description}`);
  return lines.join('\n');
}
