/**
 * The loop the colorize and upscale CLIs share: every input file through one inference call, the
 * result written as `<out>/<stem>.png`, a failure reported and the rest still processed.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError, type InferenceResult, type InferOptions } from '@/lib/infer/types';
import { outputPaths } from './files';
import { ProgressBar } from './progress';

export interface BatchOptions {
  files: readonly string[];
  outDir: string;
  /** One inference call (e.g. `(bytes, o) => service.upscale(bytes, { ...o, scale })`). */
  run: (bytes: Buffer, options: InferOptions) => Promise<InferenceResult>;
  /**
   * Stops after the current tile (or step); the batch then prints its summary (with how many files were not
   * processed) and rejects with the AbortError.
   */
  signal?: AbortSignal;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Failures found before the batch (e.g. missing paths): already reported, counted in the summary. */
  failedBefore?: readonly { file: string; message: string }[];
  /**
   * What the progress of one file counts (default `tiles`): translating counts `steps`, since a
   * thumbnail run precedes the windows of a large image (as the app says, `lib/ui/progress.ts`).
   */
  unit?: 'tiles' | 'steps';
}

export interface BatchResult {
  succeeded: { file: string; output: string; result: InferenceResult }[];
  failed: { file: string; message: string }[];
}

function describeFailure(error: unknown): string {
  if (error instanceof InputError) return error.message;
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'file not found';
  if (e?.code === 'EACCES') return 'permission denied';
  if (e?.code === 'EISDIR') return 'is a folder';
  return e?.message ?? String(error);
}

/** Relative to the working directory when inside it, else absolute. */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/**
 * Writes `data` to a temporary file beside `file`, then renames it over `file`: a reader never sees
 * a half-written result. On failure the temporary file is removed and the error names `file`.
 */
async function writeAtomically(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new Error(`cannot write ${displayPath(file)}: ${describeFailure(error)}`, { cause: error });
  }
}

/** `dev:ino` of a file (symlinks followed), or undefined when it cannot be stat'ed. */
async function fileIdentity(file: string): Promise<string | undefined> {
  try {
    const stat = await fs.stat(file);
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}

/** `3 of 5 done, 1 failed, 1 not processed` (the parts after "done" only when not zero). */
function summarize(result: BatchResult, attempted: number, notProcessed: number): string {
  return (
    `${result.succeeded.length} of ${attempted} done` +
    (result.failed.length ? `, ${result.failed.length} failed` : '') +
    (notProcessed ? `, ${notProcessed} not processed` : '')
  );
}

/**
 * Processes `files` in order with a progress bar (files done/total, tiles of the current file).
 * Per-file problems (unreadable, not an image, too large, a write error) are logged and collected;
 * an AbortError stops the batch, prints the summary so far and rejects.
 */
export async function processImages(options: BatchOptions): Promise<BatchResult> {
  const { files, outDir } = options;
  await fs.mkdir(outDir, { recursive: true });
  const outputs = outputPaths(files, outDir);
  const attempted = files.length + (options.failedBefore?.length ?? 0);
  const bar = new ProgressBar({ unit: 'files', total: files.length, stream: options.stream });
  const result: BatchResult = { succeeded: [], failed: [...(options.failedBefore ?? [])] };
  // Inputs by path and by identity: an --out reached through a symlink (or a hard link) to an
  // input's folder names the same file under another path.
  const inputs = new Set(files.map((f) => path.resolve(f)));
  const inputIds = new Set((await Promise.all(files.map(fileIdentity))).filter((id) => id !== undefined));
  const overwritesInput = async (output: string) =>
    inputs.has(path.resolve(output)) || inputIds.has((await fileIdentity(output)) ?? '');

  for (const [index, file] of files.entries()) {
    const name = path.basename(file);
    const output = outputs.get(file)!;
    bar.update(index, 0, name);
    try {
      if (await overwritesInput(output)) throw new Error(`the output ${output} would overwrite an input; choose another --out`);
      const bytes = await fs.readFile(file);
      const inference = await options.run(bytes, {
        signal: options.signal,
        onProgress: (p) => bar.update(index, p.total > 0 ? p.done / p.total : 0, `${name} ${options.unit ?? 'tiles'} ${p.done}/${p.total}`),
      });
      await writeAtomically(output, inference.png);
      result.succeeded.push({ file, output, result: inference });
      bar.log(
        `ok    ${name} -> ${displayPath(output)} ` +
          `(${inference.inputWidth}x${inference.inputHeight} -> ${inference.width}x${inference.height}, ${(inference.ms / 1000).toFixed(1)} s)`,
      );
    } catch (error) {
      if ((error as Error)?.name === 'AbortError') {
        // The summary is what tells a user which results to trust after Ctrl-C; the interrupted
        // file counts as not processed (its result was never written).
        bar.finish(summarize(result, attempted, files.length - index));
        throw error;
      }
      const message = describeFailure(error);
      result.failed.push({ file, message });
      bar.log(`FAIL  ${name}: ${message}`);
    }
    bar.update(index + 1);
  }
  bar.finish(summarize(result, attempted, 0));
  return result;
}
