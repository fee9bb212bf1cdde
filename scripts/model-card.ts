/**
 * `npm run model-card -- --model models/sr-x4 [--eval a.md,b.md] [--samples img1.jpg,img2.jpg] [--notes notes.md]`:
 * renders before/after samples with the model and writes `<model>/README.md`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import sharp from 'sharp';
import { flag, parseCli, runCli, UsageError } from '@/lib/cli/args';
import { outputPaths } from '@/lib/cli/files';
import { MIN_SAMPLE_SIDE, renderModelCard } from '@/lib/model/card';
import type { ModelMetadata } from '@/lib/model/metadata';
import { readMetadata } from '@/lib/infer/models';
import { createInferenceService, describeModelProblem } from '@/lib/infer/service';
import { imresize } from '@/lib/eval/bicubic';
import { crop, ImageFileError, readImageFile, toBytes, type FloatImage } from '@/lib/eval/image';

const USAGE = `Usage: npm run model-card -- --model <model folder> [--eval a.md,b.md] [--samples a.jpg,b.jpg] [--notes notes.md]

Writes <model folder>/README.md, the model's card: what its metadata says (task, architecture,
training run, validation metrics), the evaluation tables, before/after samples rendered with the
model into <model folder>/samples/, and notes. An existing README.md and samples of the same names
are replaced.

  --model DIR     the exported model folder (model.json, weights.bin, metadata.json)
  --eval LIST     markdown files written by npm run eval, comma-separated, pasted in that order
  --samples LIST  images, comma-separated, at least ${MIN_SAMPLE_SIDE} x ${MIN_SAMPLE_SIDE} px; each becomes samples/<name>.png
                  (names shared by two images get -2, -3). sr: a centre crop of at most 160 px
                  as low-res input | bicubic | the model | original; colorize: grayscale input |
                  the model | original
  --notes FILE    markdown for the card's Notes section
  --help          this text`;

const list = z.string().optional().transform((v) => (v ? v.split(',').filter(Boolean) : []));
const schema = z.object({
  model: z.string({ message: '--model <model folder> is required' }).min(1, '--model must not be empty'),
  eval: list,
  samples: list,
  notes: flag.text('notes').optional(),
});

async function hstack(images: { data: Uint8Array; width: number; height: number }[], file: string): Promise<void> {
  const gap = 6;
  const height = Math.max(...images.map((i) => i.height));
  const width = images.reduce((w, i) => w + i.width, 0) + gap * (images.length - 1);
  let left = 0;
  const composites = [];
  for (const img of images) {
    composites.push({ input: await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer(), left, top: 0 });
    left += img.width + gap;
  }
  await sharp({ create: { width, height, channels: 3, background: '#ffffff' } }).composite(composites).png().toFile(file);
}

/** The text of each `--eval` / `--notes` file, read before any work so that a wrong name costs nothing. */
async function readTextFiles(flagName: string, files: readonly string[]): Promise<string[]> {
  return Promise.all(
    files.map((file) =>
      fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`--${flagName} ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.code === 'EISDIR' ? 'a folder, not a file' : error.message}`);
      }),
    ),
  );
}

/** The model folder's metadata; a missing or broken folder is a usage error, said as the other CLIs say it. */
async function readModel(given: string): Promise<ModelMetadata> {
  const dir = path.resolve(given);
  try {
    return await readMetadata(dir);
  } catch (error) {
    const problem = `${dir}: ${(error as Error).message}`;
    throw new UsageError(`--model ${given}: ${describeModelProblem(problem, given) ?? problem}`);
  }
}

/**
 * Every sample decoded (upright 8-bit sRGB, whatever the file's colour type), all checked before
 * the model is loaded: unreadable, repeated or too small samples are one usage error naming each.
 */
async function readSamples(files: readonly string[]): Promise<{ file: string; image: FloatImage }[]> {
  const problems: string[] = [];
  const samples: { file: string; image: FloatImage }[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(path.resolve(file))) {
      problems.push(`--samples names ${file} twice`);
      continue;
    }
    seen.add(path.resolve(file));
    try {
      const { image } = await readImageFile(file);
      if (image.width < MIN_SAMPLE_SIDE || image.height < MIN_SAMPLE_SIDE) {
        problems.push(`--samples ${file} is ${image.width}x${image.height}; samples must be at least ${MIN_SAMPLE_SIDE} x ${MIN_SAMPLE_SIDE} px`);
      } else {
        samples.push({ file, image });
      }
    } catch (error) {
      if (!(error instanceof ImageFileError)) throw error;
      problems.push(`--samples ${file}: ${error.reason}`);
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return samples;
}

async function main(argv: readonly string[]): Promise<number> {
  const flags = parseCli(argv, {
    options: { model: { type: 'string' }, eval: { type: 'string' }, samples: { type: 'string' }, notes: { type: 'string' } },
    schema,
    allowPositionals: false,
  });
  const dir = path.resolve(flags.model);
  const metadata = await readModel(flags.model);
  const evaluations = await readTextFiles('eval', flags.eval);
  const [notes] = await readTextFiles('notes', flags.notes ? [flags.notes] : []);
  const inputs = await readSamples(flags.samples);

  const service = await createInferenceService({ modelDirs: [dir], quiet: true });
  const loaded = service.models[0];
  if (!loaded) {
    service.dispose();
    const problem = service.problems[0] ?? 'it did not load';
    throw new UsageError(`--model ${flags.model}: ${describeModelProblem(problem, flags.model) ?? problem}`);
  }
  // The service knows the model by its folder name, which a copied or renamed folder no longer shares with metadata.name.
  const model = loaded.name;
  const samples: { file: string; caption: string }[] = [];
  const outputs = outputPaths(
    inputs.map((s) => s.file),
    path.join(dir, 'samples'),
  );
  const stemOf = (file: string) => path.basename(file).replace(/\.[^.]+$/, '');
  const stems = inputs.map((s) => stemOf(s.file).toLowerCase());
  await fs.mkdir(path.join(dir, 'samples'), { recursive: true });
  for (const { file, image } of inputs) {
    const out = outputs.get(file)!;
    const name = path.basename(out);
    // Captions name a sample by its stem, or by its whole file name when another sample shares the stem.
    const stem = stems.filter((s) => s === stemOf(file).toLowerCase()).length > 1 ? path.basename(file) : stemOf(file);
    const { width, height } = image;
    const data = toBytes(image);
    if (metadata.task === 'sr') {
      const s = metadata.scale;
      const side = Math.floor(Math.min(160, width, height) / s) * s;
      const hr = crop(image, side, side, Math.floor((width - side) / 2), Math.floor((height - side) / 2));
      const lr = imresize(hr, { scale: 1 / s, uint8: true });
      const lrPng = await sharp(Buffer.from(toBytes(lr)), { raw: { width: lr.width, height: lr.height, channels: 3 } }).png().toBuffer();
      const result = await service.upscale(lrPng, { scale: s as 2 | 4, model });
      const ours = await sharp(result.png).removeAlpha().raw().toBuffer();
      const bicubic = imresize(lr, { scale: s });
      const nearest = await sharp(lrPng).resize(side, side, { kernel: 'nearest' }).raw().toBuffer();
      await hstack([{ data: nearest, width: side, height: side }, { data: toBytes(bicubic), width: side, height: side }, { data: ours, width: side, height: side }, { data: toBytes(hr), width: side, height: side }], out);
      samples.push({ file: `samples/${name}`, caption: `${stem}: low-res input (nearest) | bicubic | ${metadata.name} | original` });
    } else {
      const gray = await sharp(file).rotate().removeAlpha().grayscale().png().toBuffer();
      const result = await service.colorize(gray, { model });
      const ours = await sharp(result.png).removeAlpha().raw().toBuffer();
      const grayRaw = await sharp(gray).toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer();
      await hstack([{ data: grayRaw, width, height }, { data: ours, width, height }, { data, width, height }], out);
      samples.push({ file: `samples/${name}`, caption: `${stem}: grayscale input | ${metadata.name} | original` });
    }
  }
  service.dispose();
  await fs.writeFile(path.join(dir, 'README.md'), renderModelCard({ metadata, evaluations, samples, notes }));
  process.stdout.write(`wrote ${path.join(dir, 'README.md')} with ${samples.length} sample(s)\n`);
  return 0;
}

void runCli({ name: 'model-card', usage: USAGE }, main);
