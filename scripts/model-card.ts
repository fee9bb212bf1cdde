/**
 * `npm run model-card -- --model models/sr-x4 [--eval a.md,b.md] [--samples img1.jpg,img2.jpg] [--notes notes.md]`:
 * renders before/after samples with the model and writes `<model>/README.md`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import sharp from 'sharp';
import { parseCli, runCli } from '@/lib/cli/args';
import { renderModelCard } from '@/lib/model/card';
import { parseMetadata } from '@/lib/model/metadata';
import { createInferenceService } from '@/lib/infer/service';
import { imresize } from '@/lib/eval/bicubic';
import { crop, fromBytes, toBytes } from '@/lib/eval/image';

const list = z.string().optional().transform((v) => (v ? v.split(',').filter(Boolean) : []));
const schema = z.object({ model: z.string(), eval: list, samples: list, notes: z.string().optional(), positionals: z.array(z.string()).max(0) });

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

async function main(argv: readonly string[]): Promise<number> {
  const flags = parseCli(argv, {
    options: { model: { type: 'string' }, eval: { type: 'string' }, samples: { type: 'string' }, notes: { type: 'string' } },
    schema,
  });
  const dir = path.resolve(flags.model);
  const metadata = parseMetadata(JSON.parse(await fs.readFile(path.join(dir, 'metadata.json'), 'utf8')), dir);
  const service = await createInferenceService({ modelDirs: [dir] });
  const samples: { file: string; caption: string }[] = [];
  await fs.mkdir(path.join(dir, 'samples'), { recursive: true });
  for (const file of flags.samples) {
    const stem = path.basename(file).replace(/\.[^.]+$/, '');
    const out = path.join(dir, 'samples', `${stem}.png`);
    const { data, info } = await sharp(file).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (metadata.task === 'sr') {
      const s = metadata.scale;
      const side = Math.floor(Math.min(160, info.width, info.height) / s) * s;
      const hr = crop(fromBytes(data, info.width, info.height, 3), side, side, Math.floor((info.width - side) / 2), Math.floor((info.height - side) / 2));
      const lr = imresize(hr, { scale: 1 / s, uint8: true });
      const lrPng = await sharp(Buffer.from(toBytes(lr)), { raw: { width: lr.width, height: lr.height, channels: 3 } }).png().toBuffer();
      const result = await service.upscale(lrPng, { scale: s as 2 | 4, model: metadata.name });
      const ours = await sharp(result.png).removeAlpha().raw().toBuffer();
      const bicubic = imresize(lr, { scale: s });
      const nearest = await sharp(lrPng).resize(side, side, { kernel: 'nearest' }).raw().toBuffer();
      await hstack([{ data: nearest, width: side, height: side }, { data: toBytes(bicubic), width: side, height: side }, { data: ours, width: side, height: side }, { data: toBytes(hr), width: side, height: side }], out);
      samples.push({ file: `samples/${stem}.png`, caption: `${stem}: low-res input (nearest) | bicubic | ${metadata.name} | original` });
    } else {
      const gray = await sharp(file).rotate().removeAlpha().grayscale().png().toBuffer();
      const result = await service.colorize(gray, { model: metadata.name });
      const ours = await sharp(result.png).removeAlpha().raw().toBuffer();
      const grayRaw = await sharp(gray).toColourspace('srgb').removeAlpha().raw().toBuffer();
      await hstack([{ data: grayRaw, width: info.width, height: info.height }, { data: ours, width: info.width, height: info.height }, { data, width: info.width, height: info.height }], out);
      samples.push({ file: `samples/${stem}.png`, caption: `${stem}: grayscale input | ${metadata.name} | original` });
    }
  }
  const evaluations = await Promise.all(flags.eval.map((f) => fs.readFile(f, 'utf8')));
  const notes = flags.notes ? await fs.readFile(flags.notes, 'utf8') : undefined;
  await fs.writeFile(path.join(dir, 'README.md'), renderModelCard({ metadata, evaluations, samples, notes }));
  process.stdout.write(`wrote ${path.join(dir, 'README.md')} with ${samples.length} sample(s)\n`);
  return 0;
}

void runCli({ name: 'model-card', usage: 'npm run model-card -- --model <dir> [--eval a.md,b.md] [--samples a.jpg,b.jpg] [--notes notes.md]' }, main);
