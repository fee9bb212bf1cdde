import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@/lib/train/rng';
import { pairedTask } from './paired';
import type { TaskOptions } from './types';

let dir: string;

/** A flat image whose colour tells where it came from. */
async function write(file: string, width: number, height: number, grey: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: { r: grey, g: grey, b: grey } } }).png().toFile(file);
}

const options: TaskOptions = { cropSize: 32, scale: 1, direction: 'AtoB', valFraction: 0, sizeMultiple: 1 };

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'paired-task-'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('paired task data', () => {
  it('pairs A/ and B/ by path, so same-named photos in two sub-folders stay apart; strays on either side are reported', async () => {
    const root = path.join(dir, 'ab');
    await write(path.join(root, 'A', 'x', '1.png'), 40, 40, 10);
    await write(path.join(root, 'B', 'x', '1.png'), 40, 40, 20);
    await write(path.join(root, 'A', 'y', '1.png'), 40, 40, 30);
    await write(path.join(root, 'B', 'y', '1.png'), 40, 40, 40);
    await write(path.join(root, 'A', 'only-a.png'), 40, 40, 50);
    await write(path.join(root, 'B', 'only-b.png'), 40, 40, 60);
    const logged: string[] = [];
    const data = await pairedTask.load(root, options, new Rng(1), { log: (l) => logged.push(l) });
    const pairs = [...data.train, ...data.val.filter((v) => !data.train.includes(v))];
    expect(pairs.map((p) => [p.a.name, p.a.data[0], p.b.name, p.b.data[0]]).sort()).toEqual([
      ['x/1.png', 10, 'x/1.png', 20],
      ['y/1.png', 30, 'y/1.png', 40],
    ]);
    expect(logged).toEqual([
      `skipped ${path.join(root, 'A', 'only-a.png')}: no image of the same name in B/`,
      `skipped ${path.join(root, 'B', 'only-b.png')}: no image of the same name in A/`,
    ]);
  });

  it('reports a side-by-side image too narrow for two crops instead of dropping it silently', async () => {
    const root = path.join(dir, 'sbs');
    await write(path.join(root, 'ok.png'), 65, 32, 10);
    await write(path.join(root, 'narrow.png'), 50, 40, 20);
    const logged: string[] = [];
    const data = await pairedTask.load(root, options, new Rng(1), { log: (l) => logged.push(l) });
    expect(data.train.map((s) => [s.a.width, s.b.width])).toEqual([[32, 32]]);
    expect(logged).toEqual([`skipped ${path.join(root, 'narrow.png')}: too narrow for side-by-side A|B halves of 32 px (50x40; needs at least 64 px wide)`]);
  });

  it('reports two files of one name on a side (B/dup.jpg and B/dup.png) instead of pairing one of them silently', async () => {
    const root = path.join(dir, 'dup');
    await write(path.join(root, 'A', 'dup.jpg'), 40, 40, 10);
    await write(path.join(root, 'B', 'dup.jpg'), 40, 40, 20);
    await write(path.join(root, 'B', 'dup.png'), 40, 40, 30);
    await write(path.join(root, 'A', 'ok.png'), 40, 40, 40);
    await write(path.join(root, 'B', 'ok.png'), 40, 40, 50);
    const logged: string[] = [];
    const data = await pairedTask.load(root, options, new Rng(1), { log: (l) => logged.push(l) });
    expect(data.trainNames).toEqual(['ok.png']);
    expect(logged).toEqual([`skipped ${path.join(root, 'B', 'dup.*')}: B/dup.jpg and B/dup.png share one name, so which one is the pair cannot be told (rename all but one)`]);
  });
});
