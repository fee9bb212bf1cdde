import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '@/lib/tf/backend';
import { explainWasmAbort } from './loop';

// Its own file: exhausting the wasm heap aborts the wasm module for the rest of this process.
describe('wasm heap exhaustion', () => {
  it('is reported as a clear out-of-memory message, not a bare RuntimeError', async () => {
    await initBackend('wasm');
    const kept: tf.Tensor[] = [];
    let failure: unknown;
    try {
      // 512 MiB at a time until the 4 GiB heap gives out (an op's output lives on the heap; a
      // freshly filled tensor may still be JS-side).
      for (let i = 0; i < 12; i++) kept.push(tf.tidy(() => tf.add(tf.fill([128 * 1024 * 1024], 1), 1)));
    } catch (error) {
      failure = error;
    }
    expect(failure, 'the heap never ran out').toBeDefined();
    const explained = explainWasmAbort(failure, { batchSize: 8, cropSize: 512 });
    expect(explained.message).toMatch(/ran out of memory \(its heap is 4 GiB at most\) for batch 8 at 512px/);
    expect(explained.message).toMatch(/--batch-size/);
    const unrelated = new Error('something else');
    expect(explainWasmAbort(unrelated, { batchSize: 1, cropSize: 64 })).toBe(unrelated);
  });
});
