import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_EXTENSIONS } from '@/lib/image/formats';
import { DataError, listImageFiles } from './images';

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
});
