/**
 * Micro-benchmark of the wasm training kernels on U-Net/PatchGAN layer shapes (batch 4, 128x128
 * input, ngf 32), shipped kernel vs ours. Times are CPU time of this (single-threaded) process, so
 * they hold up when other work shares the machine; wall time is printed alongside.
 *
 *   npx tsx lib/tf/kernels/bench-kernels.ts [--reps 5] [--no-original] [--quick]
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv2DBackpropFilter, Conv2DBackpropInput, Tile, backend_util } from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { initBackend } from '../backend';
import { originalWasmKernel } from './install';

interface Layer {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: 'same' | 'valid';
}

const LAYERS: Layer[] = [
  { name: 'enc1 128->64 3->32', x: [4, 128, 128, 3], filter: [4, 4, 3, 32], stride: 2, pad: 'same' },
  { name: 'enc2 64->32 32->64', x: [4, 64, 64, 32], filter: [4, 4, 32, 64], stride: 2, pad: 'same' },
  { name: 'enc3 32->16 64->128', x: [4, 32, 32, 64], filter: [4, 4, 64, 128], stride: 2, pad: 'same' },
  { name: 'enc5 8->4 256->256', x: [4, 8, 8, 256], filter: [4, 4, 256, 256], stride: 2, pad: 'same' },
  { name: 'dec 64->128 64->3', x: [4, 128, 128, 3], filter: [4, 4, 3, 64], stride: 2, pad: 'same' },
  { name: 'dec 32->64 128->32', x: [4, 64, 64, 32], filter: [4, 4, 32, 128], stride: 2, pad: 'same' },
  { name: 'patch s1 16x16 256->512', x: [4, 16, 16, 256], filter: [4, 4, 256, 512], stride: 1, pad: 'same' },
  { name: 'sr 3x3 s1 64->64', x: [4, 64, 64, 64], filter: [3, 3, 64, 64], stride: 1, pad: 'same' },
];

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Mean CPU and wall milliseconds of `fn` over `reps` runs, after one warm-up run. */
function measure(fn: () => tf.Tensor, reps: number): { cpuMs: number; wallMs: number } {
  fn().dispose();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < reps; i++) fn().dispose();
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000 / reps, wallMs: (performance.now() - wall0) / reps };
}

function runShipped(kernelName: string, inputs: Record<string, tf.Tensor>, attrs: NamedAttrMap): tf.Tensor {
  const kernel = originalWasmKernel(kernelName);
  if (!kernel) throw new Error(`no shipped ${kernelName}`);
  const out = kernel.kernelFunc({ inputs, attrs, backend: tf.backend() }) as TensorInfo;
  return tf.engine().makeTensorFromTensorInfo(out);
}

function row(label: string, t: { cpuMs: number; wallMs: number }, flops?: number): string {
  const rate = flops ? `${(flops / t.cpuMs / 1e6).toFixed(1).padStart(6)} GFLOP/s` : ''.padStart(14);
  return `  ${label.padEnd(34)} ${t.cpuMs.toFixed(1).padStart(8)} ms cpu ${t.wallMs.toFixed(1).padStart(8)} ms wall ${rate}`;
}

async function main(): Promise<void> {
  const reps = Number(argValue('--reps') ?? 5);
  const withOriginal = !process.argv.includes('--no-original');
  const layers = process.argv.includes('--quick') ? LAYERS.slice(1, 3) : LAYERS;
  await initBackend('wasm');
  console.log(`backend ${tf.getBackend()}, reps ${reps} (shipped kernels: 1 rep)`);

  for (const layer of layers) {
    const info = backend_util.computeConv2DInfo(layer.x, layer.filter, layer.stride, 1, layer.pad);
    const flops = 2 * tf.util.sizeFromShape(info.outShape) * layer.filter[0] * layer.filter[1] * layer.filter[2];
    const x = tf.randomNormal(layer.x) as tf.Tensor4D;
    const filter = tf.randomNormal(layer.filter) as tf.Tensor4D;
    const dy = tf.randomNormal(info.outShape) as tf.Tensor4D;
    const common = { strides: layer.stride, pad: layer.pad, dataFormat: 'NHWC' as const };
    const inputAttrs = { ...common, inputShape: layer.x };
    const filterAttrs = { ...common, filterShape: layer.filter };
    console.log(`${layer.name}: x ${layer.x} filter ${layer.filter} stride ${layer.stride} (${(flops / 1e9).toFixed(2)} GFLOP)`);
    console.log(row('Conv2D forward (XNNPACK)', measure(() => tf.conv2d(x, filter, layer.stride, layer.pad), reps), flops));
    const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: object) => () =>
      tf.engine().runKernel(name, inputs, attrs as NamedAttrMap) as tf.Tensor;
    if (withOriginal) {
      console.log(row('Conv2DBackpropInput shipped', measure(() => runShipped(Conv2DBackpropInput, { dy, filter }, inputAttrs), 1), flops));
    }
    console.log(row('Conv2DBackpropInput ours', measure(run(Conv2DBackpropInput, { dy, filter }, inputAttrs), reps), flops));
    console.log(row('Conv2DBackpropFilter ours', measure(run(Conv2DBackpropFilter, { x, dy }, filterAttrs), reps), flops));
    tf.dispose([x, filter, dy]);
  }

  const channels = tf.randomNormal([1, 1, 1, 64]);
  const elements = 4 * 64 * 64 * 64;
  console.log(`Tile [1,1,1,64] -> [4,64,64,64] (BatchNorm gradient):`);
  if (withOriginal) {
    const t = measure(() => runShipped(Tile, { x: channels }, { reps: [4, 64, 64, 1] }), 1);
    console.log(`${row('Tile shipped', t)} ${((t.cpuMs * 1e6) / elements).toFixed(1)} ns/element`);
  }
  const t = measure(() => tf.tile(channels, [4, 64, 64, 1]), reps);
  console.log(`${row('Tile ours', t)} ${((t.cpuMs * 1e6) / elements).toFixed(1)} ns/element`);
  channels.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
