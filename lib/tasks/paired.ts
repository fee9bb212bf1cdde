/**
 * Any paired A->B data set, as pix2pix reads them: a folder with `A/` and `B/` holding images of
 * the same names, or a folder of side-by-side aligned images (A left, B right). RGB in [-1, 1].
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DataError, holdOut, loadImageFolder, type RgbImage } from '@/lib/data/images';
import { centreCrop, jitteredCrops, psnrBytes, unetFromSize } from './common';
import type { Pair, TaskDefinition } from './types';

export interface PairedSource {
  a: RgbImage;
  b: RgbImage;
}

const toTanh = (unit: Float32Array) => unit.map((v) => v * 2 - 1);
const tanhToBytes = (data: Float32Array) => Uint8Array.from(data, (v) => Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255));

function splitSideBySide(image: RgbImage): PairedSource {
  const half = Math.floor(image.width / 2);
  const part = (offset: number): RgbImage => {
    const data = new Uint8Array(half * image.height * 3);
    for (let y = 0; y < image.height; y++) {
      data.set(image.data.subarray((y * image.width + offset) * 3, (y * image.width + offset + half) * 3), y * half * 3);
    }
    return { name: image.name, data, width: half, height: image.height };
  };
  return { a: part(0), b: part(half) };
}

async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isDirectory(), () => false);
}

function pairOf(a: Float32Array, b: Float32Array, size: number, direction: 'AtoB' | 'BtoA'): Pair {
  const [input, target] = direction === 'AtoB' ? [a, b] : [b, a];
  const dims = { width: size, height: size };
  return { input: toTanh(input), target: toTanh(target), inputSize: dims, targetSize: dims };
}

/**
 * Why a file of a paired data set is left out:
 * - `unusable`: the folder loader refused it (it cannot be decoded, its short side is below
 *   `minSide`, or it is a sub-folder that cannot be read; the reason says which);
 * - `unpaired`: no image of the same name on the other side, or two on one side (`dup.jpg`,
 *   `dup.png`) so that which one is the partner cannot be told;
 * - `size mismatch`: A and B of one name differ in size, so they are not aligned;
 * - `too narrow`: a side-by-side image narrower than two halves of `minSide`.
 */
export type PairSkipKind = 'unusable' | 'unpaired' | 'size mismatch' | 'too narrow';

/** A file of a paired data set that is left out. */
export interface PairSkip {
  /** The file's path (`<dir>/A/<name>.*` for a name two files share on one side). */
  file: string;
  kind: PairSkipKind;
  /** One sentence for the user, e.g. `no image of the same name in B/`. */
  reason: string;
}

export interface PairLoadOptions {
  /** Images whose short side is below this are left out; a side-by-side image needs twice this width. */
  minSide: number;
  /** Called once for each file left out, in the order they are found. */
  onSkip: (skip: PairSkip) => void;
}

/** How a paired data set is laid out: `A/` and `B/` folders, or side-by-side A|B images. */
export type PairLayout = 'folders' | 'side-by-side';

/**
 * The aligned pairs of a paired data set, as training and `npm run eval -- --task paired` both read
 * them: when `dir` holds `A/` and `B/` folders, the images of both (sub-folders included) paired by
 * their path without extension (`sub/1.jpg` with `sub/1.png`, never with `other/1.png`), in A's
 * name order; otherwise every image under `dir` split into its left (A) and right (B) halves.
 * Files that cannot be used are passed to `onSkip` and left out; the result may be empty.
 *
 * @throws DataError (of `lib/data/images`) when `dir`, `A/` or `B/` holds no usable image at all.
 */
export async function loadPairedSources(dir: string, options: PairLoadOptions): Promise<{ layout: PairLayout; sources: PairedSource[] }> {
  const { minSide } = options;
  const skip = (file: string, kind: PairSkipKind, reason: string) => options.onSkip({ file, kind, reason });
  const onUnusable = (file: string, reason: string) => skip(file, 'unusable', reason);
  if (!((await isDir(path.join(dir, 'A'))) && (await isDir(path.join(dir, 'B'))))) {
    const images = await loadImageFolder(dir, { minSide, onSkip: onUnusable });
    const sources: PairedSource[] = [];
    for (const image of images) {
      if (image.width >= minSide * 2) sources.push(splitSideBySide(image));
      else skip(path.join(dir, image.name), 'too narrow', `too narrow for side-by-side A|B halves of ${minSide} px (${image.width}x${image.height}; needs at least ${minSide * 2} px wide)`);
    }
    return { layout: 'side-by-side', sources };
  }
  const [as, bs] = await Promise.all([
    loadImageFolder(path.join(dir, 'A'), { minSide, onSkip: onUnusable }),
    loadImageFolder(path.join(dir, 'B'), { minSide, onSkip: onUnusable }),
  ]);
  // Names are paths within A/ and B/ (sub/1.jpg), so sub-folders pair with their namesakes only.
  const stem = (name: string) => name.replace(/\.[^./]+$/, '');
  // Two files of one name but another extension (dup.jpg, dup.png) on one side: which one is
  // the partner cannot be told, so neither pairs, and the run says so.
  const ambiguous = new Set<string>();
  for (const [side, images] of [['A', as], ['B', bs]] as const) {
    const byName = new Map<string, string[]>();
    for (const image of images) byName.set(stem(image.name), [...(byName.get(stem(image.name)) ?? []), `${side}/${image.name}`]);
    for (const [name, files] of byName) {
      if (files.length < 2) continue;
      ambiguous.add(name);
      skip(path.join(dir, side, `${name}.*`), 'unpaired', `${files.join(' and ')} share one name, so which one is the pair cannot be told (rename all but one)`);
    }
  }
  const byStem = new Map(bs.filter((b) => !ambiguous.has(stem(b.name))).map((b) => [stem(b.name), b]));
  const paired = new Set<string>(ambiguous);
  const sources: PairedSource[] = [];
  for (const a of as) {
    if (ambiguous.has(stem(a.name))) continue;
    const b = byStem.get(stem(a.name));
    if (b) paired.add(stem(a.name));
    if (!b) skip(path.join(dir, 'A', a.name), 'unpaired', 'no image of the same name in B/');
    else if (b.width !== a.width || b.height !== a.height) skip(path.join(dir, 'A', a.name), 'size mismatch', `A is ${a.width}x${a.height} but B is ${b.width}x${b.height}`);
    else sources.push({ a, b });
  }
  for (const b of bs) if (!paired.has(stem(b.name))) skip(path.join(dir, 'B', b.name), 'unpaired', 'no image of the same name in A/');
  return { layout: 'folders', sources };
}

export const pairedTask: TaskDefinition<PairedSource> = {
  name: 'paired',
  summary: 'any A->B data set (A/ and B/ folders with matching names, or side-by-side images)',
  defaults: { cropSize: 128, ngf: 32, depth: 7, norm: 'instance', dropout: 0.5, gan: 'vanilla', lambdaL1: 100, batchSize: 4 },
  generator: (_o, size) => unetFromSize(3, 3, size),
  discriminatorChannels: () => 6,
  async load(dir, options, rng, hooks, kept) {
    const { sources } = await loadPairedSources(dir, { minSide: options.cropSize, onSkip: (skip) => hooks.log(`skipped ${skip.file}: ${skip.reason}`) });
    if (sources.length === 0) throw new DataError(`No usable A/B pairs in ${dir} (expected A/ and B/ folders or side-by-side images)`);
    return { ...holdOut(sources, (source) => source.a.name, options.valFraction, rng, kept), description: `${sources.length} pairs from ${dir}`, skipped: 0 };
  },
  sample(source, options, rng) {
    const [a, b] = jitteredCrops([source.a, source.b], options.cropSize, 1.12, rng);
    return pairOf(a!, b!, options.cropSize, options.direction);
  },
  validationPair(source, options) {
    const side = Math.floor(Math.min(options.cropSize, source.a.width, source.a.height) / options.sizeMultiple) * options.sizeMultiple;
    const a = centreCrop(source.a, side);
    const b = centreCrop(source.b, side);
    return pairOf(a.data, b.data, a.size, options.direction);
  },
  toRgb: (_which, data) => tanhToBytes(data),
  metrics: (output, pair) => ({ psnr: psnrBytes(tanhToBytes(output), tanhToBytes(pair.target)) }),
  exportInfo: () => ({
    task: 'paired',
    scale: 1,
    inputChannels: 3,
    outputChannels: 3,
    inputEncoding: 'rgb-tanh',
    outputEncoding: 'rgb-tanh',
    tile: { size: 256, padding: 32, multipleOf: 128 },
  }),
};
