/**
 * `npm run eval` minus the shell: loads the data, builds the rows (baseline, ours, peers), runs
 * them one model at a time in this process, and returns one result object.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initBackend } from '@/lib/tf/backend';
import { DataError as TrainingDataError, type RgbImage } from '@/lib/data/images';
import { loadPairedSources, type PairLayout } from '@/lib/tasks/paired';
import type { ColorizeArgs, EvalArgs, PairedArgs, SrArgs } from './args';
import {
  colorizeReference,
  evaluateColorizeMethod,
  grayBaseline,
  isColourless,
  makeColorizePair,
  type ColorizeReference,
  type ColorizeRow,
} from './colorize';
import { DataError, listImages } from './data';
import { fromBytes, ImageFileError, readImageFile, type FloatImage } from './image';
import { bicubicMethod, loadOurMethods, loadPeer, type Method } from './methods';
import { publishedFor, type PublishedScore } from './published';
import {
  directionLabel,
  evaluatePairedMethod,
  identityBaseline,
  orientPairs,
  resolveDirection,
  trainedDirection,
  type Direction,
  type PairedImages,
  type PairedRow,
} from './paired';
import { imageCount } from './report';
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

export interface PairedEvaluation {
  task: 'paired';
  data: string;
  /** Which image of each pair was the input. */
  direction: Direction;
  /** `A/` and `B/` folders, or side-by-side images. */
  layout: PairLayout;
  /** The pairs scored, by name. */
  images: string[];
  backend: string;
  protocol: string;
  rows: PairedRow[];
  notes: string[];
  date: string;
}

export type Evaluation = SrEvaluation | ColorizeEvaluation | PairedEvaluation;

type Log = (line: string) => void;

/** A method to build lazily, so that only one model is in memory at a time. */
type MethodFactory = { name: string; load: () => Promise<Method> };

/** Loads, runs and disposes each method in turn, noting any tensors it leaves behind. */
/** Notes naming the rows whose PSNR mean leaves out images they reproduced exactly (PSNR infinite). */
function perfectNotes(rows: readonly { method: string; perfectImages?: number; perImage: readonly { image: string; psnr: number }[] }[]): string[] {
  return rows
    .filter((r) => r.perfectImages)
    .map((r) => {
      const names = r.perImage.filter((s) => !Number.isFinite(s.psnr)).map((s) => s.image);
      return `${r.method} reproduced ${names.join(', ')} exactly (PSNR infinite); its PSNR is the mean over the other images.`;
    });
}

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

/**
 * Why a file of the data folder was left out; the report gives one note per kind. `unpaired` and
 * `size mismatch` are paired data's: a file with no partner of its name (or two candidates), and
 * an A and B of one name that differ in size.
 */
export type SkipKind = 'unreadable' | 'too small' | 'no colour' | 'unpaired' | 'size mismatch';

/** A file of the data folder that is not scored. */
export interface SkippedFile {
  /** File name (no folder); paired data: its path in the data folder (`A/x.png`), or the pair's name when the pair is too small. */
  name: string;
  kind: SkipKind;
  /** unreadable: the decoder's message; too small: the size (`1x1`); no colour: why it counts as gray; unpaired, size mismatch: what does not match. */
  reason: string;
}

/** What the task can score, checked on each readable image. */
export interface ImageFilter {
  /** Why `image` cannot be scored (undefined: it can). */
  check: (image: FloatImage) => { kind: 'too small' | 'no colour'; reason: string } | undefined;
  /** The size rule, for messages: `x2 needs at least 16 x 16 px`. */
  sizeRule: string;
}

/** The scorable images of a data folder, and the files that were skipped. */
export interface LoadedImages {
  images: { name: string; image: FloatImage; grayFile: boolean }[];
  /** The files left out (unreadable, or refused by the filter), in name order. */
  skipped: SkippedFile[];
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `2 unreadable, 1 too small`: how many of each kind. */
function countSkipped(skipped: readonly SkippedFile[]): string {
  const labels: [SkipKind, string][] = [
    ['unreadable', 'unreadable'],
    ['too small', 'too small'],
    ['no colour', 'without colour'],
    ['unpaired', 'unpaired'],
    ['size mismatch', 'of different sizes'],
  ];
  return labels
    .map(([kind, label]) => [skipped.filter((s) => s.kind === kind).length, label] as const)
    .filter(([n]) => n > 0)
    .map(([n, label]) => `${n} ${label}`)
    .join(', ');
}

/**
 * One note per kind of skipped file, naming each file (the report's "which were skipped").
 *
 * @param sizeRule - the task's size rule, quoted in the note on images too small to score.
 */
export function skippedNotes(skipped: readonly SkippedFile[], sizeRule?: string): string[] {
  const of = (kind: SkipKind) => skipped.filter((s) => s.kind === kind);
  const unreadable = of('unreadable');
  const small = of('too small');
  const gray = of('no colour');
  const unpaired = of('unpaired');
  const mismatched = of('size mismatch');
  const withReasons = (list: readonly SkippedFile[]) => list.map((s) => `${s.name} (${s.reason})`).join(', ');
  return [
    ...(unreadable.length ? [`${plural(unreadable.length, 'unreadable file')} skipped: ${unreadable.map((s) => s.name).join(', ')}.`] : []),
    ...(small.length
      ? [`${plural(small.length, 'image')} too small to score skipped${sizeRule ? ` (${sizeRule})` : ''}: ${small.map((s) => `${s.name} (${s.reason})`).join(', ')}.`]
      : []),
    ...(gray.length
      ? [
          `${plural(gray.length, 'image')} without colour skipped (every pixel's a* and b* round to 0: the gray input would score ` +
            `as a perfect colorization): ${gray.map((s) => s.name).join(', ')}.`,
        ]
      : []),
    ...(unpaired.length ? [`${plural(unpaired.length, 'file')} without a partner skipped: ${withReasons(unpaired)}.`] : []),
    ...(mismatched.length ? [`${plural(mismatched.length, 'pair')} of different sizes skipped: ${withReasons(mismatched)}.`] : []),
  ];
}

const SKIP_LOG: Record<'too small' | 'no colour', string> = { 'too small': 'too small to score', 'no colour': 'no colour to compare with' };

/**
 * Reads the images of `data` in name order, at most `limit` scorable ones. A file that cannot be
 * read or decoded, or that `filter` refuses, is logged once (`skipped <name>: <why>`) and left out.
 *
 * @throws DataError when the folder is missing or has no image, or none of them can be scored.
 */
export async function loadImages(data: string, limit: number | undefined, log: Log, filter?: ImageFilter): Promise<LoadedImages> {
  const files = await listImages(data);
  const images: LoadedImages['images'] = [];
  const skipped: SkippedFile[] = [];
  for (const file of files) {
    if (limit !== undefined && images.length >= limit) break;
    const name = path.basename(file);
    let item: { image: FloatImage; grayFile: boolean };
    try {
      item = await readImageFile(file);
    } catch (error) {
      if (!(error instanceof ImageFileError)) throw error;
      skipped.push({ name, kind: 'unreadable', reason: error.reason });
      log(`skipped ${name}: ${error.reason}`);
      continue;
    }
    // Checked while reading, so that --limit counts the images that are scored.
    const refused = filter?.check(item.image);
    if (filter && refused) {
      skipped.push({ name, ...refused });
      const rule = refused.kind === 'too small' ? `; ${filter.sizeRule}` : '';
      log(`skipped ${name}: ${SKIP_LOG[refused.kind]} (${refused.reason}${rule})`);
      continue;
    }
    images.push({ name, ...item });
  }
  if (images.length === 0) {
    if (skipped.every((s) => s.kind === 'unreadable')) {
      throw new DataError(`No readable images in ${data}: ${skipped.length} image files, none could be decoded`);
    }
    throw new DataError(`No image in ${data} can be scored. ${skippedNotes(skipped, filter?.sizeRule).join(' ')}`);
  }
  log(`${imageCount(images.length)} from ${data}${skipped.length ? ` (${countSkipped(skipped)}, skipped)` : ''}`);
  return { images, skipped };
}

// SSIM's Gaussian window is 11 x 11: the smallest image, after any shave, that it can score.
const SSIM_WINDOW = 11;

/**
 * The smallest side the SR protocol can score at `scale`: after the crop to a multiple of the
 * scale and the shave of `scale` pixels at each border, SSIM's window must still fit.
 */
export function minSrSide(scale: number): number {
  return Math.ceil((SSIM_WINDOW + 2 * scale) / scale) * scale;
}

function sizeOf(image: FloatImage): string {
  return `${image.width}x${image.height}`;
}

/** What the SR protocol can score at `scale`: images of at least {@link minSrSide} on each side. */
export function srFilter(scale: number): ImageFilter {
  const side = minSrSide(scale);
  return {
    sizeRule: `x${scale} needs at least ${side} x ${side} px`,
    check: (image) => (image.width < side || image.height < side ? { kind: 'too small', reason: sizeOf(image) } : undefined),
  };
}

/** What the colorize protocol can score: images SSIM's window fits in, with some colour. */
export const colorizeFilter: ImageFilter = {
  sizeRule: `SSIM needs at least ${SSIM_WINDOW} x ${SSIM_WINDOW} px`,
  check: (image) => {
    if (image.width < SSIM_WINDOW || image.height < SSIM_WINDOW) return { kind: 'too small', reason: sizeOf(image) };
    // A black-and-white original equals its own gray input: the baseline would score infinite
    // PSNR, and any colour a model adds would count as error.
    if (isColourless(image)) return { kind: 'no colour', reason: "every pixel's a* and b* round to 0" };
    return undefined;
  },
};

const SR_PROTOCOL =
  'HR cropped to a multiple of the scale (top-left); LR = MATLAB imresize bicubic (antialiased, 8-bit); ' +
  'outputs rounded to 8 bits; PSNR/SSIM on BT.601 Y, `scale` pixels shaved at each border; ' +
  'SSIM: 11x11 Gaussian (sigma 1.5), K1 0.01, K2 0.03. Speed: total time over total output megapixels after a warm-up (peers on whole images, ' +
  'ours as the inference service runs them: tiled, PNG in and out); ' +
  "wall clock and this process's CPU time (all its threads, the JS engine's own included: an upper bound on the work, " +
  'which unlike wall clock does not grow when other work shares the cores).';

/** Super-resolution: bicubic, ours, then the peers, on every image of `args.data`. */
export async function evaluateSr(args: SrArgs, log: Log): Promise<SrEvaluation> {
  const filter = srFilter(args.scale);
  const { images, skipped } = await loadImages(args.data, args.limit, log, filter);
  const backend = await initBackend(args.backend);
  log(describeBackend(backend));
  const pairs = images.map((item) => makeSrPair(item, args.scale));
  log('loading our models');
  const ours = await loadOurMethods('sr', args.scale, args.model ?? [], args.backend, { ensemble: args.ensemble });
  const notes = [...skippedNotes(skipped, filter.sizeRule), ...ours.notes];
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
    notes: [...notes, ...perfectNotes(rows)],
    date: new Date().toISOString(),
  };
}

const COLORIZE_PROTOCOL =
  'Input: the original reduced to CIE L* (a* = b* = 0), 8-bit. PSNR/SSIM on RGB (data range 255, SSIM mean over channels). ' +
  'Colourfulness: Hasler and Suesstrunk 2003, ratio of means output/original. Mean a*, b*: CIE Lab (D65).';

/** Colorization: the gray input itself, then ours, on every image of `args.data`. */
export async function evaluateColorize(args: ColorizeArgs, log: Log): Promise<ColorizeEvaluation> {
  const { images, skipped } = await loadImages(args.data, args.limit, log, colorizeFilter);
  const backend = await initBackend(args.backend);
  log(describeBackend(backend));
  const pairs = images.map((item) => makeColorizePair(item.name, item.image));
  log('loading our models');
  const ours = await loadOurMethods('colorize', 1, args.model ?? [], args.backend, { colourStrengths: args.strength });
  const notes = [...skippedNotes(skipped, colorizeFilter.sizeRule), ...ours.notes];
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
    notes: [...notes, ...perfectNotes(rows)],
    date: new Date().toISOString(),
  };
}

/** What the paired protocol can score: pairs SSIM's window fits in. */
export const pairedFilter: ImageFilter = {
  sizeRule: `SSIM needs at least ${SSIM_WINDOW} x ${SSIM_WINDOW} px`,
  check: (image) => (image.width < SSIM_WINDOW || image.height < SSIM_WINDOW ? { kind: 'too small', reason: sizeOf(image) } : undefined),
};

/** The scorable pairs of a paired data folder, and the files that were skipped. */
export interface LoadedPairs {
  layout: PairLayout;
  /** In name order (A's), at most `limit`. */
  pairs: PairedImages[];
  skipped: SkippedFile[];
}

const toFloat = (image: RgbImage) => fromBytes(image.data, image.width, image.height, 3);

/**
 * Reads a paired data folder as training does ({@link loadPairedSources}: `A/` and `B/` with
 * matching names, sub-folders included, or side-by-side images), at most `limit` scorable pairs.
 * A file that cannot be decoded, has no partner or a partner of another size, or a pair too small
 * to score, is logged once (`skipped <name>: <why>`) and listed in `skipped`.
 *
 * @throws DataError when the folder is missing or has no image, or no pair can be scored.
 */
export async function loadPairedImages(data: string, limit: number | undefined, log: Log): Promise<LoadedPairs> {
  const skipped: SkippedFile[] = [];
  let loaded: Awaited<ReturnType<typeof loadPairedSources>>;
  try {
    loaded = await loadPairedSources(data, {
      // Any decodable image: the size eval can score is checked below, per pair, with its own note.
      minSide: 1,
      onSkip: ({ file, kind, reason }) => {
        // Named by the path in the data folder, which says the side (A/x.png) of a folder pair.
        const name = path.relative(data, file);
        const evalKind = kind === 'unusable' ? 'unreadable' : kind === 'too narrow' ? 'too small' : kind;
        skipped.push({ name, kind: evalKind, reason });
        log(`skipped ${name}: ${reason}`);
      },
    });
  } catch (error) {
    // The training loader's own "nothing here" is the user's data problem: exit 2, one line.
    if (error instanceof TrainingDataError) throw new DataError(error.message);
    throw error;
  }
  const pairs: PairedImages[] = [];
  for (const source of loaded.sources) {
    // Checked after pairing, so that --limit counts the pairs that are scored.
    if (limit !== undefined && pairs.length >= limit) break;
    const pair = { name: source.a.name, a: toFloat(source.a), b: toFloat(source.b) };
    const refused = pairedFilter.check(pair.a);
    if (refused) {
      skipped.push({ name: pair.name, ...refused });
      log(`skipped ${pair.name}: ${SKIP_LOG[refused.kind]} (${refused.reason}; ${pairedFilter.sizeRule})`);
      continue;
    }
    pairs.push(pair);
  }
  if (pairs.length === 0) {
    const layout = loaded.layout === 'folders' ? 'A/ and B/ folders' : 'side-by-side A|B images';
    throw new DataError(`No pair in ${data} can be scored (read as ${layout}). ${skippedNotes(skipped, pairedFilter.sizeRule).join(' ')}`.trim());
  }
  log(`${imageCount(pairs.length, 'pair')} from ${data}${skipped.length ? ` (${countSkipped(skipped)}, skipped)` : ''}`);
  return { layout: loaded.layout, pairs, skipped };
}

const PAIRED_PROTOCOL =
  'Pairs as training reads them (A/ and B/ with matching names, or side-by-side images split in halves). ' +
  'Each input at its own size through the inference service, as npm run translate runs it (PNG in and out, 8-bit output). ' +
  'PSNR/SSIM on RGB against the target (data range 255; PSNR: mean of the per-image values; SSIM: 11x11 Gaussian, sigma 1.5, mean over channels). ' +
  'Baseline: the input itself as the output. Speed: total time over total output megapixels after a warm-up; ' +
  "wall clock and this process's CPU time (all its threads).";

/** Paired translation: the input itself, then ours, on every pair of `args.data`. */
export async function evaluatePaired(args: PairedArgs, log: Log): Promise<PairedEvaluation> {
  const { layout, pairs: loaded, skipped } = await loadPairedImages(args.data, args.limit, log);
  const backend = await initBackend(args.backend);
  log(describeBackend(backend));
  log('loading our models');
  const ours = await loadOurMethods('paired', 1, args.model ?? [], args.backend);
  try {
    const trained = await Promise.all(ours.methods.map(async (m) => ({ model: m.name, direction: m.modelDir ? await trainedDirection(m.modelDir) : undefined })));
    const { direction, source, notes: directionNotes } = resolveDirection(args.direction, trained);
    log(`direction ${directionLabel(direction)} (${source})`);
    const pairs = orientPairs(loaded, direction);
    const notes = [...skippedNotes(skipped, pairedFilter.sizeRule), ...ours.notes, ...directionNotes];
    const factories: MethodFactory[] = [
      { name: identityBaseline.name, load: async () => identityBaseline },
      ...ours.methods.map((m) => ({ name: m.name, load: async () => m })),
    ];
    const rows = await runEach(
      factories,
      (method) =>
        evaluatePairedMethod(method, pairs, {
          warmUp: method !== identityBaseline,
          onImage: (name, s) => log(`${name} ${s.image}: ${s.psnr.toFixed(2)} dB, ${s.ssim.toFixed(4)}, ${(s.msPerMegapixel / 1000).toFixed(2)} s/MP wall`),
        }),
      notes,
      log,
    );
    return {
      task: 'paired',
      data: args.data,
      direction,
      layout,
      images: pairs.map((p) => p.name),
      backend: describeBackend(backend).replace(/^backend: /, ''),
      protocol: PAIRED_PROTOCOL,
      rows,
      notes: [...notes, ...perfectNotes(rows)],
      date: new Date().toISOString(),
    };
  } finally {
    ours.dispose();
  }
}

/** Runs the evaluation `args` asks for. */
export function runEvaluation(args: EvalArgs, log: Log): Promise<Evaluation> {
  if (args.task === 'sr') return evaluateSr(args, log);
  return args.task === 'colorize' ? evaluateColorize(args, log) : evaluatePaired(args, log);
}
