/**
 * End to end: `npm run upscale` / `colorize` / `translate` as a user runs them (tsx subprocess), on tiny
 * random models in a temp MODELS_DIR.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rgbToLab } from '@/lib/image/lab';
import { constantColorizer, invertingPairedNet, randomColorizer, randomPairedUnet, randomSrNet, saveTestModel, testMetadata } from '@/lib/infer/test-models';
import { initBackend } from '@/lib/tf/backend';

let dir: string;
const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      [path.join(ROOT, 'scripts', script), ...args],
      { cwd: ROOT, env: { ...process.env, MODELS_DIR: path.join(dir, 'models'), TF_BACKEND: 'cpu', ...env }, timeout: 120_000 },
      (error, _stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

beforeAll(async () => {
  await initBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'infer-cli-'));
  await saveTestModel(randomSrNet(2), path.join(dir, 'models', 'sr-x2'), testMetadata({ task: 'sr', scale: 2 }));
  await saveTestModel(randomSrNet(4), path.join(dir, 'models', 'sr-x4'), testMetadata({ task: 'sr', scale: 4 }));
  // A variant that sorts first by name: the default must still be the faithful sr-x4, as in the app.
  await saveTestModel(randomSrNet(4, 3), path.join(dir, 'models', 'a-sharp'), testMetadata({ task: 'sr', scale: 4 }, { variant: 'sharp' }));
  await saveTestModel(randomColorizer(), path.join(dir, 'elsewhere', 'my-colorizer'), testMetadata({ task: 'colorize', scale: 1 }));
  // a* = 33, b* = -22 everywhere: a colour the strength can be measured on.
  await saveTestModel(constantColorizer([0.3, -0.2]), path.join(dir, 'elsewhere', 'violet'), testMetadata({ task: 'colorize', scale: 1 }));
  await saveTestModel(invertingPairedNet(), path.join(dir, 'elsewhere', 'negative'), testMetadata({ task: 'paired', scale: 1 }));
  await saveTestModel(invertingPairedNet(), path.join(dir, 'two-paired', 'negative'), testMetadata({ task: 'paired', scale: 1 }));
  await saveTestModel(randomPairedUnet(), path.join(dir, 'two-paired', 'facades'), testMetadata({ task: 'paired', scale: 1 }));
  await fs.mkdir(path.join(dir, 'in'));
  await sharp({ create: { width: 23, height: 9, channels: 3, background: '#3080c0' } }).jpeg().toFile(path.join(dir, 'in', 'a.jpg'));
  await sharp({ create: { width: 5, height: 7, channels: 4, background: { r: 9, g: 9, b: 9, alpha: 0.5 } } })
    .png()
    .toFile(path.join(dir, 'in', 'b.png'));
  await fs.writeFile(path.join(dir, 'in', 'broken.png'), 'not a png');
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('npm run upscale', () => {
  it('upscales a folder, reports the unreadable file, still writes the others, exits 1', async () => {
    const out = path.join(dir, 'up');
    const { code, stderr } = await run('upscale.ts', ['--scale', '4', path.join(dir, 'in'), '--out', out]);
    expect(stderr).toContain('model sr-x4,');
    expect(stderr).toContain('FAIL  broken.png');
    expect(stderr).toContain('2 of 3 done, 1 failed');
    expect(code).toBe(1);
    expect((await fs.readdir(out)).sort()).toEqual(['a.png', 'b.png']);
    expect(await sharp(path.join(out, 'a.png')).metadata()).toMatchObject({ width: 92, height: 36 });
    expect(await sharp(path.join(out, 'b.png')).metadata()).toMatchObject({ width: 20, height: 28, hasAlpha: true });
  });

  it('--ensemble gives the same size and different pixels (8 averaged runs); colorize has no such flag', async () => {
    const noise = Buffer.from(Array.from({ length: 17 * 11 * 3 }, (_, i) => (i * 97 + ((i * i) % 13) * 31) % 256));
    const input = path.join(dir, 'noise.png');
    await sharp(noise, { raw: { width: 17, height: 11, channels: 3 } }).png().toFile(input);
    const plain = await run('upscale.ts', ['--scale', '2', input, '--out', path.join(dir, 'plain')]);
    const ensembled = await run('upscale.ts', ['--scale', '2', input, '--ensemble', '--out', path.join(dir, 'ens')]);
    expect([plain.code, ensembled.code]).toEqual([0, 0]);
    const a = await sharp(path.join(dir, 'plain', 'noise.png')).raw().toBuffer({ resolveWithObject: true });
    const b = await sharp(path.join(dir, 'ens', 'noise.png')).raw().toBuffer({ resolveWithObject: true });
    expect([b.info.width, b.info.height]).toEqual([34, 22]);
    expect(Buffer.compare(a.data, b.data)).not.toBe(0);
    const wrong = await run('colorize.ts', [input, '--ensemble', '--out', path.join(dir, 'x')]);
    expect(wrong.code).toBe(2);
  });

  it('refuses a result over what can be encoded, or over MAX_OUTPUT_PIXELS, from the header: one FAIL line, the rest still done', async () => {
    // The header of a 4100 x 4100 PNG (its pixels cut off): x4 would be 16400 x 16400, more pixels
    // than sharp encodes (16383 x 16383); found before any decoding, so the missing pixels never matter.
    const png = await sharp({ create: { width: 4100, height: 4100, channels: 3, background: '#808080' } }).png().toBuffer();
    const huge = path.join(dir, 'huge.png');
    await fs.writeFile(huge, png.subarray(0, 100));
    const small = path.join(dir, 'in', 'b.png');
    const byDefault = await run('upscale.ts', ['--scale', '4', huge, small, '--out', path.join(dir, 'limit-default')]);
    expect(byDefault.stderr).toContain(
      'FAIL  huge.png: Upscaling 4100x4100 by 4 would give 16400x16400 = 268,960,000 pixels; the limit is 268,402,689 pixels.',
    );
    expect(byDefault.stderr).toContain('1 of 2 done, 1 failed');
    expect(byDefault.code).toBe(1);

    const bySetting = await run('upscale.ts', ['--scale', '4', path.join(dir, 'in', 'a.jpg'), small, '--out', path.join(dir, 'limit-env')], {
      MAX_OUTPUT_PIXELS: '1000',
    });
    expect(bySetting.stderr).toContain('FAIL  a.jpg: Upscaling 23x9 by 4 would give 92x36 = 3,312 pixels; the limit is 1,000 pixels.');
    expect(bySetting.stderr).toContain('1 of 2 done, 1 failed');
    expect(await fs.readdir(path.join(dir, 'limit-env'))).toEqual(['b.png']);
  });

  it('exits 2 with one message on a bad flag value', async () => {
    const { code, stderr } = await run('upscale.ts', ['--scale', '3', path.join(dir, 'in'), '--out', path.join(dir, 'x')]);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe('upscale: --scale must be 2 or 4');
  });
});

describe('npm run colorize', () => {
  it('colorizes with --model <dir> to the same size and exits 0 when all succeed', async () => {
    const out = path.join(dir, 'col');
    const { code, stderr } = await run('colorize.ts', [
      path.join(dir, 'in', 'a.jpg'),
      path.join(dir, 'in', 'b.png'),
      '--out',
      out,
      '--model',
      path.join(dir, 'elsewhere', 'my-colorizer'),
    ]);
    expect(stderr).toContain('model my-colorizer');
    expect(code).toBe(0);
    expect(await sharp(path.join(out, 'a.png')).metadata()).toMatchObject({ width: 23, height: 9 });
    expect(await sharp(path.join(out, 'b.png')).metadata()).toMatchObject({ width: 5, height: 7, hasAlpha: true });
  });

  it('--strength scales the colour (0: gray, 2: twice the a*b*); out of 0-2, or given to upscale, it is a usage error', async () => {
    const model = ['--model', path.join(dir, 'elsewhere', 'violet')];
    const input = path.join(dir, 'in', 'a.jpg');
    const meanAb = async (strength: string) => {
      const out = path.join(dir, `strength-${strength}`);
      const { code } = await run('colorize.ts', [input, '--strength', strength, '--out', out, ...model]);
      expect(code).toBe(0);
      const { data, info } = await sharp(path.join(out, 'a.png')).raw().toBuffer({ resolveWithObject: true });
      const n = info.width * info.height;
      const ab = rgbToLab(new Uint8Array(data), n);
      let [a, b] = [0, 0];
      for (let i = 0; i < n; i++) [a, b] = [a + ab[i * 3 + 1]! / n, b + ab[i * 3 + 2]! / n];
      return [a, b];
    };
    const [gray, own, double] = [await meanAb('0'), await meanAb('1'), await meanAb('2')];
    expect(Math.hypot(gray[0]!, gray[1]!)).toBeLessThan(1);
    expect(own[0]).toBeCloseTo(33, -0.5); // within 1.6: 8-bit rounding
    expect(own[1]).toBeCloseTo(-22, -0.5);
    expect(double[0]! / own[0]!).toBeCloseTo(2, 1);
    expect(double[1]! / own[1]!).toBeCloseTo(2, 1);
    const tooStrong = await run('colorize.ts', [input, '--strength', '2.5', '--out', path.join(dir, 'x'), ...model]);
    expect(tooStrong.code).toBe(2);
    expect(tooStrong.stderr.split('\n')[0]).toBe('colorize: --strength must be at most 2');
    const upscale = await run('upscale.ts', ['--scale', '2', input, '--strength', '1.5', '--out', path.join(dir, 'x')]);
    expect(upscale.code).toBe(2);
    expect(upscale.stderr.split('\n')[0]).toBe('upscale: unknown flag --strength');
  });

  it('applies MAX_INPUT_PIXELS when it is set', async () => {
    const out = path.join(dir, 'col-limit');
    const model = ['--model', path.join(dir, 'elsewhere', 'my-colorizer')];
    const { code, stderr } = await run('colorize.ts', [path.join(dir, 'in', 'a.jpg'), path.join(dir, 'in', 'b.png'), '--out', out, ...model], {
      MAX_INPUT_PIXELS: '100',
    });
    expect(stderr).toContain('FAIL  a.jpg: The image is 23x9 = 207 pixels; the limit is 100 pixels.');
    expect(stderr).toContain('1 of 2 done, 1 failed');
    expect(code).toBe(1);
  });
});

describe('npm run translate', () => {
  it('runs a paired model given with --model: same size, every visible pixel through the model, alpha kept', async () => {
    const out = path.join(dir, 'tr');
    const inputs = [path.join(dir, 'in', 'a.jpg'), path.join(dir, 'in', 'b.png')];
    const { code, stderr } = await run('translate.ts', [...inputs, '--out', out, '--model', path.join(dir, 'elsewhere', 'negative')]);
    expect(stderr).toContain('translate: 2 images, model negative');
    expect(code).toBe(0);
    const source = await sharp(inputs[0]).raw().toBuffer();
    const result = await sharp(path.join(out, 'a.png')).raw().toBuffer({ resolveWithObject: true });
    expect(result.info).toMatchObject({ width: 23, height: 9, channels: 3 });
    expect(result.data.findIndex((v, i) => v !== 255 - source[i]!)).toBe(-1);
    expect(await sharp(path.join(out, 'b.png')).metadata()).toMatchObject({ width: 5, height: 7, hasAlpha: true });
  });

  it('says how to get a paired model when there is none, and will not guess between two', async () => {
    const input = path.join(dir, 'in', 'a.jpg');
    const none = await run('translate.ts', [input, '--out', path.join(dir, 'tr-none')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no paired model in ${path.join(dir, 'models')}; train and export one (npm run train -- --task paired`);
    const two = await run('translate.ts', [input, '--out', path.join(dir, 'tr-two')], { MODELS_DIR: path.join(dir, 'two-paired') });
    expect(two.code).toBe(2);
    expect(two.stderr).toContain(
      `\ntranslate: ${path.join(dir, 'two-paired')} holds 2 paired models (facades, negative) and none is a default: choose one with --model <dir>\n`,
    );
    const named = await run('translate.ts', [input, '--out', path.join(dir, 'tr-named'), '--model', path.join(dir, 'two-paired', 'facades')]);
    expect(named.code).toBe(0);
    const wrongKind = await run('translate.ts', [input, '--out', path.join(dir, 'tr-kind'), '--model', path.join(dir, 'elsewhere', 'my-colorizer')]);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr.split('\n')[0]).toBe(`translate: --model ${path.join(dir, 'elsewhere', 'my-colorizer')} is a colorize model, not paired`);
  });
});
