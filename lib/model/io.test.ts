import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaceDirectory } from './io';

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
