/**
 * `npm run eval` minus the shell: loads the data, builds the rows (baseline, ours, peers), runs
 * them one model at a time in this process, and returns one result object.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initBackend } from '@/lib/tf/backend';
import type { ColorizeArgs, EvalArgs, SrArgs } from './args';
import {
  colorizeReference,
  evaluateColorizeMethod,
  grayBaseline,
  makeColorizePair,
  type ColorizeReference,
  type ColorizeRow,
} from './colorize';
import { DataError, listImages } from './data';
import { ImageFileError, readImageFile, type FloatImage } from './image';
import { bicubicMethod, loadOurMethods, loadPeer, type Method } from './methods';
import { publishedFor, type PublishedScore } from './published';
import { evaluateSrMethod, makeSrPair, type GrayScoring, type SrRow } from './sr';

export interface SrEvaluation {
  task: 'sr';
  scale: number;
  data: string;
  images: string[];
  backend: string;
  gray: GrayScoring;
  protocol: string;
  rows: SrRow[];
  /** Published Y-PSNR for this set and scale, when the folder is a whole standard set. */
  published?: PublishedScore[];
  notes: string[];
  date: string;
}

export interface ColorizeEvaluation {
  task: 'colorize';
  data: string;
  images: string[];
  backend: string;
  protocol: string;
  reference: ColorizeReference;
  rows: ColorizeRow[];
  notes: string[];
  date: string;
}

export type Evaluation = SrEvaluation | ColorizeEvaluation;

type Log = (line: string) => void;

/** A method to build lazily, so that only one model is in memory at a time. */
type MethodFactory = { name: string; load: () => Promise<Method> };

/** Loads, runs and disposes each method in turn, noting any tensors it leaves behind. */
async function runEach<Row>(factories: MethodFactory[], evaluate: (method: Method) => Promise<Row>, notes: string[], log: Log): Promise<Row[]> {
  const rows: Row[] = [];
  for (const factory of factories) {
    const before = tf.memory().numTensors;
    log(`${factory.name}: loading`);
    const method = await factory.load();
    try {
      rows.push(await evaluate(method));
    } finally {
      method.dispose();
    }
    const leaked = tf.memory().numTensors - before;
    if (leaked > 0) notes.push(`${factory.name} left ${leaked} tensors allocated.`);
  }
  return rows;
}

/** The readable images of a data folder, and the files that were skipped. */
export interface LoadedImages {
  images: { name: string; image: FloatImage; grayFile: boolean }[];
  /** File names (no folder) that could not be read or decoded, in name order. */
  skipped: string[];
}

/**
 * Reads the images of `data` in name order, at most `limit` readable ones. A file that cannot be
 * read or decoded is logged once (`skipped <name>: <why>`) and left out.
 *
 * @throws DataError when the folder is missing or has no image, or none of them can be read.
 */
export async function loadImages(data: string, limit: number | undefined, log: Log): Promise<LoadedImages> {
  const files = await listImages(data);
  const images: LoadedImages['images'] = [];
  const skipped: string[] = [];
  for (const file of files) {
    if (limit !== undefined && images.length >= limit) break;
    const name = path.basename(file);
    try {
      images.push({ name, ...(await readImageFile(file)) });
    } catch (error) {
      if (!(error instanceof ImageFileError)) throw error;
      skipped.push(name);
      log(`skipped ${name}: ${error.reason}`);
    }
  }
  if (images.length === 0) throw new DataError(`No readable images in ${data}: ${skipped.length} image files, none could be decoded`);
  log(`${images.length} images from ${data}${skipped.length ? ` (${skipped.length} unreadable, skipped)` : ''}`);
  return { images, skipped };
}

function skippedNote(skipped: readonly string[]): string[] {
  return skipped.length ? [`${skipped.length} unreadable file${skipped.length === 1 ? '' : 's'} skipped: ${skipped.join(', ')}.`] : [];
}

const SR_PROTOCOL =
  'HR cropped to a multiple of the scale (top-left); LR = MATLAB imresize bicubic (antialiased, 8-bit); ' +
  'outputs rounded to 8 bits; PSNR/SSIM on BT.601 Y, `scale` pixels shaved at each border; ' +
  'SSIM: 11x11 Gaussian (sigma 1.5), K1 0.01, K2 0.03. Speed: per output megapixel after a warm-up (peers on whole images, ' +
  'ours as the inference service runs them: tiled, PNG in and out); ' +
  'wall clock and this process\'s CPU time (the CPU figure holds when other work shares the cores).';

/** Super-resolution: bicubic, ours, then the peers, on every image of `args.data`. */
export async function evaluateSr(args: SrArgs, log: Log): Promise<SrEvaluation> {
  const { images, skipped } = await loadImages(args.data, args.limit, log);
  const backend = await initBackend(args.backend);
  log(describeBackend(backend));
  const pairs = images.map((item) => makeSrPair(item, args.scale));
  const tooSmall = pairs.filter((p) => p.hr.width - 2 * args.scale < 11 || p.hr.height - 2 * args.scale < 11);
  if (tooSmall.length > 0) throw new DataError(`Too small to score: ${tooSmall.map((p) => p.name).join(', ')}`);
  log('loading our models');
  const ours = await loadOurMethods('sr', args.scale, args.model ?? [], args.backend, args.ensemble);
  const notes = [...skippedNote(skipped), ...ours.notes];
  const factories: MethodFactory[] = [
    { name: 'bicubic', load: async () => bicubicMethod(args.scale) },
    ...ours.methods.map((m) => ({ name: m.name, load: async () => m })),
    ...args.peers.map((peer) => ({ name: `esrgan-${peer}`, load: () => loadPeer(peer, args.scale) })),
  ];
  const rows = await runEach(
    factories,
    (method) =>
      evaluateSrMethod(method, pairs, {
        scale: args.scale,
        gray: args.gray,
        onImage: (name, s) =>
          log(
            `${name} ${s.image}: ${s.psnr.toFixed(2)} dB, ${s.ssim.toFixed(4)}, ` +
              `${(s.msPerMegapixel / 1000).toFixed(2)} s/MP wall, ${(s.cpuMsPerMegapixel / 1000).toFixed(2)} s/MP CPU`,
          ),
      }),
    notes,
    log,
  ).finally(ours.dispose);
  return {
    task: 'sr',
    scale: args.scale,
    data: args.data,
    images: pairs.map((p) => p.name),
    backend: describeBackend(backend).replace(/^backend: /, ''),
    gray: args.gray,
    protocol: SR_PROTOCOL + (args.gray === 'stored' ? ' Single-channel files scored on their stored intensities.' : ''),
    rows,
    published: publishedFor(args.data, args.scale, pairs.length),
    notes,
    date: new Date().toISOString(),
  };
}

const COLORIZE_PROTOCOL =
  'Input: the original reduced to CIE L* (a* = b* = 0), 8-bit. PSNR/SSIM on RGB (data range 255, SSIM mean over channels). ' +
  'Colourfulness: Hasler and Suesstrunk 2003, ratio of means output/original. Mean a*, b*: CIE Lab (D65).';

/** Colorization: the gray input itself, then ours, on every image of `args.data`. */
export async function evaluateColorize(args: ColorizeArgs, log: Log): Promise<ColorizeEvaluation> {
  const { images, skipped } = await loadImages(args.data, args.limit, log);
  const backend = await initBackend(args.backend);
  log(describeBackend(backend));
  const pairs = images.map((item) => makeColorizePair(item.name, item.image));
  const tooSmall = pairs.filter((p) => p.original.width < 11 || p.original.height < 11);
  if (tooSmall.length > 0) throw new DataError(`Too small to score: ${tooSmall.map((p) => p.name).join(', ')}`);
  log('loading our models');
  const ours = await loadOurMethods('colorize', 1, args.model ?? [], args.backend);
  const notes = [...skippedNote(skipped), ...ours.notes];
  const factories: MethodFactory[] = [
    { name: grayBaseline.name, load: async () => grayBaseline },
    ...ours.methods.map((m) => ({ name: m.name, load: async () => m })),
  ];
  const rows = await runEach(
    factories,
    (method) =>
      evaluateColorizeMethod(method, pairs, {
        warmUp: method !== grayBaseline,
        onImage: (name, s) =>
          log(`${name} ${s.image}: ${s.psnr.toFixed(2)} dB, ${s.ssim.toFixed(4)}, M ${s.colourfulness.toFixed(1)}/${s.originalColourfulness.toFixed(1)}`),
      }),
    notes,
    log,
  ).finally(ours.dispose);
  return {
    task: 'colorize',
    data: args.data,
    images: pairs.map((p) => p.name),
    backend: describeBackend(backend).replace(/^backend: /, ''),
    protocol: COLORIZE_PROTOCOL,
    reference: colorizeReference(pairs),
    rows,
    notes,
    date: new Date().toISOString(),
  };
}

/** Runs the evaluation `args` asks for. */
export function runEvaluation(args: EvalArgs, log: Log): Promise<Evaluation> {
  return args.task === 'sr' ? evaluateSr(args, log) : evaluateColorize(args, log);
}
