import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_EXTENSIONS } from '@/lib/image/formats';
import { lockFolders, makeSpecialEntries } from '@/lib/cli/test-fs';
import { DataError, listImageFiles, loadImageFolder } from './images';

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
