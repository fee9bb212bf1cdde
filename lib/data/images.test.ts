import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_EXTENSIONS } from '@/lib/image/formats';
import { lockFolders, makeSpecialEntries } from '@/lib/cli/test-fs';
import { Rng } from '@/lib/train/rng';
import { DataError, holdOut, listImageFiles, loadImageFolder, loadRgbImage, splitHoldOut } from './images';

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'data-images-'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('listImageFiles', () => {
  it('takes what the decoder reads, in sub-folders too, sorted; skips hidden entries and other files', async () => {
    const root = path.join(dir, 'photos');
    for (const name of ['b.JPG', 'a.png', 'sub/c.webp', 'notes.txt', 'd.bmp', '._a.png', '.cache/e.png']) {
      await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await fs.writeFile(path.join(root, name), 'x');
    }
    const found = (await listImageFiles(root)).map((f) => path.relative(root, f));
    // BMP is only taken when this sharp build can decode it (prebuilt ones cannot).
    const bmp = IMAGE_EXTENSIONS.includes('.bmp') ? ['d.bmp'] : [];
    expect(found).toEqual(['a.png', 'b.JPG', ...bmp, path.join('sub', 'c.webp')]);
  });

  it('names a missing folder and a file given as the folder', async () => {
    await expect(listImageFiles(path.join(dir, 'nope'))).rejects.toThrow(new DataError(`Data folder not found: ${path.join(dir, 'nope')}`));
    const file = path.join(dir, 'file.png');
    await fs.writeFile(file, 'x');
    await expect(listImageFiles(file)).rejects.toThrow(/^Not a folder/);
  });

  it('takes regular files and links to them, never a FIFO, a link to a folder or a dangling link', async () => {
    const root = await makeSpecialEntries(dir);
    expect((await listImageFiles(root)).map((f) => path.relative(root, f))).toEqual(['a.png', 'link.jpg']);
  });

  it('reports an unreadable sub-folder, lists the rest; an unreadable data folder is a DataError', async () => {
    const root = path.join(dir, 'locked');
    for (const name of ['a.png', 'b-locked/x.png', 'c/y.png']) {
      await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await fs.writeFile(path.join(root, name), 'x');
    }
    const skipped: [string, string][] = [];
    const spy = lockFolders(path.join(root, 'b-locked'));
    try {
      const found = await listImageFiles(root, (folder, reason) => skipped.push([folder, reason]));
      expect(found.map((f) => path.relative(root, f))).toEqual(['a.png', path.join('c', 'y.png')]);
      expect(skipped).toEqual([[path.join(root, 'b-locked'), expect.stringMatching(/^unreadable folder \(EACCES: permission denied/)]]);
    } finally {
      spy.mockRestore();
    }
    const top = lockFolders(root);
    try {
      await expect(listImageFiles(root)).rejects.toThrow(new DataError(`Cannot read data folder ${root}: EACCES: permission denied, scandir '${root}'`));
    } finally {
      top.mockRestore();
    }
  });
});

describe('loadImageFolder', () => {
  it('trains on the readable photos when a sub-folder cannot be read, and says which folder was skipped', async () => {
    const root = path.join(dir, 'train-locked');
    for (const name of ['a.png', 'locked/b.png', 'z/c.png']) {
      await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await sharp({ create: { width: 8, height: 6, channels: 3, background: '#806040' } }).png().toFile(path.join(root, name));
    }
    const skipped: string[] = [];
    const spy = lockFolders(path.join(root, 'locked'));
    try {
      const images = await loadImageFolder(root, { minSide: 4, onSkip: (file, reason) => skipped.push(`${path.relative(root, file)}: ${reason}`) });
      expect(images.map((i) => i.name)).toEqual(['a.png', 'z/c.png']);
    } finally {
      spy.mockRestore();
    }
    expect(skipped).toEqual([expect.stringMatching(/^locked: unreadable folder \(EACCES/)]);
  });
});

describe('loadRgbImage', () => {
  it('fills transparent pixels from the visible ones, as inference does, instead of training on their hidden colour', async () => {
    // Left half visible blue, right half fully transparent over red.
    const [w, h] = [8, 4];
    const rgba = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set(i % w < 4 ? [20, 40, 220, 255] : [255, 0, 0, 0], i * 4);
    const file = path.join(dir, 'cut-out.png');
    await sharp(rgba, { raw: { width: w, height: h, channels: 4 } }).png().toFile(file);
    const image = await loadRgbImage(file);
    expect([image.width, image.height, image.data.length]).toEqual([w, h, w * h * 3]);
    for (let i = 0; i < w * h; i++) expect(Array.from(image.data.subarray(i * 3, i * 3 + 3)), `pixel ${i}`).toEqual([20, 40, 220]);
  });
});

describe('holdOut', () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `p${String(i).padStart(2, '0')}.jpg`);
  const id = (name: string) => name;

  it('without a kept split is the seeded split, with the names of each side', () => {
    const split = holdOut(names(10), id, 0.2, new Rng(1));
    const plain = splitHoldOut(names(10), 0.2, new Rng(1));
    expect(split).toEqual({ ...plain, valNames: plain.val, trainNames: plain.train, changes: [] });
  });

  it('with the data unchanged, is the same split in the same order (a resume draws the same crops)', () => {
    const first = holdOut(names(10), id, 0.2, new Rng(1));
    const again = holdOut(names(10), id, 0.2, new Rng(1), { heldOut: first.valNames, trained: first.trainNames });
    expect(again).toEqual(first);
  });

  it('keeps the held-out photos when photos are added: new ones train, none trained on moves into validation', () => {
    const first = holdOut(names(10), id, 0.2, new Rng(1));
    const grown = names(30);
    const fresh = holdOut(grown, id, 0.2, new Rng(1));
    // A fresh split of the grown folder would move photos trained on into validation...
    expect(fresh.valNames.some((name) => first.trainNames.includes(name))).toBe(true);
    // ...the kept one does not.
    const kept = holdOut(grown, id, 0.2, new Rng(1), { heldOut: first.valNames, trained: first.trainNames });
    expect(kept.valNames.sort()).toEqual([...first.valNames].sort());
    expect(kept.trainNames.sort()).toEqual(grown.filter((name) => !first.valNames.includes(name)).sort());
    expect(kept.changes).toEqual(['20 photos new since the run started: they train (p10.jpg, p11.jpg, p12.jpg, p13.jpg, p14.jpg and 15 more)']);
    // Known from held-out.txt alone (an older checkpoint): the same roles, nothing to call new.
    const fromList = holdOut(grown, id, 0.2, new Rng(1), { heldOut: first.valNames });
    expect(fromList.valNames.sort()).toEqual([...first.valNames].sort());
    expect(fromList.changes).toEqual([]);
  });

  it('reports photos that are gone, and validates on a training photo (saying so) when no held-out photo is left', () => {
    const first = holdOut(names(10), id, 0.2, new Rng(1));
    const left = names(10).filter((name) => !first.valNames.includes(name) && name !== first.trainNames[0]);
    const kept = holdOut(left, id, 0.2, new Rng(1), { heldOut: first.valNames, trained: first.trainNames });
    expect(kept.valFromTraining).toBe(true);
    expect(kept.valNames).toEqual([kept.trainNames[0]]);
    expect(kept.changes).toEqual([
      `1 photo trained on before are no longer in the data (${first.trainNames[0]})`,
      `2 photos of the 2 held out are no longer in the data (${[...first.valNames].sort().join(', ')})`,
    ]);
    // A run that held out nothing (--val-fraction 0 or one photo) still holds out nothing.
    const none = holdOut(names(10), id, 0.2, new Rng(1), { heldOut: [], trained: ['p00.jpg'] });
    expect([none.valFromTraining, none.trainNames.length]).toEqual([true, 10]);
    expect(none.changes.at(-1)).toBe('the run held out no photos when it started (too few, or --val-fraction 0), so it still holds out none');
  });
});
