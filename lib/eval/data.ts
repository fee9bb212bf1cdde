/** The evaluation's data folders: every decodable image file directly inside, in name order. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { IMAGE_EXTENSIONS, isImageEntry } from '@/lib/image/formats';

/** A problem with the user's data folder (reported as a usage error, not a crash). */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/**
 * Image files directly in `dir` (by extension, case-insensitive, the decodable ones of
 * {@link IMAGE_EXTENSIONS}; regular files and links to them, not hidden: {@link isImageEntry}, as
 * the CLIs and training take them), sorted by name, at most `limit`.
 * @throws DataError when `dir` is missing, not a folder, or holds no images.
 */
export async function listImages(dir: string, limit?: number): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`Data folder not found: ${dir}`);
    if (code === 'ENOTDIR') throw new DataError(`--data must be a folder of images; ${dir} is a file`);
    throw new DataError(`Cannot read data folder ${dir}: ${(error as Error).message}`);
  }
  // Symbolic links count when they lead to a file (a held-out split linked from the photo folder);
  // hidden files (macOS's ._photo.jpg) and FIFOs or devices named like images do not.
  const kept = await Promise.all(entries.map((e) => isImageEntry(dir, e)));
  const files = entries
    .filter((_, i) => kept[i])
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => path.join(dir, name));
  if (files.length === 0) {
    throw new DataError(`No images in ${dir} (looked for ${IMAGE_EXTENSIONS.join(' ')})`);
  }
  return limit === undefined ? files : files.slice(0, limit);
}
