/**
 * Multi-threaded wasm under Node. tfjs-backend-wasm 4.22 ships a threaded SIMD build (XNNPACK on a
 * pthread pool of Web Workers) but never uses it in Node (tensorflow/tfjs#3830): its feature flag says
 * "no threads" for Node, the pthread workers would be started from `blob:` URLs that Node's
 * `worker_threads` cannot load, and the thread count is capped at half of `os.cpus()` (2 cores -> 1).
 *
 * {@link withNodeWasmThreads} works around all three for the duration of one `tf.setBackend('wasm')`:
 * it sets the flag, writes the two scripts the glue would put in blobs to files (content-addressed
 * in the OS temp folder) and hands their paths out instead, and reports enough cores for the cap.
 * Everything is restored afterwards. Only {@link ./backend} calls it.
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/** The glue pre-creates this many pthread workers; XNNPACK's pool never uses more. */
export const MAX_WASM_THREADS = 8;

/**
 * Threads for the wasm backend: `TF_WASM_THREADS` (1-8) when set, else every logical core up to 8.
 * 1 selects the single-threaded build.
 */
export function wasmThreadsWanted(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env.TF_WASM_THREADS?.trim();
  if (raw) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
      throw new Error(`TF_WASM_THREADS must be a whole number from 1 to ${MAX_WASM_THREADS}; got "${env.TF_WASM_THREADS}"`);
    }
    return n;
  }
  return Math.max(1, Math.min(MAX_WASM_THREADS, os.availableParallelism()));
}

// Markers in tfjs-backend-wasm 4.22's glue; a mismatch means another version, and then we refuse
// (the caller falls back to one thread) rather than guess.
const MAIN_SCRIPT_PREFIX = 'var WasmBackendModuleThreadedSimd';
const WORKER_SCRIPT_MARKER = 'WasmBackendModuleThreadedSimd(Module)';
const WORKER_LOAD_BRANCH = 'if(typeof e.data.urlOrBlob=="string")';
// The Node bundle's factory refers to the modules it was bundled with under these names.
const MAIN_SCRIPT_PRELUDE =
  "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks')," +
  "require$$4=require('os'),commonjsGlobal=globalThis;\n";

/** Writes `text` to a content-addressed file in the temp folder (atomically) and returns its path. */
function materialise(kind: string, text: string): string {
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `pix2pix-tfjs-wasm-${kind}-${hash}.cjs`);
  if (!existsSync(file)) {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, text);
    renameSync(temp, file);
  }
  return file;
}

interface PThreadRegistry {
  runningWorkers: { unref(): void }[];
}

/**
 * Runs `init` (which must call `tf.setBackend('wasm')`) with the threaded build enabled for
 * `threads` threads, then lets the process exit while the pool's threads idle. Throws when the
 * glue does not look as expected or the backend came up with another thread count.
 */
export async function withNodeWasmThreads(threads: number, init: () => Promise<boolean>): Promise<boolean> {
  const OriginalBlob = globalThis.Blob;
  const originalCreateObjectURL = URL.createObjectURL;
  const originalCpus = os.cpus;
  const blobTexts = new WeakMap<Blob, string>();
  let mainScript: string | undefined;
  let problem: string | undefined;

  class RecordingBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      const first = parts?.[0];
      if (parts?.length === 1 && typeof first === 'string') {
        blobTexts.set(this, first);
        if (first.startsWith(MAIN_SCRIPT_PREFIX)) mainScript = materialise('main', MAIN_SCRIPT_PRELUDE + first);
      }
    }
  }
  const createObjectURL = (blob: Blob): string => {
    const text = blobTexts.get(blob);
    if (text === undefined || !text.includes(WORKER_SCRIPT_MARKER)) return originalCreateObjectURL(blob);
    if (!mainScript || !text.includes(WORKER_LOAD_BRANCH)) {
      problem = 'unexpected tfjs-backend-wasm glue (threaded worker script)';
      return originalCreateObjectURL(blob);
    }
    // The main thread posts the factory as a Blob, which a Node worker cannot import: load the file.
    return materialise('worker', text.replace(WORKER_LOAD_BRANCH, `e.data.urlOrBlob=${JSON.stringify(mainScript)};${WORKER_LOAD_BRANCH}`));
  };

  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  globalThis.Blob = RecordingBlob;
  URL.createObjectURL = createObjectURL;
  // The glue caps threads at half the logical cores it sees (assuming hyper-threading).
  os.cpus = () => Array.from({ length: 2 * threads }, () => originalCpus()[0]!);
  let ok = false;
  try {
    ok = await init();
  } finally {
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreateObjectURL;
    os.cpus = originalCpus;
  }
  if (problem) throw new Error(problem);
  if (!ok) return false;
  const registry = (tf.backend() as unknown as { wasm?: { PThread?: PThreadRegistry } }).wasm?.PThread;
  // Pool threads stay referenced while they wait for work, which would keep every script alive.
  for (const worker of registry?.runningWorkers ?? []) worker.unref();
  return true;
}
