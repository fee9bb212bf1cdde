/**
 * Creating folders the user named (`--out`, `--runs-dir`, `--models-dir`) without hanging on paths
 * Node's recursive mkdir cannot handle.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p` one level at a time, from the nearest folder that exists. Node 20's own
 * `mkdir(dir, { recursive: true })` never settles for a path under /proc (it loops on what procfs
 * answers, at full CPU, deaf to SIGTERM), which hung `--out /proc/x` and `--runs-dir /proc/x` for
 * good; a plain mkdir fails at once with the system's reason.
 *
 * @throws the first mkdir's error other than EEXIST (ENOENT, EACCES, ENOTDIR...).
 */
export async function makeFolders(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    if (await fs.stat(p).then(() => true, () => false)) break;
    missing.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing) {
    // Another process may create it in between: that is fine.
    await fs.mkdir(p).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}
