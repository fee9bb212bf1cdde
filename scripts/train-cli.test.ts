/** `npm run train` as a user runs it (the script in a subprocess), for what fails before training.
 * Each flag's rule is tested in lib/train/config.test.ts; here, how the script reports it. */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, trainFlagsSchema } from '@/lib/train/config';

const ROOT = path.resolve(__dirname, '..');
let dir: string;

/** Runs scripts/train.ts as package.json does; DEBUG unset unless `env` sets it. */
function train(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { DEBUG: _debug, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts', 'train.ts'), ...args],
      { cwd: ROOT, env: { ...inherited, TF_BACKEND: 'wasm', TF_WASM_THREADS: '1', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Every path under `root`, to see that a refused command wrote nothing. */
async function tree(root: string): Promise<string[]> {
  return (await fs.readdir(root, { recursive: true })).sort();
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'train-cli-'));
  await fs.mkdir(path.join(dir, 'photos'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('npm run train', () => {
  it('exits 2 with one plain message for a bad name, number or missing flag, and writes nothing', async () => {
    const base = ['--task', 'colorize', '--data', path.join(dir, 'photos'), '--runs-dir', path.join(dir, 'runs', 'r'), '--models-dir', path.join(dir, 'models', 'm')];
    const cases: [string[], string][] = [
      // ".." would put the run's files beside the runs folder, the model beside the models folder.
      [[...base, '--run', '..'], 'train: --run needs a letter, digit, "_" or "-"'],
      [[...base, '--export', '..'], 'train: --export needs a letter, digit, "_" or "-"'],
      [[...base, '--lambda-l1', ''], 'train: --lambda-l1: must be a number (got "")'],
      [['--task', 'colorize'], 'train: --data is required: the folder of training images'],
      [['--resume', ''], 'train: --resume must not be empty'],
      // Accepted and ignored, they would make the same command plus --resume fail.
      [[...base, '--scale', '4', '--features', '16'], 'train: --scale, --features: only for --task sr'],
    ];
    for (const [args, message] of cases) {
      const result = await train(args);
      expect(result.stderr, args.join(' ')).toBe(`${message}\nRun with --help for the options.\n`);
      expect(result.code).toBe(2);
    }
    expect(await tree(dir)).toEqual(['photos']);
  }, 120_000);

  it('exits 2 when --resume would train nothing: --steps not above the step the run is at', async () => {
    const runsDir = path.join(dir, 'runs');
    const config = resolveConfig(trainFlagsSchema.parse({ task: 'sr', data: path.join(dir, 'photos'), run: 'r', runsDir, steps: 100 }));
    await fs.mkdir(path.join(runsDir, 'r', 'checkpoint'), { recursive: true });
    await fs.writeFile(path.join(runsDir, 'r', 'config.json'), JSON.stringify(config));
    await fs.writeFile(path.join(runsDir, 'r', 'checkpoint', 'state.json'), JSON.stringify({ step: 67, elapsedSec: 1, config }));
    const result = await train(['--resume', 'r', '--runs-dir', runsDir, '--steps', '3']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('train: --resume r: the run is already at step 67, so --steps 3 would train nothing: give --steps above 67');
    expect(result.stdout).not.toContain('done:');
  }, 60_000);

  it('the ETA counts down to the --max-minutes time box when that ends the run first, and says so', async () => {
    const photos = path.join(dir, 'eta-photos');
    await fs.mkdir(photos);
    for (const i of [0, 1]) await sharp({ create: { width: 40, height: 36, channels: 3, background: { r: 90 * i, g: 120, b: 60 } } }).png().toFile(path.join(photos, `p${i}.png`));
    const result = await train(['--task', 'sr', '--scale', '2', '--data', photos, '--crop-size', '32', '--features', '4', '--blocks', '0', '--batch-size', '1', '--steps', '100000', '--max-minutes', '0.02', '--log-every', '1', '--runs-dir', path.join(dir, 'eta-runs')]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/ 1\/100000 [\d.]+ img\/s ETA \d+s \(--max-minutes\) /);
    expect(result.stdout).toContain('(stopped by time)');
  }, 60_000);

  it('an unexpected error prints its message, and its stack trace only with DEBUG set', async () => {
    const runsDir = path.join(dir, 'broken-runs');
    const config = resolveConfig(trainFlagsSchema.parse({ task: 'sr', data: path.join(dir, 'photos'), run: 'broken', runsDir, steps: 5 }));
    await fs.mkdir(path.join(runsDir, 'broken', 'checkpoint'), { recursive: true });
    await fs.writeFile(path.join(runsDir, 'broken', 'config.json'), JSON.stringify(config));
    // A checkpoint whose state cannot be read: loading it throws a plain SyntaxError.
    await fs.writeFile(path.join(runsDir, 'broken', 'checkpoint', 'state.json'), '{ not json');
    const args = ['--resume', 'broken', '--runs-dir', runsDir];
    const plain = await train(args);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^train: .*JSON/m);
    expect(plain.stderr).not.toMatch(/^\s+at /m);
    const debug = await train(args, { DEBUG: '1' });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^\s+at /m);
  }, 120_000);
});
