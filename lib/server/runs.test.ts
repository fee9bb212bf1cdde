import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidRunName, listRuns, parseLog, readRun, runsDir, samplePath, thin } from './runs';

const train = (step: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'train', step, elapsedSec: step / 10, lossD: 0.7, lossG: 2 - step / 1000, lossGGan: 0.9, lossGL1: 1.1, lr: 2e-4, imagesPerSec: 3, ...extra });
const val = (step: number, psnr: number) => JSON.stringify({ type: 'val', step, metrics: { psnr, ssim: 0.8 } });

describe('parseLog', () => {
  it('reads train and val records and tolerates a half-written last line', () => {
    const text = [train(10), val(10, 21.5), train(20, { futureField: 'x' }), '{"type":"train","step":30,"lo'].join('\n');
    const log = parseLog(text);
    expect(log.train.map((p) => p.step)).toEqual([10, 20]);
    expect(log.train[0]).toMatchObject({ lossG: 1.99, lossGL1: 1.1, lr: 2e-4 });
    // Unknown fields are not carried into the points.
    expect(log.train[1]).not.toHaveProperty('futureField');
    expect(log.val).toEqual([{ step: 10, metrics: { psnr: 21.5, ssim: 0.8 } }]);
    expect(log.skippedLines).toBe(1);
  });

  it('counts malformed known records, ignores unknown record types and blank lines', () => {
    const text = [
      JSON.stringify({ type: 'train', step: 'ten' }),
      JSON.stringify({ type: 'val', step: 5, metrics: { psnr: 'high' } }),
      JSON.stringify({ type: 'checkpoint', step: 5, path: 'x' }),
      '',
      '42',
      train(5, { lossD: undefined }),
    ].join('\n');
    const log = parseLog(text);
    expect(log.train).toHaveLength(1);
    expect(log.train[0]).not.toHaveProperty('lossD');
    expect(log.val).toHaveLength(0);
    expect(log.skippedLines).toBe(3);
  });
});

describe('thin', () => {
  it('keeps the first and last point and at most about maxPoints', () => {
    const points = Array.from({ length: 10_001 }, (_, i) => i);
    const kept = thin(points, 1000);
    expect(kept.length).toBeLessThanOrEqual(1001);
    expect(kept[0]).toBe(0);
    expect(kept.at(-1)).toBe(10_000);
    expect(thin([1, 2, 3], 10)).toEqual([1, 2, 3]);
  });
});

describe('run folders', () => {
  let dir: string;
  const now = Date.now();

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'runs-test-'));
    // A finished run: old log, config, two samples and a stray file.
    const old = path.join(dir, 'colorize-old');
    await fs.mkdir(path.join(old, 'samples'), { recursive: true });
    await fs.writeFile(path.join(old, 'config.json'), JSON.stringify({ task: 'colorize', batchSize: 4 }));
    await fs.writeFile(path.join(old, 'log.jsonl'), [train(100), val(100, 20), train(200)].join('\n') + '\n');
    await fs.writeFile(path.join(old, 'samples', 'step-00000100.png'), 'x');
    await fs.writeFile(path.join(old, 'samples', 'step-00000200.png'), 'x');
    await fs.writeFile(path.join(old, 'samples', 'notes.txt'), 'x');
    const hourAgo = new Date(now - 3_600_000);
    await fs.utimes(path.join(old, 'log.jsonl'), hourAgo, hourAgo);
    // A live run: log just written, broken config, no samples.
    const live = path.join(dir, 'sr-live');
    await fs.mkdir(live);
    await fs.writeFile(path.join(live, 'config.json'), '{ not json');
    await fs.writeFile(path.join(live, 'log.jsonl'), train(1) + '\n{"type":"tr');
    // Not runs: a file and a folder with an unsafe name.
    await fs.writeFile(path.join(dir, 'README'), 'x');
    await fs.mkdir(path.join(dir, '.hidden'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('lists runs newest first with their status', async () => {
    const runs = await listRuns(dir, now);
    expect(runs.map((r) => r.name)).toEqual(['sr-live', 'colorize-old']);
    expect(runs[0]).toMatchObject({ live: true, lastStep: 1, sampleCount: 0 });
    expect(runs[1]).toMatchObject({ live: false, task: 'colorize', lastStep: 200, sampleCount: 2 });
    expect(runs[1]!.lastVal?.metrics.psnr).toBe(20);
  });

  it('reads one run in full', async () => {
    const run = await readRun('colorize-old', dir, now);
    expect(run?.config).toEqual({ task: 'colorize', batchSize: 4 });
    expect(run?.samples).toEqual(['step-00000100.png', 'step-00000200.png']);
    expect(run?.train.map((p) => p.step)).toEqual([100, 200]);
    const live = await readRun('sr-live', dir, now);
    expect(live?.config).toBeNull();
    expect(live?.configError).toMatch(/not valid JSON/);
    expect(live?.skippedLines).toBe(1);
  });

  it('reads only the end of a long log for the list, from a line boundary', async () => {
    const long = path.join(dir, 'long-run');
    await fs.mkdir(long);
    const lines = Array.from({ length: 5000 }, (_, i) => train(i + 1));
    lines.splice(4900, 0, val(4900, 25));
    await fs.writeFile(path.join(long, 'log.jsonl'), lines.join('\n') + '\n');
    const summary = (await readRun('long-run', dir, now, { tailBytes: 64 * 1024 }))!;
    expect(summary.lastStep).toBe(5000);
    expect(summary.lastVal?.step).toBe(4900);
    // The cut first line is dropped, not counted as a bad record; and far fewer points were read.
    expect(summary.skippedLines).toBe(0);
    expect(summary.train.length).toBeLessThan(1000);
    const full = (await readRun('long-run', dir, now))!;
    expect(full.train.length).toBeLessThanOrEqual(2001);
    expect(full.train.at(-1)?.step).toBe(5000);
    await fs.rm(long, { recursive: true });
  });

  it('refuses unsafe names and missing runs', async () => {
    expect(await readRun('../etc', dir)).toBeUndefined();
    expect(await readRun('nope', dir)).toBeUndefined();
    expect(isValidRunName('..')).toBe(false);
    expect(isValidRunName('a/b')).toBe(false);
    // Names `npm run train -- --run` accepts are listed, e.g. with a leading underscore.
    expect(isValidRunName('_scratch-1')).toBe(true);
    expect(isValidRunName('.hidden')).toBe(false);
    expect(samplePath('colorize-old', '../../x.png', dir)).toBeUndefined();
    expect(samplePath('colorize-old', 'step-00000100.png', dir)).toBe(path.join(dir, 'colorize-old', 'samples', 'step-00000100.png'));
  });

  it('reads without waiting for the event loop, which a running inference holds between model runs', async () => {
    // Each turn of the loop would cost the page a whole model run (seconds for an ensemble) while an
    // image is being processed, so the training page must not chain awaits per file.
    let turns = 0;
    let stop = false;
    const spin = () => {
      if (stop) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    try {
      const runs = await listRuns(dir, now);
      await readRun(runs[0]!.name, dir, now);
      expect(runs.length).toBeGreaterThan(0);
      expect(turns).toBe(0);
    } finally {
      stop = true;
    }
  });

  it('treats a missing runs folder as empty and reads RUNS_DIR', async () => {
    expect(await listRuns(path.join(dir, 'missing'))).toEqual([]);
    expect(runsDir({ RUNS_DIR: '/x/y' })).toBe('/x/y');
    expect(runsDir({})).toBe(path.join(process.cwd(), 'runs'));
  });
});
