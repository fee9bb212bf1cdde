import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@/lib/tf/backend';
import { checkInferenceSettings, inferenceInWorker } from './app-service';
import { createInferenceService, type LoadedInferenceService } from './service';
import { nearestSrNet, noisePng as png, randomColorizer, randomPairedUnet, randomSrNet, saveTestModel, testMetadata } from './test-models';
import { InputError, ModelUnavailableError, type InferenceResult, type Progress } from './types';
import { createWorkerInferenceService, defaultWorkerEntry, WorkerStartError } from './worker-service';

let dir: string;
let modelsDir: string;
let inThread: LoadedInferenceService;
let viaWorker: LoadedInferenceService;


async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );
}

/** The longest stretch, in ms, that this thread's timers could not run while `fn` ran. */
async function longestStall(fn: () => Promise<unknown>): Promise<{ stallMs: number; runMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  const start = performance.now();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return { stallMs: Math.max(stallMs, performance.now() - last), runMs: performance.now() - start };
}

beforeAll(async () => {
  await initBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'infer-worker-'));
  modelsDir = path.join(dir, 'models');
  await saveTestModel(randomSrNet(2), path.join(modelsDir, 'sr-x2'), testMetadata({ task: 'sr', scale: 2 }));
  await saveTestModel(nearestSrNet(4), path.join(modelsDir, 'sr-x4'), testMetadata({ task: 'sr', scale: 4 }));
  await saveTestModel(randomColorizer(), path.join(modelsDir, 'colorize'), testMetadata({ task: 'colorize', scale: 1 }));
  await saveTestModel(randomPairedUnet(), path.join(modelsDir, 'facades'), testMetadata({ task: 'paired', scale: 1 }));
  await saveTestModel(randomSrNet(2), path.join(modelsDir, 'broken-meta'), testMetadata({ task: 'sr', scale: 2 }));
  await fs.writeFile(path.join(modelsDir, 'broken-meta', 'metadata.json'), '{}');
  inThread = await createInferenceService({ modelsDir, quiet: true });
  viaWorker = await createWorkerInferenceService({ modelsDir, quiet: true });
});

afterAll(async () => {
  inThread?.dispose();
  viaWorker?.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('inference in a worker thread', () => {
  it('lists the same models, problems and defaults as the service in this thread', () => {
    expect(viaWorker.models).toEqual(inThread.models);
    expect(viaWorker.problems).toEqual(inThread.problems);
    expect(viaWorker.problems).toHaveLength(1);
    expect(viaWorker.source).toBe(inThread.source);
    expect(viaWorker.backend).toBe(inThread.backend);
    expect([viaWorker.inWorker, inThread.inWorker]).toEqual([true, false]);
    expect(viaWorker.backendDetails).toEqual(inThread.backendDetails);
    expect(viaWorker.defaultModel('sr', 4)?.name).toBe('sr-x4');
    expect(viaWorker.defaultModel('colorize')?.name).toBe('colorize');
    expect(viaWorker.defaultModel('sr', 3)).toBeUndefined();
    expect(viaWorker.defaultModel('paired')?.name).toBe('facades');
  });

  it('gives the same PNG bytes as in this thread, with progress up to done = total', async () => {
    const rgba = await png(37, 23, 4, 5);
    const progress: Progress[] = [];
    const pairs: [InferenceResult, InferenceResult][] = [
      [await viaWorker.upscale(rgba, { scale: 2, onProgress: (p) => progress.push(p) }), await inThread.upscale(rgba, { scale: 2 })],
      [await viaWorker.upscale(rgba, { scale: 4 }), await inThread.upscale(rgba, { scale: 4 })],
      [await viaWorker.colorize(rgba), await inThread.colorize(rgba)],
      [await viaWorker.translate(rgba), await inThread.translate(rgba)],
    ];
    for (const [fromWorker, here] of pairs) {
      expect(Buffer.isBuffer(fromWorker.png)).toBe(true);
      expect(fromWorker.png.equals(here.png)).toBe(true);
      expect({ ...fromWorker, png: undefined, ms: 0 }).toEqual({ ...here, png: undefined, ms: 0 });
    }
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.done).toBe(progress.at(-1)!.total);
  });

  it('leaves the caller its input buffer (only a copy crosses to the worker)', async () => {
    const input = await png(16, 16);
    const copy = Buffer.from(input);
    await viaWorker.upscale(input, { scale: 2 });
    expect(input.equals(copy)).toBe(true);
  });

  it('rebuilds the errors the shells map to statuses: InputError with its code, ModelUnavailableError', async () => {
    const bad = await rejection(viaWorker.colorize(Buffer.from('not an image')));
    expect(bad).toBeInstanceOf(InputError);
    expect((bad as InputError).code).toBe('unsupported_image');
    const tooLarge = await rejection(viaWorker.upscale(await png(40, 40), { scale: 4, maxOutputPixels: 1000 }));
    expect((tooLarge as InputError).code).toBe('too_large');
    const wrongModel = await rejection(viaWorker.upscale(await png(8, 8), { scale: 4, model: 'colorize' }));
    expect(wrongModel).toBeInstanceOf(ModelUnavailableError);
    expect(wrongModel.message).toBe('Model "colorize" is a colorize model, not super-resolution x4.');
  });

  it('stops a run between tiles when its signal aborts, and serves the next run', async () => {
    const big = await png(400, 300);
    const controller = new AbortController();
    let tiles = 0;
    const run = viaWorker.upscale(big, {
      scale: 2,
      signal: controller.signal,
      onProgress: (p) => {
        tiles = p.done;
        if (p.done === 2) controller.abort();
      },
    });
    const error = await rejection(run);
    expect(error.name).toBe('AbortError');
    expect(tiles).toBeLessThan(10);
    const preAborted = await rejection(viaWorker.colorize(big, { signal: AbortSignal.abort() }));
    expect(preAborted.name).toBe('AbortError');
    const after = await viaWorker.upscale(await png(8, 8), { scale: 2 });
    expect([after.width, after.height]).toEqual([16, 16]);
  });

  it("keeps this thread's timers running while a model runs (in this thread they wait for the whole run)", async () => {
    // The shipped x4 model: one 256x256 run is about a second of synchronous work on wasm.
    const shipped = path.resolve('models', 'sr-x4');
    const worker = await createWorkerInferenceService({ modelDirs: [shipped], quiet: true });
    const here = await createInferenceService({ modelDirs: [shipped], quiet: true });
    try {
      const input = await png(256, 256);
      const inWorkerRun = await longestStall(() => worker.upscale(input, { scale: 4 }));
      const hereRun = await longestStall(() => here.upscale(input, { scale: 4 }));
      // Without the worker the timers stall for most of the run: the comparison shows the check can fail.
      expect(hereRun.stallMs).toBeGreaterThan(300);
      expect(inWorkerRun.runMs).toBeGreaterThan(300);
      // Relative, not a fixed bound: on a loaded machine this thread can wait for a core for a few
      // hundred ms (328 ms seen while a build ran), but never for most of the run.
      expect(inWorkerRun.stallMs).toBeLessThan(hereRun.stallMs / 4);
    } finally {
      worker.dispose();
      here.dispose();
    }
  });

  it('fails the runs of a worker that dies and starts a new one for the next run', async () => {
    // A stand-in worker that speaks the protocol: ready at once; the first worker started exits on
    // its first run, later ones answer with a 1x1 PNG.
    const counter = path.join(dir, 'starts');
    const entry = path.join(dir, 'crashing-worker.mjs');
    await fs.writeFile(
      entry,
      `import { parentPort } from 'node:worker_threads';
import { appendFileSync, readFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(counter)}, 'x');
const start = readFileSync(${JSON.stringify(counter)}, 'utf8').length;
parentPort.postMessage({ type: 'ready', backend: 'cpu', models: [], source: 'stand-in', problems: [] });
parentPort.on('message', (m) => {
  if (start === 1) process.exit(3);
  const png = new Uint8Array([1, 2, 3]);
  parentPort.postMessage({ type: 'done', id: m.id, result: { png, width: 1, height: 1, inputWidth: 1, inputHeight: 1, model: 'm', backend: 'cpu', ms: 1 } }, [png.buffer]);
});
`,
    );
    const service = await createWorkerInferenceService({ workerEntry: entry });
    try {
      const crashed = await rejection(service.colorize(Buffer.from([0])));
      expect(crashed.message).toBe('The inference worker stopped (exit code 3).');
      const next = await service.colorize(Buffer.from([0]));
      expect([...next.png]).toEqual([1, 2, 3]);
      expect(await fs.readFile(counter, 'utf8')).toBe('xx');
    } finally {
      service.dispose();
    }
  });

  it('tells a worker that cannot start (WorkerStartError) from models that fail or crash while loading in it', async () => {
    const missing = await rejection(createWorkerInferenceService({ workerEntry: path.join(dir, 'no-such-entry.mjs') }));
    expect(missing).toBeInstanceOf(WorkerStartError);
    const noBackend = await rejection(createWorkerInferenceService({ modelsDir, backend: 'tensorflow' }));
    expect(noBackend).not.toBeInstanceOf(WorkerStartError);
    expect(noBackend.message).toMatch(/TensorFlow\.js backend "tensorflow" is not available here/);
    // Started, then died loading the models (as an out-of-memory would): the server thread would fare no better.
    const entry = path.join(dir, 'dies-loading.mjs');
    await fs.writeFile(entry, `import { parentPort } from 'node:worker_threads';\nparentPort.postMessage({ type: 'started' });\nsetTimeout(() => process.exit(7), 50);\n`);
    const crashed = await rejection(createWorkerInferenceService({ workerEntry: entry }));
    expect(crashed).not.toBeInstanceOf(WorkerStartError);
    expect(crashed.message).toBe('The inference worker stopped while loading the models: The inference worker stopped (exit code 7).');
  });

  it('finds its entry file from the running script when started from another folder', () => {
    const here = process.cwd();
    process.chdir(os.tmpdir());
    try {
      expect(defaultWorkerEntry()).toBe(path.join(here, 'lib', 'infer', 'worker-entry.mjs'));
    } finally {
      process.chdir(here);
    }
  });

  it("does not load TensorFlow.js or sharp into the app's thread: only the worker does", () => {
    // A fresh process, as the server's: what the routes and the service module bring with them.
    const script = [
      "require('./lib/server/routes.ts');",
      "require('./lib/infer/app-service.ts');",
      'const heavy = Object.keys(require.cache).filter((k) => /node_modules.(@tensorflow|sharp)/.test(k));',
      "const ours = Object.keys(require.cache).filter((k) => k.includes('/lib/server/'));",
      'console.log(JSON.stringify({ heavy: heavy.length, ours: ours.length }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    const { heavy, ours } = JSON.parse(out.trim().split('\n').at(-1)!) as { heavy: number; ours: number };
    expect(ours).toBeGreaterThan(3);
    expect(heavy).toBe(0);
  });

  it('INFERENCE_WORKER chooses; by default the worker unless the native backend is wanted', () => {
    expect(inferenceInWorker({ INFERENCE_WORKER: '0' })).toBe(false);
    expect(inferenceInWorker({ INFERENCE_WORKER: 'false' })).toBe(false);
    expect(inferenceInWorker({ INFERENCE_WORKER: '1' })).toBe(true);
    expect(() => inferenceInWorker({ INFERENCE_WORKER: 'yes' })).toThrow(/INFERENCE_WORKER must be 0 or 1/);
    // No native package is installed on these machines: the default is the worker.
    expect(inferenceInWorker({})).toBe(true);
    expect(inferenceInWorker({ TF_BACKEND: 'tensorflow' })).toBe(false);
    expect(inferenceInWorker({ TF_BACKEND: 'wasm' })).toBe(true);
    // What the server checks at start-up: a misspelt backend too, whatever INFERENCE_WORKER says.
    expect(() => checkInferenceSettings({ INFERENCE_WORKER: '0', TF_BACKEND: 'wsam' })).toThrow('TF_BACKEND must be one of tensorflow, wasm, cpu; got "wsam"');
    expect(() => checkInferenceSettings({ INFERENCE_WORKER: 'no' })).toThrow(/INFERENCE_WORKER must be 0 or 1/);
    expect(() => checkInferenceSettings({})).not.toThrow();
  });
});
