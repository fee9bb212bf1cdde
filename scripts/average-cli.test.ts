/** `npm run average` as a user runs it (tsx subprocess), on tiny random models in a temp folder. */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomSrNet, saveTestModel, testMetadata } from '@/lib/infer/test-models';
import { parseMetadata } from '@/lib/model/metadata';
import { initBackend } from '@/lib/tf/backend';

let dir: string;
const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [path.join(ROOT, 'scripts', 'average.ts'), ...args], { cwd: ROOT, env: { ...process.env, MODELS_DIR: dir }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  await initBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'average-cli-'));
  await saveTestModel(randomSrNet(2, 1), path.join(dir, 'a'), { ...testMetadata({ task: 'sr', scale: 2 }), name: 'a' });
  await saveTestModel(randomSrNet(2, 2), path.join(dir, 'b'), { ...testMetadata({ task: 'sr', scale: 2 }), name: 'b' });
  await saveTestModel(randomSrNet(4, 1), path.join(dir, 'x4'), testMetadata({ task: 'sr', scale: 4 }));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('npm run average', () => {
  it('writes the mean into $MODELS_DIR/<name> and says what it averaged', async () => {
    const result = await run([path.join(dir, 'a'), path.join(dir, 'b'), '--name', 'soup', '--weights', '1,3']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('mean of a (0.25), b (0.75)');
    const metadata = parseMetadata(JSON.parse(await fs.readFile(path.join(dir, 'soup', 'metadata.json'), 'utf8')), 'soup');
    expect(metadata.averagedFrom?.map((s) => s.name)).toEqual(['a', 'b']);
  }, 120_000);

  it('exits 2 with one clear message for usage errors, 1 for models that do not fit together', async () => {
    const one = await run([path.join(dir, 'a'), '--name', 'x']);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('average: arguments: give at least two model folders to average');
    const weights = await run([path.join(dir, 'a'), path.join(dir, 'b'), '--name', 'x', '--weights', '1']);
    expect(weights.code).toBe(2);
    expect(weights.stderr).toContain('--weights needs one number per model folder');
    const mismatch = await run([path.join(dir, 'a'), path.join(dir, 'x4'), '--name', 'x']);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain('Cannot average these models: scale differs');
    await expect(fs.access(path.join(dir, 'x'))).rejects.toThrow();
  }, 120_000);

  it('says what is wrong with --weights once, and refuses a model folder given twice (exit 2)', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    const nan = await run([a, b, '--name', 'x', '--weights', 'a,b']);
    expect(nan.code).toBe(2);
    expect(nan.stderr.split('\n')[0]).toBe('average: --weights must be positive numbers separated by commas; got "a,b"');
    expect(nan.stderr.match(/--weights must/g)).toHaveLength(1);
    const twice = await run([a, a, '--name', 'x']);
    expect(twice.code).toBe(2);
    expect(twice.stderr.split('\n')[0]).toBe(`average: ${a} is given twice; give each model folder once (--weights sets how much each counts)`);
    await expect(fs.access(path.join(dir, 'x'))).rejects.toThrow();
  }, 120_000);

  it('takes huge weights by their ratio instead of failing on an infinite sum', async () => {
    const result = await run([path.join(dir, 'a'), path.join(dir, 'b'), '--name', 'huge', '--weights', '1e308,1e308']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('mean of a (0.50), b (0.50)');
  }, 120_000);
});
