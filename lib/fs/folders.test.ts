import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFolders } from './folders';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'folders-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('makeFolders', () => {
  it('creates every missing level and accepts folders that exist', async () => {
    const deep = path.join(dir, 'a', 'b', 'c');
    await makeFolders(deep);
    expect((await fs.stat(deep)).isDirectory()).toBe(true);
    await makeFolders(deep);
    await makeFolders(dir);
  });

  it('fails with the system reason through a file (ENOTDIR / EEXIST is not success)', async () => {
    const file = path.join(dir, 'file');
    await fs.writeFile(file, 'x');
    await expect(makeFolders(path.join(file, 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it.skipIf(process.platform !== 'linux')('fails at once under /proc, where a recursive mkdir never settles', async () => {
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5000).unref());
    const outcome = await Promise.race([makeFolders('/proc/pix2pix-test/sub').then(() => 'created', (error: NodeJS.ErrnoException) => error.code), timeout]);
    expect(outcome).toBe('ENOENT');
  });
});
