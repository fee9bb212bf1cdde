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

export const pairedTask: TaskDefinition<PairedSource> = {
  name: 'paired',
  summary: 'any A->B data set (A/ and B/ folders with matching names, or side-by-side images)',
  defaults: { cropSize: 128, ngf: 32, depth: 7, norm: 'instance', dropout: 0.5, gan: 'vanilla', lambdaL1: 100, batchSize: 4 },
  generator: (_o, size) => unetFromSize(3, 3, size),
  discriminatorChannels: () => 6,
  async load(dir, options, rng, hooks, kept) {
    const onSkip = (file: string, reason: string) => hooks.log(`skipped ${file}: ${reason}`);
    let sources: PairedSource[];
    if ((await isDir(path.join(dir, 'A'))) && (await isDir(path.join(dir, 'B')))) {
      const [as, bs] = await Promise.all([
        loadImageFolder(path.join(dir, 'A'), { minSide: options.cropSize, onSkip }),
        loadImageFolder(path.join(dir, 'B'), { minSide: options.cropSize, onSkip }),
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
          onSkip(path.join(dir, side, `${name}.*`), `${files.join(' and ')} share one name, so which one is the pair cannot be told (rename all but one)`);
        }
      }
      const byStem = new Map(bs.filter((b) => !ambiguous.has(stem(b.name))).map((b) => [stem(b.name), b]));
      const paired = new Set<string>(ambiguous);
      sources = [];
      for (const a of as) {
        if (ambiguous.has(stem(a.name))) continue;
        const b = byStem.get(stem(a.name));
        if (b) paired.add(stem(a.name));
        if (!b) onSkip(path.join(dir, 'A', a.name), 'no image of the same name in B/');
        else if (b.width !== a.width || b.height !== a.height) onSkip(path.join(dir, 'A', a.name), `A is ${a.width}x${a.height} but B is ${b.width}x${b.height}`);
        else sources.push({ a, b });
      }
      for (const b of bs) if (!paired.has(stem(b.name))) onSkip(path.join(dir, 'B', b.name), 'no image of the same name in A/');
    } else {
      const images = await loadImageFolder(dir, { minSide: options.cropSize, onSkip });
      sources = [];
      for (const image of images) {
        if (image.width >= options.cropSize * 2) sources.push(splitSideBySide(image));
        else onSkip(path.join(dir, image.name), `too narrow for side-by-side A|B halves of ${options.cropSize} px (${image.width}x${image.height}; needs at least ${options.cropSize * 2} px wide)`);
      }
    }
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
