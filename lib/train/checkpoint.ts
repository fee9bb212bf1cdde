/**
 * Self-describing checkpoints: G, D, both optimisers' state, step, elapsed time, RNG state and the
 * config, written to a temporary folder and swapped in by rename so that a crash mid-write never
 * leaves a half-written checkpoint (the previous one survives as `checkpoint.old` until the swap).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fileSystemIO, replaceDirectory } from '@/lib/model/io';
import { loadLayersFrom } from '@/lib/models/layers';
import type { RngState } from './rng';
import { trainConfigSchema, type TrainConfig } from './config';

export interface CheckpointState {
  step: number;
  elapsedSec: number;
  rng: RngState;
  config: TrainConfig;
  /** Best validation PSNR so far and the step it was reached at. */
  best?: { psnr: number; step: number };
  /**
   * The photos the run holds out and trains on, by name, as its first session split them: a resume
   * keeps them even when the data folder has changed. Absent in checkpoints from before it was saved.
   */
  split?: { heldOut: string[]; trained: string[] };
}

export interface Checkpoint extends CheckpointState {
  generator: tfl.LayersModel;
  discriminator?: tfl.LayersModel;
}

const dirOf = (runDir: string) => path.join(runDir, 'checkpoint');

async function saveOptimizer(optimizer: tf.Optimizer, file: string): Promise<void> {
  const weights = await optimizer.getWeights();
  try {
    const { data, specs } = await tf.io.encodeWeights(weights);
    await fs.writeFile(`${file}.bin`, new Uint8Array(data as ArrayBuffer));
    await fs.writeFile(`${file}.json`, JSON.stringify(specs));
  } finally {
    // getWeights() makes a new scalar for the iteration count; the moments are the optimiser's own
    // variables, which must live on.
    tf.dispose(weights.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
  }
}

async function loadOptimizer(optimizer: tf.Optimizer, file: string): Promise<void> {
  const specs = JSON.parse(await fs.readFile(`${file}.json`, 'utf8')) as tf.io.WeightsManifestEntry[];
  const bytes = await fs.readFile(`${file}.bin`);
  const named = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, specs);
  // Adam pairs its slots with variables by position, so names (which tfjs may have suffixed) are not used.
  await optimizer.setWeights(specs.map((s) => ({ name: s.name, tensor: named[s.name]! })));
}

/**
 * Writes a checkpoint of the run atomically. On failure (a full disk) the partial checkpoint is
 * removed and the error names the file that failed and the checkpoint the run still has.
 *
 * @throws Error `checkpoint at step N not saved: writing <file> failed (<reason>); ...`.
 */
export async function saveCheckpoint(
  runDir: string,
  state: CheckpointState,
  models: { generator: tfl.LayersModel; discriminator?: tfl.LayersModel; optimG: tf.Optimizer; optimD?: tf.Optimizer },
): Promise<void> {
  const final = dirOf(runDir);
  const tmp = `${final}.tmp`;
  const old = `${final}.old`;
  // What is being written, for the error: fs errors such as ENOSPC do not name their file.
  let writing = tmp;
  const write = async (what: string, work: () => Promise<unknown>) => {
    writing = what;
    await work();
  };
  try {
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp, { recursive: true });
    await write(`${path.join(tmp, 'generator')} (model.json, weights.bin)`, () => models.generator.save(fileSystemIO(path.join(tmp, 'generator'))));
    await write(`${path.join(tmp, 'optimizer-g')}.bin/.json`, () => saveOptimizer(models.optimG, path.join(tmp, 'optimizer-g')));
    if (models.discriminator && models.optimD) {
      const { discriminator, optimD } = models;
      await write(`${path.join(tmp, 'discriminator')} (model.json, weights.bin)`, () => discriminator.save(fileSystemIO(path.join(tmp, 'discriminator'))));
      await write(`${path.join(tmp, 'optimizer-d')}.bin/.json`, () => saveOptimizer(optimD, path.join(tmp, 'optimizer-d')));
    }
    await write(path.join(tmp, 'state.json'), () => fs.writeFile(path.join(tmp, 'state.json'), JSON.stringify(state, null, 2)));
    // After a crash that left only `checkpoint.old`, that one is kept until the new one is in place.
    await write(`${final} (moving ${tmp} in)`, () => replaceDirectory(tmp, final, old));
  } catch (error) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    const kept = await findCheckpoint(runDir);
    const keptStep = kept ? await readCheckpointState(kept).then((s) => s.step, () => undefined) : undefined;
    throw new Error(
      `checkpoint at step ${state.step} not saved: writing ${writing} failed (${(error as Error).message ?? String(error)}); ` +
        (kept ? `the newest complete checkpoint, ${keptStep === undefined ? 'of unknown step' : `step ${keptStep}`} in ${kept}, is intact` : 'the run has no earlier checkpoint'),
      { cause: error },
    );
  }
}

/** Where the newest complete checkpoint of a run is (`checkpoint`, else a surviving `checkpoint.old`). */
export async function findCheckpoint(runDir: string): Promise<string | undefined> {
  for (const dir of [dirOf(runDir), `${dirOf(runDir)}.old`]) {
    if (await fs.stat(path.join(dir, 'state.json')).then(() => true, () => false)) return dir;
  }
  return undefined;
}

/**
 * A checkpoint's state (step, config, RNG) without its weights: enough to check a request against
 * the run before the (large) networks load.
 */
export async function readCheckpointState(dir: string): Promise<CheckpointState> {
  const raw = JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8')) as CheckpointState;
  return { ...raw, config: trainConfigSchema.parse(raw.config) };
}

/** Reads a checkpoint's state and models; optimiser state is restored by {@link restoreOptimizers}. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const raw = await readCheckpointState(dir);
  const { config } = raw;
  const generator = await loadLayersFrom(path.join(dir, 'generator'));
  const hasD = await fs.stat(path.join(dir, 'discriminator', 'model.json')).then(() => true, () => false);
  const discriminator = hasD ? await loadLayersFrom(path.join(dir, 'discriminator')) : undefined;
  return { ...raw, config, generator, discriminator };
}

/** Loads the saved Adam state into freshly made optimisers (call after their construction). */
export async function restoreOptimizers(dir: string, optimG: tf.Optimizer, optimD?: tf.Optimizer): Promise<void> {
  await loadOptimizer(optimG, path.join(dir, 'optimizer-g'));
  if (optimD) await loadOptimizer(optimD, path.join(dir, 'optimizer-d'));
}
