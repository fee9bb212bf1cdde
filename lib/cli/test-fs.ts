/**
 * File-system fixtures shared by the tests of the folder walkers (the CLIs' and training's).
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { vi } from 'vitest';

/**
 * Makes `fs.readdir` fail on `folders` as it does on chmod-000 folders for anyone but root: the
 * tests run as root, which reads any folder, so the refusal is put in its place.
 */
export function lockFolders(...folders: string[]) {
  const readdir = fs.readdir.bind(fs);
  return vi.spyOn(fs, 'readdir').mockImplementation(((p: string, options: never) => {
    const folder = path.resolve(String(p));
    return folders.includes(folder)
      ? Promise.reject(Object.assign(new Error(`EACCES: permission denied, scandir '${folder}'`), { code: 'EACCES', syscall: 'scandir', path: folder }))
      : readdir(p, options);
  }) as typeof fs.readdir);
}

/**
 * Makes `<dir>/special` with one image-named entry of each kind: `a.png` (a file), `link.jpg` (a
 * link to a file outside), `p.png` (a FIFO: opening it blocks until a writer comes, so a walker
 * that took it hung for good), `folder.png` (a folder), `folder-link.png` (a link to it) and
 * `dangling.png` (a link to nothing). Only the first two are images.
 *
 * @returns the `special` folder.
 */
export async function makeSpecialEntries(dir: string): Promise<string> {
  const root = path.join(dir, 'special');
  await fs.mkdir(path.join(root, 'folder.png'), { recursive: true });
  await fs.writeFile(path.join(root, 'a.png'), 'x');
  await fs.writeFile(path.join(dir, 'elsewhere.jpg'), 'x');
  execFileSync('mkfifo', [path.join(root, 'p.png')]);
  await fs.symlink(path.join(dir, 'elsewhere.jpg'), path.join(root, 'link.jpg'));
  await fs.symlink(path.join(root, 'folder.png'), path.join(root, 'folder-link.png'));
  await fs.symlink(path.join(dir, 'gone.png'), path.join(root, 'dangling.png'));
  return root;
}
