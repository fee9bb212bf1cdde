/**
 * Turning command-line paths into image files and output names.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isImageEntry } from '@/lib/image/formats';

export interface CollectedFiles {
  /** Absolute paths, in argument order; a folder's images in name order; no duplicates. */
  files: string[];
  /** Paths that could not be used (missing, unreadable folder or sub-folder, a folder without images). */
  problems: { path: string; message: string }[];
}

export interface CollectOptions {
  /** Also take the images in sub-folders. */
  recursive?: boolean;
  /**
   * Sub-folders not to descend into (the output folder, so that a second run of
   * `--recursive photos --out photos/big` does not take the first run's results as inputs).
   * A folder named as an input itself is still taken.
   */
  skipFolders?: readonly string[];
}

/** The problem message for a folder whose listing failed (the error names the folder's absolute path). */
function unreadableFolder(error: unknown): string {
  return `cannot read the folder: ${(error as Error).message}`;
}

/**
 * Expands files and folders into image files. Folders contribute the images directly inside them
 * (and below, with `recursive`, except `skipFolders`), hidden files and anything but regular files
 * (and links to them) skipped. A path named explicitly is taken whatever it is (`/dev/stdin`).
 * An unreadable sub-folder is one problem under its own path; the rest of the walk goes on.
 */
export async function collectImageFiles(inputs: readonly string[], options: CollectOptions = {}): Promise<CollectedFiles> {
  const files: string[] = [];
  const seen = new Set<string>();
  const problems: CollectedFiles['problems'] = [];
  const skip = new Set((options.skipFolders ?? []).map((f) => path.resolve(f)));
  const add = (file: string) => {
    if (!seen.has(file)) {
      seen.add(file);
      files.push(file);
    }
  };

  // Sub-folders that could not be read: each reported once even when inputs overlap
  // (`photos photos/2019`), and counted per input so that "no images" does not repeat them.
  const unreadable = new Set<string>();
  let unreadableBelow = 0;

  /** Images found in `dir` (absolute; `shown` is how the user wrote it); throws if `dir` itself cannot be read. */
  async function walk(dir: string, shown: string): Promise<number> {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    let found = 0;
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!options.recursive || skip.has(full)) continue;
        const sub = path.join(shown, entry.name);
        try {
          found += await walk(full, sub);
        } catch (error) {
          // Caught here, not per input: one locked sub-folder must not hide the folders after it.
          unreadableBelow++;
          if (!unreadable.has(full)) problems.push({ path: sub, message: unreadableFolder(error) });
          unreadable.add(full);
        }
      } else if (await isImageEntry(dir, entry)) {
        add(full);
        found++;
      }
    }
    return found;
  }

  for (const input of inputs) {
    const full = path.resolve(input);
    let stat: import('node:fs').Stats;
    try {
      stat = await fs.stat(full);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push({ path: input, message: code === 'ENOENT' ? 'no such file or folder' : (error as Error).message });
      continue;
    }
    if (stat.isDirectory()) {
      unreadableBelow = 0;
      try {
        // "No images" would only repeat an unreadable sub-folder's problem.
        if ((await walk(full, input)) === 0 && unreadableBelow === 0) {
          problems.push({ path: input, message: 'no images in this folder' });
        }
      } catch (error) {
        problems.push({ path: input, message: unreadableFolder(error) });
      }
    } else {
      add(full);
    }
  }
  return { files, problems };
}

/**
 * `<outDir>/<stem><extension>` for each file, made unique when two inputs share a stem
 * (`photo.jpg`, `photo.png` -> `photo.png`, `photo-2.png`).
 */
export function outputPaths(files: readonly string[], outDir: string, extension = '.png'): Map<string, string> {
  const taken = new Set<string>();
  const result = new Map<string, string>();
  for (const file of files) {
    const stem = path.basename(file, path.extname(file));
    let candidate = stem;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}`;
    taken.add(candidate.toLowerCase());
    result.set(file, path.join(path.resolve(outDir), candidate + extension));
  }
  return result;
}
