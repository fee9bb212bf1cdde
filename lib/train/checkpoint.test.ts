/** Checkpoints on their own: a failed write (a full disk) and tensor bookkeeping. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildSeeded, buildSrNet } from '@/lib/models/generators';
import { initBackend } from '@/lib/tf/backend';
import { adam } from './adam';
import { findCheckpoint, readCheckpointState, saveCheckpoint, type CheckpointState } from './checkpoint';
import { resolveConfig, trainFlagsSchema } from './config';

let dir: string;

beforeAll(async () => {
  await initBackend('cpu');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'checkpoint-'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A tiny generator and its Adam optimiser after one step (so the optimiser has its moments). */
function tinyModels() {
  const generator = buildSeeded(1, () => buildSrNet({ kind: 'srnet', scale: 2, channels: 3, features: 4, blocks: 0 }));
  const optimG = adam(1e-3, 0.9, 0.999, 1e-8);
  const variables = generator.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  tf.tidy(() => {
    optimG.minimize(() => tf.mean(tf.square(generator.apply(tf.ones([1, 4, 4, 3])) as tf.Tensor)) as tf.Scalar, false, variables);
  });
  return { generator, optimG };
}

const state = (step: number): CheckpointState => ({
  step,
  elapsedSec: 1,
  rng: [1, 2, 3, 4],
  config: resolveConfig(trainFlagsSchema.parse({ task: 'sr', data: 'photos', run: 'r' })),
});

describe('saveCheckpoint', () => {
  it('leaves no tensor behind (the optimiser state it reads out is disposed)', async () => {
    const models = tinyModels();
    const runDir = path.join(dir, 'leak');
    await saveCheckpoint(runDir, state(1), models); // the first save may create lasting state (backend caches)
    const before = tf.memory().numTensors;
    await saveCheckpoint(runDir, state(2), models);
    await saveCheckpoint(runDir, state(3), models);
    expect(tf.memory().numTensors).toBe(before);
    models.generator.dispose();
    models.optimG.dispose();
  });

  it('a write that fails (a full disk) removes the partial checkpoint and names the file and the checkpoint that is intact', async () => {
    const models = tinyModels();
    const runDir = path.join(dir, 'full');
    await saveCheckpoint(runDir, state(17), models);
    const writeFile = fs.writeFile.bind(fs);
    const spy = vi.spyOn(fs, 'writeFile').mockImplementation((file, data, options) =>
      path.basename(String(file)) === 'state.json'
        ? Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }))
        : writeFile(file, data, options),
    );
    try {
      await expect(saveCheckpoint(runDir, state(36), models)).rejects.toThrow(
        `checkpoint at step 36 not saved: writing ${path.join(runDir, 'checkpoint.tmp', 'state.json')} failed (ENOSPC: no space left on device, write); ` +
          `the newest complete checkpoint, step 17 in ${path.join(runDir, 'checkpoint')}, is intact`,
      );
    } finally {
      spy.mockRestore();
    }
    expect((await fs.readdir(runDir)).sort()).toEqual(['checkpoint']);
    expect((await readCheckpointState((await findCheckpoint(runDir))!)).step).toBe(17);
    // Without an earlier checkpoint, it says there is none.
    const spy2 = vi.spyOn(fs, 'writeFile').mockRejectedValue(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    try {
      await expect(saveCheckpoint(path.join(dir, 'first'), state(5), models)).rejects.toThrow(/^checkpoint at step 5 not saved: writing .*generator \(model\.json, weights\.bin\) failed \(ENOSPC.*\); the run has no earlier checkpoint$/);
    } finally {
      spy2.mockRestore();
    }
    expect(await fs.readdir(path.join(dir, 'first'))).toEqual([]);
    models.generator.dispose();
    models.optimG.dispose();
  });
});
