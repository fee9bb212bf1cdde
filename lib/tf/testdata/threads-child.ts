/**
 * Child process for wasm-threads.test.ts: initialises the backend as every script does (threads from
 * TF_WASM_THREADS), checks a convolution and its filter gradient against the cpu backend, prints one
 * JSON line and then simply returns, so the parent also sees whether the process exits on its own.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { describeBackend, initBackend } from '../backend';

async function main(): Promise<void> {
  const info = await initBackend('wasm');
  const xs = Float32Array.from({ length: 2 * 33 * 33 * 16 }, (_, i) => Math.sin(i * 0.37));
  const ws = Float32Array.from({ length: 3 * 3 * 16 * 24 }, (_, i) => Math.cos(i * 0.11));
  const run = (): Float32Array[] =>
    tf.tidy(() => {
      const x = tf.tensor4d(xs, [2, 33, 33, 16]);
      const w = tf.tensor4d(ws, [3, 3, 16, 24]);
      const y = tf.conv2d(x, w, 1, 'same');
      const g = tf.grad((filter: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, filter as tf.Tensor4D, 2, 'same'))))(w);
      return [y.dataSync() as Float32Array, g.dataSync() as Float32Array];
    });
  const [y, g] = run();
  const threads = getThreadsCount();
  await tf.setBackend('cpu');
  const [yRef, gRef] = run();
  const relErr = (a: Float32Array, b: Float32Array): number => {
    let d = 0;
    let n = 0;
    for (let i = 0; i < a.length; i++) {
      d += (a[i]! - b[i]!) ** 2;
      n += b[i]! ** 2;
    }
    return Math.sqrt(d / n);
  };
  console.log(JSON.stringify({ description: describeBackend(info), threads, fallbacks: info.fallbacks, convErr: relErr(y!, yRef!), gradErr: relErr(g!, gRef!) }));
}

void main();
