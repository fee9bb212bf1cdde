/**
 * Which image files are taken from folders, by extension: one list for the colorize/upscale CLIs,
 * `npm run eval` and training data, so that none picks up files the decoder then fails on.
 */
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** Photo formats we take from folders when the installed sharp can decode them from a file. */
const CANDIDATE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.jfif', '.webp', '.tif', '.tiff', '.gif', '.avif', '.heic', '.heif', '.bmp'];

/** What `sharp.format` says about each loader (only the parts read here). */
export type SharpFormats = Readonly<Record<string, { input?: { file?: boolean; fileSuffix?: readonly string[] } }>>;

/**
 * The candidates whose file suffix one of sharp's loaders claims. sharp's prebuilt binaries read
 * AVIF but not HEIC (no HEVC decoder; a build against a system libvips with one lists `.heic`)
 * and no build reads BMP, so those are left out rather than picked up and then failed.
 */
export function decodableExtensions(formats: SharpFormats = { ...sharp.format }): string[] {
  const readable = new Set(
    Object.values(formats).flatMap((f) => (f.input?.file ? (f.input.fileSuffix ?? []) : [])).map((s) => s.toLowerCase()),
  );
  return CANDIDATE_EXTENSIONS.filter((ext) => readable.has(ext));
}

/**
 * Extensions picked up from folders by the colorize/upscale CLIs, `npm run eval` and `npm run train`
 * (files named explicitly to the CLIs are taken whatever their name): those this sharp build decodes.
 */
export const IMAGE_EXTENSIONS: readonly string[] = decodableExtensions();

/** Whether `name` has one of {@link IMAGE_EXTENSIONS} (case-insensitive). */
export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** The folder formats for help texts: `png, jpg, jpeg, ...` (without dots). */
export function describeImageExtensions(): string {
  return IMAGE_EXTENSIONS.map((ext) => ext.slice(1)).join(', ');
}

/**
 * Whether the folder entry `entry` of `dir` is taken as an image when a folder is read (the CLIs,
 * training data, `npm run eval`): not hidden (`.git`, macOS's `._photo.jpg`), an image extension
 * ({@link isImageFileName}), and a regular file or a symbolic link to one.
 *
 * A FIFO, socket or device named `x.png` is refused: opening a FIFO blocks until a writer comes,
 * on a libuv thread that not even SIGTERM gets back, so the whole run would hang.
 */
export async function isImageEntry(dir: string, entry: Dirent): Promise<boolean> {
  if (entry.name.startsWith('.') || !isImageFileName(entry.name)) return false;
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  // A link counts by what it leads to; a dangling one leads nowhere.
  return fs.stat(path.join(dir, entry.name)).then(
    (stat) => stat.isFile(),
    () => false,
  );
}
