/** `npm run export` as a user runs it (tsx subprocess), on a 1-step run in a temp folder. */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetadata } from '@/lib/model/metadata';
import { resolveConfig, trainFlagsSchema } from '@/lib/train/config';
import { train } from '@/lib/train/loop';

let dir: string;
const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, RUNS_DIR: path.join(dir, 'runs'), MODELS_DIR: path.join(dir, 'models'), TF_BACKEND: 'wasm' };
    execFile(TSX, [path.join(ROOT, 'scripts', 'export.ts'), ...args], { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  process.env.TF_BACKEND = 'wasm';
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'export-cli-'));
  const photos = path.join(dir, 'photos');
  await fs.mkdir(photos);
  for (let i = 0; i < 3; i++) {
    await sharp({ create: { width: 60 + i * 4, height: 56, channels: 3, background: { r: 40 * i, g: 120, b: 200 - 30 * i } } })
      .png()
      .toFile(path.join(photos, `p${i}.png`));
  }
  const config = resolveConfig(
    trainFlagsSchema.parse({ task: 'sr', scale: 2, cropSize: 32, features: 4, blocks: 0, steps: 1, batchSize: 2, valFraction: 0.34, sampleEvery: 100, data: photos, runsDir: path.join(dir, 'runs'), run: 'tiny' }),
  );
  await train(config, { log: () => undefined });
  const colorizeConfig = resolveConfig(
    trainFlagsSchema.parse({ task: 'colorize', cropSize: 32, imageSide: 48, ngf: 4, depth: 3, gan: 'none', steps: 1, batchSize: 2, valFraction: 0, sampleEvery: 100, data: photos, runsDir: path.join(dir, 'runs'), run: 'tiny-colorize' }),
  );
  await train(colorizeConfig, { log: () => undefined });
}, 120_000);

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('npm run export', () => {
  it("writes the run's generator into $MODELS_DIR/<name> with its metadata", async () => {
    const result = await run(['--run', 'tiny', '--name', 'tiny-x2', '--variant', 'test', '--description', 'a tiny model']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('(sr, x2, step 1)');
    const out = path.join(dir, 'models', 'tiny-x2');
    const metadata = parseMetadata(JSON.parse(await fs.readFile(path.join(out, 'metadata.json'), 'utf8')), 'tiny-x2');
    expect([metadata.task, metadata.scale, metadata.variant, metadata.description]).toEqual(['sr', 2, 'test', 'a tiny model']);
    await fs.access(path.join(out, 'model.json'));

    // Exporting over it again replaces the whole folder: the old model's card and samples do not
    // stay behind to describe new weights, and no temporary folder is left.
    await fs.writeFile(path.join(out, 'README.md'), '# the old card');
    await fs.mkdir(path.join(out, 'samples'));
    const again = await run(['--run', 'tiny', '--name', 'tiny-x2']);
    expect(again.code).toBe(0);
    // Said, as `npm run train -- --export` says it: the name may have been a shipped model's.
    expect(again.stdout).toContain(`replaced the model that was in ${out} (from run tiny, step 1)`);
    expect((await fs.readdir(out)).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    expect((await fs.readdir(path.join(dir, 'models'))).sort()).toEqual(['tiny-x2']);
  }, 120_000);

  it('--working-size sets the side a colorizer runs at (rounded to the U-Net multiple), for colorize runs only', async () => {
    const read = async (name: string) => parseMetadata(JSON.parse(await fs.readFile(path.join(dir, 'models', name, 'metadata.json'), 'utf8')), name);
    expect((await run(['--run', 'tiny-colorize', '--name', 'tiny-col'])).code).toBe(0);
    expect((await read('tiny-col')).workingSize).toBe(48);
    const smaller = await run(['--run', 'tiny-colorize', '--name', 'tiny-col-small', '--working-size', '30']);
    expect(smaller.code).toBe(0);
    const metadata = await read('tiny-col-small');
    expect(metadata.workingSize).toBe(32);
    expect(metadata.training.config).toMatchObject({ imageSide: 48 });
    const sr = await run(['--run', 'tiny', '--name', 'x', '--working-size', '64']);
    expect(sr.code).toBe(2);
    expect(sr.stderr.split('\n')[0]).toBe('export: --working-size only applies to colorize runs; run tiny is --task sr');
  }, 120_000);

  it("writes only the validation metrics logged at the checkpoint's step, and says so when there are none", async () => {
    const runs = path.join(dir, 'runs');
    const logOf = (run: string) => path.join(runs, run, 'log.jsonl');
    const stepOneVal = (await fs.readFile(logOf('tiny'), 'utf8')).split('\n').filter((line) => line.includes('"type":"val"'));
    expect(stepOneVal).toHaveLength(1);
    // A run killed after its checkpoint (step 1) logged a validation of later weights (step 36).
    await fs.cp(path.join(runs, 'tiny'), path.join(runs, 'killed'), { recursive: true });
    await fs.appendFile(logOf('killed'), JSON.stringify({ type: 'val', step: 36, metrics: { psnr: 99 } }) + '\n');
    const killed = await run(['--run', 'killed', '--name', 'killed']);
    expect(killed.code).toBe(0);
    const metrics = (name: string) => fs.readFile(path.join(dir, 'models', name, 'metadata.json'), 'utf8').then((text) => (JSON.parse(text) as { metrics: Record<string, number> }).metrics);
    const expected = (JSON.parse(stepOneVal[0]!) as { metrics: { psnr: number } }).metrics.psnr;
    expect(await metrics('killed')).toEqual({ val_psnr: expected });
    // Only later validations: no metrics, and the export says why.
    await fs.cp(path.join(runs, 'tiny'), path.join(runs, 'no-val'), { recursive: true });
    const withoutVal = (await fs.readFile(logOf('no-val'), 'utf8')).split('\n').filter((line) => !line.includes('"type":"val"'));
    await fs.writeFile(logOf('no-val'), [...withoutVal, JSON.stringify({ type: 'val', step: 36, metrics: { psnr: 99 } }), ''].join('\n'));
    const noVal = await run(['--run', 'no-val', '--name', 'no-val']);
    expect(noVal.code).toBe(0);
    expect(noVal.stdout).toContain("no validation metrics in its metadata: the run's log has no validation at step 1, the checkpoint's");
    expect(await metrics('no-val')).toEqual({});
  }, 120_000);

  it('exits 2 with one clear message and the usage for usage errors, and writes nothing', async () => {
    const file = path.join(dir, 'a-file');
    await fs.writeFile(file, 'x');
    await fs.mkdir(path.join(dir, 'runs', 'empty'), { recursive: true });
    // A folder of someone's files: the export replaces its folder whole, so it must not be taken.
    await fs.mkdir(path.join(dir, 'models', 'notes'), { recursive: true });
    await fs.writeFile(path.join(dir, 'models', 'notes', 'todo.txt'), 'keep me');
    const cases: [string[], string][] = [
      [['--name', 'x'], 'export: --run needs a value'],
      [['--run', 'tiny', '--name', 'a/b'], '--name may contain letters'],
      [['--run', 'tiny', '--name', ''], 'export: --name must not be empty\n'],
      [['--run', '..', '--name', 'x'], 'export: --run needs a letter, digit, "_" or "-"'],
      [['--run', 'tiny', '--name', 'x', '--temperature', '2'], '--temperature must be at most 1'],
      [['--run', 'tiny', '--name', 'x', '--bogus'], 'export: unknown flag --bogus'],
      [['--run', 'tiny', 'x'], 'export: unexpected argument "x"'],
      // It would end up in ?variant= URLs, which the server accepts only in this form.
      [['--run', 'tiny', '--name', 'x', '--variant', 'has space'], 'export: --variant must be a lowercase letter, then up to 31'],
      [['--run', 'nope', '--name', 'x'], `export: no run named nope in ${path.join(dir, 'runs')}`],
      [['--run', 'empty', '--name', 'x'], `export: no checkpoint in ${path.join(dir, 'runs', 'empty')}`],
      [['--run', 'tiny', '--name', 'x', '--models-dir', file], `export: the models folder ${file} cannot be made: ${file} is a file, not a folder`],
      [['--run', 'tiny', '--name', 'a-file', '--models-dir', dir], `export: ${file} is a file, not a model folder`],
      [['--run', 'tiny', '--name', 'notes'], `export: ${path.join(dir, 'models', 'notes')} is a folder but not a model (no metadata.json)`],
      // The tiny run is sr: it has no colour-class head to decode at another temperature.
      [['--run', 'tiny', '--name', 'x', '--temperature', '0.5'], 'export: --temperature decodes a colour-class head (a run trained with --head classes); run tiny has none'],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain('Usage: npm run export');
    }
    await expect(fs.access(path.join(dir, 'models', 'x'))).rejects.toThrow();
    expect(await fs.readFile(path.join(dir, 'models', 'notes', 'todo.txt'), 'utf8')).toBe('keep me');
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--temperature T');
  }, 300_000);
});
