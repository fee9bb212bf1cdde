/**
 * The one place that chooses and initialises a TensorFlow.js backend.
 *
 * Order: native `tensorflow` (tfjs-node-gpu, then tfjs-node, when the user installed one) -> `wasm`
 * (with our training kernels registered) -> `cpu`. `TF_BACKEND=tensorflow|wasm|cpu` overrides.
 * wasm runs multi-threaded on every logical core (up to 8; `TF_WASM_THREADS=N` overrides, 1 = the
 * single-threaded build), falling back to one thread if the threaded build cannot start.
 * Everything else imports ops from `@tensorflow/tfjs-core` and calls {@link initBackend} first.
 * The choice's inputs (names, TF_BACKEND, installed native packages) are in `backend-choice.ts`,
 * which loads no tfjs.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './kernels';
import { NATIVE_PACKAGES, requestedBackend, type BackendInfo, type BackendName } from './backend-choice';
import { wasmThreadsWanted, withNodeWasmThreads } from './wasm-threads';

export { BACKEND_NAMES, type BackendInfo, type BackendName } from './backend-choice';

// Next's dev server re-evaluates modules; kernel registration throws on duplicates, so the state
// lives on globalThis rather than in module scope.
const STATE_KEY = Symbol.for('pix2pix-tfjs.backend');
interface BackendState {
  info?: BackendInfo;
  pending?: Promise<BackendInfo>;
}
function state(): BackendState {
  const holder = globalThis as unknown as Record<symbol, BackendState | undefined>;
  holder[STATE_KEY] ??= {};
  return holder[STATE_KEY];
}

function tryLoadNative(fallbacks: string[]): string | undefined {
  // Resolved from the project root at run time so that bundlers do not try to follow it.
  const requireFromRoot = createRequire(path.join(process.cwd(), 'package.json'));
  for (const pkg of NATIVE_PACKAGES) {
    try {
      requireFromRoot(pkg);
      if (tf.findBackend('tensorflow')) return pkg;
    } catch (error) {
      fallbacks.push(`${pkg}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return undefined;
}

/** Keeps the listeners the wasm glue installs from turning any stray rejection into a crash. */
async function withoutNewProcessListeners<T>(fn: () => Promise<T>): Promise<T> {
  const events = ['unhandledRejection', 'uncaughtException'];
  const listeners = (event: string) => process.listeners(event as 'exit') as ((...args: unknown[]) => void)[];
  const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
  try {
    return await fn();
  } finally {
    for (const event of events) {
      for (const listener of listeners(event)) {
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
      }
    }
  }
}

function wasmDistDir(): string {
  const requireFromRoot = createRequire(path.join(process.cwd(), 'package.json'));
  return path.dirname(requireFromRoot.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
}

async function initWasm(threads: number, fallbacks: string[]): Promise<boolean> {
  registerWasmTrainingKernels();
  try {
    setWasmPaths(wasmDistDir() + path.sep);
  } catch {
    // The glue's own lookup next to its JS file is the fallback.
  }
  if (threads > 1) {
    try {
      if (await withoutNewProcessListeners(() => withNodeWasmThreads(threads, () => tf.setBackend('wasm')))) return true;
      fallbacks.push(`wasm with ${threads} threads: backend failed to initialise`);
    } catch (error) {
      fallbacks.push(`wasm with ${threads} threads: ${(error as Error).message}`);
    }
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setThreadsCount(1);
  }
  return withoutNewProcessListeners(() => tf.setBackend('wasm'));
}

async function initialise(preferred?: BackendName): Promise<BackendInfo> {
  const requested = requestedBackend(preferred);
  const wasmThreads = wasmThreadsWanted();
  const fallbacks: string[] = [];
  const order: BackendName[] = requested ? [requested] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    if (name === 'tensorflow') {
      const pkg = tryLoadNative(fallbacks);
      if (pkg && (await tf.setBackend('tensorflow'))) {
        await tf.ready();
        return { name, nativePackage: pkg, fallbacks };
      }
      continue;
    }
    if (name === 'wasm') {
      if (await initWasm(wasmThreads, fallbacks).catch((e: Error) => (fallbacks.push(`wasm: ${e.message}`), false))) {
        await tf.ready();
        return {
          name,
          simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
          threads: getThreadsCount(),
          fallbacks,
        };
      }
      fallbacks.push('wasm: backend failed to initialise');
      continue;
    }
    if (await tf.setBackend('cpu')) {
      await tf.ready();
      return { name: 'cpu', fallbacks };
    }
  }
  throw new Error(
    `TensorFlow.js backend "${requested ?? 'any'}" is not available here (${fallbacks.join('; ') || 'no details'}).` +
      (requested === 'tensorflow'
        ? ' Install @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1).'
        : ''),
  );
}

/**
 * Chooses and initialises the backend once per process; later calls return the same info.
 * A different `preferred` after initialisation switches backend (used by benchmarks and tests).
 */
export async function initBackend(preferred?: BackendName): Promise<BackendInfo> {
  const s = state();
  if (s.info && (!preferred || preferred === s.info.name)) return s.info;
  if (s.pending && !preferred) return s.pending;
  s.pending = initialise(preferred);
  try {
    s.info = await s.pending;
    return s.info;
  } finally {
    s.pending = undefined;
  }
}

/** The backend chosen by {@link initBackend}, or undefined before it ran. */
export function currentBackend(): BackendInfo | undefined {
  return state().info;
}

/** One line for logs: `backend: wasm (simd, 1 thread)`. */
export function describeBackend(info: BackendInfo): string {
  if (info.name === 'tensorflow') return `backend: tensorflow (${info.nativePackage})`;
  if (info.name === 'wasm') {
    const threads = info.threads ?? 1;
    const threadProblem = info.fallbacks.find((reason) => reason.startsWith('wasm with '));
    return (
      `backend: wasm (${info.simd ? 'simd' : 'no simd'}, ${threads} thread${threads === 1 ? '' : 's'})` +
      (threadProblem ? `; multi-threading failed: ${threadProblem}` : '')
    );
  }
  return 'backend: cpu (pure JavaScript; slow: install @tensorflow/tfjs-node or use wasm)';
}
