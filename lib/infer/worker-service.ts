/**
 * The inference service run in a worker thread, behind the same {@link LoadedInferenceService}
 * interface: on wasm and cpu a model's run is synchronous work of a second or more, which on the
 * server's own thread held up every page, poll and health check for as long. The worker owns the
 * backend and the models; this side only posts encoded images and gets PNGs, progress and errors
 * back. Cancelling posts an abort: the worker stops between tiles, as the in-process service does.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { InferenceServiceOptions, LoadedInferenceService } from './service';
import { abortError } from './run';
import { defaultModelOf, type InferenceResult, type InferOptions, type Limits, type ModelSummary, type Progress } from './types';
import { deserializeError, type FromWorker, type ToWorker, type WorkerRunRequest, type WorkerStartData } from './worker-protocol';

const ENTRY = path.join('lib', 'infer', 'worker-entry.mjs');

/**
 * The worker's entry file, found from the working directory or else from the running script
 * (`node_modules/next/dist/bin/next` inside the project, for `next start <project>` run from
 * elsewhere): in the app's bundle this module's own location is somewhere in `.next/`.
 */
export function defaultWorkerEntry(): string {
  const script = process.argv[1];
  const starts = [process.cwd(), ...(script ? [path.dirname(realpathOr(script))] : [])];
  for (const start of starts) {
    for (let dir = path.resolve(/*turbopackIgnore: true*/ start); ; dir = path.dirname(dir)) {
      const entry = path.join(/*turbopackIgnore: true*/ dir, ENTRY);
      if (existsSync(/*turbopackIgnore: true*/ entry)) return entry;
      if (path.dirname(dir) === dir) break;
    }
  }
  // Not found: starting it fails with a WorkerStartError naming this path.
  return path.join(/*turbopackIgnore: true*/ process.cwd(), ENTRY);
}

function realpathOr(file: string): string {
  try {
    return realpathSync(/*turbopackIgnore: true*/ file);
  } catch {
    return file;
  }
}

export interface WorkerServiceOptions extends InferenceServiceOptions {
  /** The entry file to start (tests); default {@link defaultWorkerEntry}. */
  workerEntry?: string;
}

/**
 * The worker's own code could not be loaded (a missing entry file, no tsx): running the models in
 * the server's thread instead may work. A worker that started and then failed or crashed while
 * loading the models is a plain error: the same models would fail in any thread.
 */
export class WorkerStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WorkerStartError';
  }
}

interface PendingRun {
  resolve: (result: InferenceResult) => void;
  reject: (error: Error) => void;
  onProgress?: (progress: Progress) => void;
  cleanup: () => void;
}

type Ready = FromWorker & { type: 'ready' };

/** One started worker and its runs in flight. */
class WorkerHandle {
  readonly worker: Worker;
  /** Resolves when the worker's models are loaded and warmed. */
  readonly ready: Promise<Ready>;
  /** Set once the worker has stopped: its runs then fail at once (the service starts a new worker). */
  stopped?: Error;
  private readonly pending = new Map<number, PendingRun>();
  private nextId = 1;
  private rejectReady: (error: Error) => void = () => undefined;
  /** Set by the worker's first message: its modules loaded. */
  private started = false;

  constructor(entry: string, options: InferenceServiceOptions) {
    const data: WorkerStartData = { options };
    let resolveReady: (ready: Ready) => void = () => undefined;
    this.ready = new Promise<Ready>((resolve, reject) => {
      resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    // Referenced until ready (a caller awaiting the start must not see its process exit under it);
    // after that an idle worker must not keep a CLI or a test process alive, while a run in flight does.
    this.worker = new Worker(entry, { workerData: data });
    this.worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'started':
          this.started = true;
          return;
        case 'ready':
          if (this.pending.size === 0) this.worker.unref();
          resolveReady(message);
          return;
        case 'failed':
          this.rejectReady(deserializeError(message.error));
          return;
        case 'progress':
          this.progress(message.id, message.progress);
          return;
        case 'done': {
          const { png, ...rest } = message.result;
          this.settle(message.id, (run) => run.resolve({ ...rest, png: Buffer.from(png.buffer, png.byteOffset, png.byteLength) }));
          return;
        }
        case 'error':
          this.settle(message.id, (run) => run.reject(deserializeError(message.error)));
          return;
      }
    });
    // 'error' is an exception the worker did not catch; 'exit' follows it, and ends a terminated worker.
    this.worker.on('error', (error) => this.stop(error));
    this.worker.on('exit', (code) => this.stop(new Error(`The inference worker stopped (exit code ${code}).`)));
  }

  private stop(error: Error): void {
    if (this.stopped) return;
    this.stopped = error;
    // A no-op once ready.
    this.rejectReady(
      this.started
        ? new Error(`The inference worker stopped while loading the models: ${error.message}`, { cause: error })
        : new WorkerStartError(`The inference worker did not start: ${error.message}`, { cause: error }),
    );
    for (const id of [...this.pending.keys()]) this.settle(id, (run) => run.reject(error));
  }

  private progress(id: number, progress: Progress): void {
    const run = this.pending.get(id);
    if (!run?.onProgress) return;
    try {
      run.onProgress(progress);
    } catch (error) {
      console.warn('[infer] progress callback threw:', error);
    }
  }

  private settle(id: number, how: (run: PendingRun) => void): void {
    const run = this.pending.get(id);
    if (!run) return;
    this.pending.delete(id);
    run.cleanup();
    if (this.pending.size === 0) this.worker.unref();
    how(run);
  }

  run(request: WorkerRunRequest, input: Buffer, signal?: AbortSignal, onProgress?: (progress: Progress) => void): Promise<InferenceResult> {
    if (this.stopped) return Promise.reject(this.stopped);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const id = this.nextId++;
    return new Promise<InferenceResult>((resolve, reject) => {
      // The worker answers an abort with an AbortError once it stops between tiles; until then the
      // run still holds the worker, so the promise waits for that answer, as in-process runs do.
      const onAbort = () => this.post({ type: 'abort', id });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { resolve, reject, onProgress, cleanup: () => signal?.removeEventListener('abort', onAbort) });
      this.worker.ref();
      // A copy to transfer: the caller keeps its Buffer (transferring detaches the memory).
      const bytes = new Uint8Array(input);
      this.post({ type: 'run', id, input: bytes, ...request }, [bytes.buffer]);
    });
  }

  private post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (!this.stopped) this.worker.postMessage(message, transfer);
  }
}

/**
 * Starts the worker, waits until its models are loaded and warmed, and returns the service.
 * A worker that stops (a crash, an out-of-memory) fails its runs in flight; the next call starts a
 * new one, which loads the models folder again. The service's `models`, `problems` and
 * `backendDetails` stay what the first worker reported: like the in-thread service, which reads the
 * folder once, it takes a restart of the server to see a changed folder. `dispose()` ends the worker.
 *
 * @throws what loading the models threw in the worker (as `createInferenceService` would), or
 *   {@link WorkerStartError} when the worker itself could not start.
 */
export async function createWorkerInferenceService(options: WorkerServiceOptions = {}): Promise<LoadedInferenceService> {
  const { workerEntry = defaultWorkerEntry(), ...serviceOptions } = options;
  let handle = new WorkerHandle(workerEntry, serviceOptions);
  const ready = await handle.ready.catch(async (error: unknown) => {
    await handle.worker.terminate();
    throw error;
  });
  let disposed = false;

  async function current(): Promise<WorkerHandle> {
    if (disposed) throw new Error('The inference service was disposed.');
    if (handle.stopped) {
      console.error(`[infer] ${handle.stopped.message} Starting a new one.`);
      handle = new WorkerHandle(workerEntry, serviceOptions);
    }
    try {
      await handle.ready;
    } catch (error) {
      // Ended, so that the next call starts a fresh worker rather than failing the same way for good.
      void handle.worker.terminate();
      throw error;
    }
    return handle;
  }

  const models: readonly ModelSummary[] = ready.models;
  return {
    backend: ready.backend,
    models,
    source: ready.source,
    problems: ready.problems,
    inWorker: true,
    backendDetails: ready.backendDetails,

    async colorize(input: Buffer, opts: InferOptions & Limits & { model?: string; colourStrength?: number } = {}): Promise<InferenceResult> {
      const { signal, onProgress, ...options } = opts;
      return (await current()).run({ op: 'colorize', options }, input, signal, onProgress);
    },

    async upscale(input: Buffer, opts: InferOptions & Limits & { scale: 2 | 4; model?: string; ensemble?: boolean }): Promise<InferenceResult> {
      const { signal, onProgress, ...options } = opts;
      return (await current()).run({ op: 'upscale', options }, input, signal, onProgress);
    },

    async translate(input: Buffer, opts: InferOptions & Limits & { model?: string } = {}): Promise<InferenceResult> {
      const { signal, onProgress, ...options } = opts;
      return (await current()).run({ op: 'translate', options }, input, signal, onProgress);
    },

    dispose() {
      disposed = true;
      void handle.worker.terminate();
    },

    defaultModel(task: ModelSummary['task'], scale?: number): ModelSummary | undefined {
      return defaultModelOf(models, task, scale);
    },
  };
}
