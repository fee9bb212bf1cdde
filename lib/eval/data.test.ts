import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, listImages } from './data';

const root = mkdtempSync(path.join(os.tmpdir(), 'eval-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('listImages', () => {
  it('lists image files by name, skipping other files and folders, up to the limit', async () => {
    const dir = path.join(root, 'set');
    mkdirSync(path.join(dir, 'nested.png'), { recursive: true });
    for (const name of ['b.png', 'a.JPG', 'c.webp', 'notes.txt', 'MANIFEST.tsv']) writeFileSync(path.join(dir, name), '');
    expect((await listImages(dir)).map((f) => path.basename(f))).toEqual(['a.JPG', 'b.png', 'c.webp']);
    expect((await listImages(dir, 2)).map((f) => path.basename(f))).toEqual(['a.JPG', 'b.png']);
  });

  it('lists the formats sharp decodes, as the CLIs do: no .bmp, .heic only when this sharp reads it', async () => {
    const dir = path.join(root, 'formats');
    mkdirSync(dir);
    for (const name of ['a.bmp', 'b.heic', 'c.tif', 'd.jfif', 'e.avif']) writeFileSync(path.join(dir, name), '');
    const heic = (sharp.format.heif.input.fileSuffix ?? []).includes('.heic');
    expect((await listImages(dir)).map((f) => path.basename(f))).toEqual(heic ? ['b.heic', 'c.tif', 'd.jfif', 'e.avif'] : ['c.tif', 'd.jfif', 'e.avif']);
  });

  it('follows symbolic links to files, not to folders or nowhere', async () => {
    const dir = path.join(root, 'linked');
    mkdirSync(path.join(dir, 'real-folder.png'), { recursive: true });
    writeFileSync(path.join(root, 'photo.jpg'), '');
    symlinkSync(path.join(root, 'photo.jpg'), path.join(dir, 'link.jpg'));
    symlinkSync(path.join(dir, 'real-folder.png'), path.join(dir, 'folder-link.png'));
    symlinkSync(path.join(root, 'gone.jpg'), path.join(dir, 'dangling.jpg'));
    expect((await listImages(dir)).map((f) => path.basename(f))).toEqual(['link.jpg']);
  });

  it('skips hidden files (macOS ._ resource forks) as the CLIs and training do', async () => {
    const dir = path.join(root, 'hidden');
    mkdirSync(dir);
    for (const name of ['a.png', '.hidden.png', '._a.png', '._b.jpg']) writeFileSync(path.join(dir, name), '');
    expect((await listImages(dir)).map((f) => path.basename(f))).toEqual(['a.png']);
  });

  it('never takes a FIFO named like an image (opening it would block the run for good)', async () => {
    const dir = path.join(root, 'fifo');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.png'), '');
    execFileSync('mkfifo', [path.join(dir, 'p.png')]);
    symlinkSync(path.join(dir, 'p.png'), path.join(dir, 'q.png'));
    expect((await listImages(dir)).map((f) => path.basename(f))).toEqual(['a.png']);
  });

  it('says clearly when the folder is missing, a file, or has no images', async () => {
    await expect(listImages(path.join(root, 'missing'))).rejects.toThrow(DataError);
    await expect(listImages(path.join(root, 'missing'))).rejects.toThrow(/not found/);
    const file = path.join(root, 'file.png');
    writeFileSync(file, '');
    await expect(listImages(file)).rejects.toThrow(/must be a folder/);
    const empty = path.join(root, 'empty');
    mkdirSync(empty);
    writeFileSync(path.join(empty, 'readme.md'), '');
    await expect(listImages(empty)).rejects.toThrow(/No images in/);
  });
});
