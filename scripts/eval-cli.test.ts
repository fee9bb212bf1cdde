/**
 * End to end: `npm run eval` as a user runs it (node --import tsx, as package.json does), on a tiny
 * model in a temp folder: what the user sees when the data or the model is wrong.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invertingPairedNet, nearestSrNet, randomColorizer, saveTestModel, testMetadata } from '@/lib/infer/test-models';
import { initBackend } from '@/lib/tf/backend';

const ROOT = path.resolve(__dirname, '..');
let dir: string;

/** Deterministic noise (RGB bytes): every pixel and channel differs. */
function noise(seed: number, length: number): Uint8Array {
  let a = seed;
  return Uint8Array.from({ length }, () => ((a = (a * 1103515245 + 12345) % 2147483648), (a >> 8) % 256));
}

/** PSNR over all bytes, computed here rather than by the code under test. */
function bytePsnr(output: Uint8Array, target: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < output.length; i++) sum += (output[i]! - target[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (sum / output.length));
}

const rawPng = (rgb: Uint8Array, width: number, height: number) => sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toBuffer();

// Paired data for the inverting model (output = 255 - input): B of exact.png is exactly A inverted;
// B of near.png is A inverted with every fourth value 12 levels off.
const PAIR_W = 20;
const PAIR_H = 16;
const exactA = noise(7, PAIR_W * PAIR_H * 3);
const nearA = noise(8, PAIR_W * PAIR_H * 3);
const exactB = exactA.map((v) => 255 - v);
const nearB = nearA.map((v, i) => (i % 4 === 0 ? Math.abs(255 - v - 12) : 255 - v));

function evalCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts', 'eval.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, TF_BACKEND: 'cpu', DEBUG: '' }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  await initBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'eval-cli-'));
  await saveTestModel(nearestSrNet(2), path.join(dir, 'sr-x2'), testMetadata({ task: 'sr', scale: 2 }));
  await saveTestModel(randomColorizer(), path.join(dir, 'my-colorizer'), testMetadata({ task: 'colorize', scale: 1 }));
  await fs.mkdir(path.join(dir, 'data'));
  const png = await sharp({ create: { width: 24, height: 20, channels: 3, background: '#3080c0' } }).png().toBuffer();
  await fs.writeFile(path.join(dir, 'data', 'a.png'), png);
  await fs.writeFile(path.join(dir, 'data', 'b.png'), png);
  await fs.writeFile(path.join(dir, 'data', 'cut.png'), png.subarray(0, 50));
  await fs.writeFile(path.join(dir, 'data', 'notes.png'), 'not an image\n');
  // Too small for x2 (16 px a side) next to one that can be scored.
  await fs.mkdir(path.join(dir, 'small'));
  await fs.writeFile(path.join(dir, 'small', 'a.png'), png);
  for (const [name, width, height] of [['long', 200, 10], ['one', 1, 1], ['tall', 10, 200]] as const) {
    await fs.writeFile(path.join(dir, 'small', `${name}.png`), await sharp({ create: { width, height, channels: 3, background: '#3080c0' } }).png().toBuffer());
  }
  // A colour photo and a black-and-white one (stored as RGB, as most are).
  await fs.mkdir(path.join(dir, 'photos'));
  const photo = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#c06030' } })
    .composite([{ input: await sharp({ create: { width: 12, height: 10, channels: 3, background: '#2050d0' } }).png().toBuffer(), left: 4, top: 6 }])
    .png()
    .toBuffer();
  await fs.writeFile(path.join(dir, 'photos', 'colour.png'), photo);
  await fs.writeFile(path.join(dir, 'photos', 'old.jpg'), await sharp(photo).grayscale().toColourspace('srgb').jpeg().toBuffer());
  // Paired: two scorable pairs, an A without a B, and a B that is not an image.
  await saveTestModel(invertingPairedNet(), path.join(dir, 'inverter'), testMetadata({ task: 'paired', scale: 1 }));
  for (const side of ['A', 'B']) await fs.mkdir(path.join(dir, 'pairs', side), { recursive: true });
  await fs.writeFile(path.join(dir, 'pairs', 'A', 'exact.png'), await rawPng(exactA, PAIR_W, PAIR_H));
  await fs.writeFile(path.join(dir, 'pairs', 'B', 'exact.png'), await rawPng(exactB, PAIR_W, PAIR_H));
  await fs.writeFile(path.join(dir, 'pairs', 'A', 'near.png'), await rawPng(nearA, PAIR_W, PAIR_H));
  await fs.writeFile(path.join(dir, 'pairs', 'B', 'near.png'), await rawPng(nearB, PAIR_W, PAIR_H));
  await fs.writeFile(path.join(dir, 'pairs', 'A', 'lonely.png'), await rawPng(nearA, PAIR_W, PAIR_H));
  await fs.writeFile(path.join(dir, 'pairs', 'A', 'notes.png'), await rawPng(nearA, PAIR_W, PAIR_H));
  await fs.writeFile(path.join(dir, 'pairs', 'B', 'notes.png'), 'not an image\n');
  for (const [side, name] of [['A', 'a.png'], ['B', 'b.png']] as const) {
    await fs.mkdir(path.join(dir, 'unmatched', side), { recursive: true });
    await fs.writeFile(path.join(dir, 'unmatched', side, name), await rawPng(nearA, PAIR_W, PAIR_H));
  }
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('npm run eval', () => {
  it('skips unreadable files, naming each once, and scores the rest (no stack trace)', async () => {
    const { code, stdout, stderr } = await evalCli(['--task', 'sr', '--scale', '2', '--data', path.join(dir, 'data'), '--peers', 'none', '--model', path.join(dir, 'sr-x2')]);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr.match(/cut\.png/g)).toHaveLength(1);
    expect(stderr.match(/notes\.png/g)).toHaveLength(1);
    expect(stderr).toContain(`[eval] 2 images from ${path.join(dir, 'data')} (2 unreadable, skipped)`);
    expect(code).toBe(0);
    expect(stdout).toContain('(2 images,');
    expect(stdout).toContain('Note: 2 unreadable files skipped: cut.png, notes.png.');
  });

  it('a --model for another task is a usage error: exit 2, one line naming it', async () => {
    const model = path.join(dir, 'my-colorizer');
    const { code, stderr } = await evalCli(['--task', 'sr', '--scale', '2', '--data', path.join(dir, 'data'), '--peers', 'none', '--model', model]);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr.split('\n').filter((l) => l.startsWith('eval:'))).toEqual([`eval: --model ${model} is a colorize model, not super-resolution x2`]);
    expect(stderr).toContain('super-resolution x2\n\nUsage:');
    expect(code).toBe(2);
  });

  it('a repeated flag is a usage error', async () => {
    const { code, stderr } = await evalCli(['--task', 'sr', '--scale', '2', '--data', 'a', '--data', 'b']);
    expect(stderr.split('\n')[0]).toBe('eval: --data is given twice (a, b); give it once');
    expect(code).toBe(2);
  });

  it('skips images too small to score, named with their size, and scores the rest (exit 0)', async () => {
    const { code, stdout, stderr } = await evalCli(['--task', 'sr', '--scale', '2', '--data', path.join(dir, 'small'), '--peers', 'none', '--model', path.join(dir, 'sr-x2')]);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).toContain('[eval] skipped one.png: too small to score (1x1; x2 needs at least 16 x 16 px)');
    expect(code).toBe(0);
    expect(stdout).toContain('(1 image,');
    expect(stdout).toContain('Note: 3 images too small to score skipped (x2 needs at least 16 x 16 px): long.png (200x10), one.png (1x1), tall.png (10x200).');
  });

  it('colorize: leaves out a black-and-white photo instead of averaging an infinite PSNR', async () => {
    const args = ['--task', 'colorize', '--data', path.join(dir, 'photos'), '--model', path.join(dir, 'my-colorizer')];
    const { code, stdout, stderr } = await evalCli([...args, '--verbose']);
    expect(code).toBe(0);
    expect(stderr).toContain("[eval] skipped old.jpg: no colour to compare with (every pixel's a* and b* round to 0)");
    expect(stdout).toContain('(1 image,');
    expect(stdout).not.toContain('| inf |');
    expect(stdout).not.toContain('old.jpg |');
    expect(stdout).toContain("Note: 1 image without colour skipped (every pixel's a* and b* round to 0: the gray input would score as a perfect colorization): old.jpg.");
    const json = await evalCli([...args, '--json']);
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain('Infinity');
    expect(JSON.parse(json.stdout).rows[0].psnr).toBeGreaterThan(0);
  });

  it('the same --model twice is a usage error, not two identical rows', async () => {
    const model = path.join(dir, 'sr-x2');
    const { code, stderr } = await evalCli(['--task', 'sr', '--scale', '2', '--data', path.join(dir, 'data'), '--peers', 'none', '--model', model, '--model', model]);
    expect(stderr.split('\n')[0]).toBe(`eval: --model ${model} is given twice; give each model once`);
    expect(code).toBe(2);
  });

  it('paired: scores the model and the input-as-output baseline per pair, lists skipped files, exit 0', async () => {
    const args = ['--task', 'paired', '--data', path.join(dir, 'pairs'), '--model', path.join(dir, 'inverter')];
    const { code, stdout, stderr } = await evalCli(args);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(code).toBe(0);
    expect(stderr).toContain(`[eval] skipped ${path.join('A', 'lonely.png')}: no image of the same name in B/`);
    expect(stderr).toContain('[eval] direction A->B (the default)');
    // The inverter reproduces exact.png (left out of its mean, with a note) and is scored on near.png alone.
    const model = bytePsnr(nearA.map((v) => 255 - v), nearB);
    const identity = (bytePsnr(exactA, exactB) + bytePsnr(nearA, nearB)) / 2;
    expect(stdout).toContain('### Paired A->B: pairs (2 pairs, A/ and B/,');
    expect(stdout).toMatch(new RegExp(`^\\| input \\(identity\\) \\| ${identity.toFixed(2)} \\| -?\\d\\.\\d{4} \\|`, 'm'));
    expect(stdout).toMatch(new RegExp(`^\\| ours \\(inverter\\) \\| ${model.toFixed(2)} \\| -?\\d\\.\\d{4} \\| .+ \\| .+ \\|$`, 'm'));
    expect(stdout).toContain(`Note: 1 unreadable file skipped: ${path.join('B', 'notes.png')}.`);
    expect(stdout).toContain(
      `Note: 2 files without a partner skipped: ${path.join('A', 'lonely.png')} (no image of the same name in B/), ${path.join('A', 'notes.png')} (no image of the same name in B/).`,
    );
    expect(stdout).toContain('Note: ours (inverter) reproduced exact.png exactly (PSNR infinite); its PSNR is the mean over the other images.');

    const json = await evalCli([...args, '--json', '--verbose']);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({ task: 'paired', direction: 'AtoB', layout: 'folders', images: ['exact.png', 'near.png'] });
    expect(result.rows.map((r: { method: string }) => r.method)).toEqual(['input (identity)', 'ours (inverter)']);
    expect(result.rows[0].psnr).toBeCloseTo(identity, 5);
    expect(result.rows[1].psnr).toBeCloseTo(model, 5);
    expect(result.rows[1].perImage.map((p: { psnr: number | null }) => p.psnr)).toEqual([null, expect.closeTo(model, 5)]);
  });

  it('paired: flags of other tasks are refused, and data with no usable pair is exit 2', async () => {
    const refused = await evalCli(['--task', 'paired', '--data', path.join(dir, 'pairs'), '--scale', '2']);
    expect(refused.stderr.split('\n')[0]).toBe('eval: --scale only applies to --task sr');
    expect(refused.code).toBe(2);
    const unmatched = path.join(dir, 'unmatched');
    const none = await evalCli(['--task', 'paired', '--data', unmatched, '--model', path.join(dir, 'inverter')]);
    expect(none.stderr).not.toMatch(/^\s+at /m);
    expect(none.stderr.split('\n').filter((l) => l.startsWith('eval:'))).toEqual([
      `eval: No pair in ${unmatched} can be scored (read as A/ and B/ folders). 2 files without a partner skipped: ` +
        `${path.join('A', 'a.png')} (no image of the same name in B/), ${path.join('B', 'b.png')} (no image of the same name in A/).`,
    ]);
    expect(none.code).toBe(2);
  });
});
