/**
 * `npm run model-card` as a user runs it (node --import tsx), on a tiny model in a temp folder:
 * sample names, samples it cannot use, and the messages of usage errors.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nearestSrNet, saveTestModel, testMetadata } from '@/lib/infer/test-models';
import { initBackend } from '@/lib/tf/backend';

const ROOT = path.resolve(__dirname, '..');
let dir: string;

function modelCard(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts', 'model-card.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, TF_BACKEND: 'cpu', DEBUG: '' }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function image(width: number, height: number, background: string): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background } }).png().toBuffer();
}

beforeAll(async () => {
  await initBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'model-card-cli-'));
  const metadata = testMetadata({ task: 'sr', scale: 2 });
  await saveTestModel(nearestSrNet(2), path.join(dir, metadata.name), metadata);
  await fs.writeFile(path.join(dir, 'a.png'), await image(40, 30, '#3080c0'));
  await fs.writeFile(path.join(dir, 'a.jpg'), await sharp(await image(40, 30, '#c08030')).jpeg().toBuffer());
  await fs.writeFile(path.join(dir, 'dot.png'), await image(1, 1, '#ffffff'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('npm run model-card', () => {
  it('gives samples that share a stem names of their own', async () => {
    const model = path.join(dir, 'test-sr-x2');
    const { code, stdout, stderr } = await modelCard(['--model', model, '--samples', `${path.join(dir, 'a.jpg')},${path.join(dir, 'a.png')}`]);
    expect(stderr).not.toContain('model-card:');
    expect(code).toBe(0);
    expect(stdout).toContain('with 2 sample(s)');
    expect((await fs.readdir(path.join(model, 'samples'))).sort()).toEqual(['a-2.png', 'a.png']);
    const card = await fs.readFile(path.join(model, 'README.md'), 'utf8');
    expect(card).toContain('![a.jpg: low-res input (nearest) | bicubic | test-sr-x2 | original](samples/a.png)');
    expect(card).toContain('![a.png: low-res input (nearest) | bicubic | test-sr-x2 | original](samples/a-2.png)');
  });

  it('works on a copy of a model under another folder name', async () => {
    const copy = path.join(dir, 'renamed');
    await fs.cp(path.join(dir, 'test-sr-x2'), copy, { recursive: true });
    await fs.rm(path.join(copy, 'samples'), { recursive: true, force: true });
    const { code, stderr } = await modelCard(['--model', copy, '--samples', path.join(dir, 'a.png')]);
    expect(stderr).not.toContain('model-card:');
    expect(code).toBe(0);
    expect(await fs.readdir(path.join(copy, 'samples'))).toEqual(['a.png']);
  });

  it('refuses a sample too small to show, before any work (exit 2)', async () => {
    const model = path.join(dir, 'small-sample');
    await fs.cp(path.join(dir, 'test-sr-x2'), model, { recursive: true });
    await fs.rm(path.join(model, 'samples'), { recursive: true, force: true });
    await fs.rm(path.join(model, 'README.md'), { force: true });
    const dot = path.join(dir, 'dot.png');
    const { code, stderr } = await modelCard(['--model', model, '--samples', `${path.join(dir, 'a.png')},${dot}`]);
    expect(stderr.split('\n')[0]).toBe(`model-card: --samples ${dot} is 1x1; samples must be at least 16 x 16 px`);
    expect(code).toBe(2);
    expect(existsSync(path.join(model, 'samples'))).toBe(false);
    expect(existsSync(path.join(model, 'README.md'))).toBe(false);
  });

  it('says usage errors in plain words (exit 2)', async () => {
    const missing = path.join(dir, 'no-such-model');
    const cases: [string[], string][] = [
      [['--samples', 'a.png'], 'model-card: --model <model folder> is required'],
      [['--model', path.join(dir, 'test-sr-x2'), 'stray'], 'model-card: unexpected argument "stray"'],
      [['--model', missing], `model-card: --model ${missing}: no such folder`],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await modelCard(args);
      expect(stderr.split('\n')[0]).toBe(message);
      expect(stderr).toContain('\n\nUsage: npm run model-card');
      expect(code).toBe(2);
    }
  });

  it('--help describes every flag', async () => {
    const { code, stdout } = await modelCard(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--model DIR', '--eval LIST', '--samples LIST', '--notes FILE', '--help']) expect(stdout).toMatch(new RegExp(`^  ${flag} `, 'm'));
  });
});
