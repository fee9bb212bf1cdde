import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotAModelFolderError, replaceDirectory, writeModelFolder } from './io';

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'model-io-'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function folder(name: string, files: Record<string, string>): Promise<string> {
  const full = path.join(dir, name);
  await fs.mkdir(full, { recursive: true });
  for (const [file, text] of Object.entries(files)) await fs.writeFile(path.join(full, file), text);
  return full;
}

describe('replaceDirectory', () => {
  it('replaces the target whole (no file of the old one stays) and clears the aside folder', async () => {
    const target = await folder('a/target', { 'state.json': 'old', 'extra.txt': 'stale' });
    const ready = await folder('a/ready', { 'state.json': 'new' });
    await replaceDirectory(ready, target, path.join(dir, 'a', 'aside'));
    expect(await fs.readdir(path.join(dir, 'a'))).toEqual(['target']);
    expect(await fs.readdir(target)).toEqual(['state.json']);
    expect(await fs.readFile(path.join(target, 'state.json'), 'utf8')).toBe('new');
  });

  it('after a crash that left only the aside folder, ends with the new folder and no aside', async () => {
    const aside = await folder('b/target.old', { 'state.json': 'survivor' });
    const ready = await folder('b/ready', { 'state.json': 'new' });
    const target = path.join(dir, 'b', 'target');
    await replaceDirectory(ready, target, aside);
    expect(await fs.readdir(path.join(dir, 'b'))).toEqual(['target']);
    expect(await fs.readFile(path.join(target, 'state.json'), 'utf8')).toBe('new');
  });
});

describe('writeModelFolder', () => {
  const write = (folder: string) => fs.writeFile(path.join(folder, 'metadata.json'), '{}');

  it('replaces a model folder or an empty one, and creates a missing one', async () => {
    const models = await fs.mkdtemp(path.join(dir, 'models-'));
    await fs.mkdir(path.join(models, 'old'));
    await fs.writeFile(path.join(models, 'old', 'metadata.json'), '{"old":true}');
    await fs.writeFile(path.join(models, 'old', 'README.md'), 'card of the old weights');
    await fs.mkdir(path.join(models, 'empty'));
    for (const name of ['old', 'empty', 'new']) {
      await writeModelFolder(path.join(models, name), write);
      expect(await fs.readdir(path.join(models, name))).toEqual(['metadata.json']);
    }
  });

  it('refuses, before writing anything, a file or a folder of other files at the model path, and leaves them as they were', async () => {
    const models = await fs.mkdtemp(path.join(dir, 'models-'));
    await fs.mkdir(path.join(models, 'photos'));
    await fs.writeFile(path.join(models, 'photos', 'a.jpg'), 'mine');
    await fs.writeFile(path.join(models, 'notes'), 'mine too');
    let written = 0;
    const counting = async (folder: string) => {
      written++;
      await write(folder);
    };
    await expect(writeModelFolder(path.join(models, 'photos'), counting)).rejects.toThrow(
      new NotAModelFolderError(`${path.join(models, 'photos')} is a folder but not a model (no metadata.json), and writing the model would replace it whole`),
    );
    await expect(writeModelFolder(path.join(models, 'notes'), counting)).rejects.toThrow(NotAModelFolderError);
    expect(written).toBe(0);
    expect(await fs.readFile(path.join(models, 'photos', 'a.jpg'), 'utf8')).toBe('mine');
    expect(await fs.readFile(path.join(models, 'notes'), 'utf8')).toBe('mine too');
    expect((await fs.readdir(models)).sort()).toEqual(['notes', 'photos']);
  });
});
