/**
 * Times whole pix2pix training steps (G + D update) on the wasm backend and breaks one step down by
 * kernel, so the next thing worth optimising is visible. Self time per kernel (nested kernels such
 * as the convs inside our Conv2DBackpropInput are charged to themselves, not their caller), in CPU
 * milliseconds of this single-threaded process: robust when other work shares the machine.
 *
 *   npx tsx lib/tf/kernels/profile-step.ts [--size 64] [--ngf 32] [--depth 6] [--batch 4]
 *     [--ndf 64] [--layers 3] [--norm instance|batch|none] [--steps 5] [--top 25]
 *   npx tsx lib/tf/kernels/profile-step.ts --sr [--scale 4] [--features 32] [--blocks 4] [--size 48]
 *     [--batch 8]      (an srnet L1 step; --size is the low-resolution crop side)
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, getKernelsForBackend, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelFunc } from '@tensorflow/tfjs-core';
import { buildPatchGan, buildSrNet, buildUnetGenerator, type Norm } from '../../models/generators';
import { Pix2PixTrainer } from '../../train/pix2pix';
import { initBackend } from '../backend';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface KernelStats {
  calls: number;
  selfMs: number;
}

const CONV_KERNELS = new Set(['Conv2D', 'FusedConv2D']);

/** `Conv2D x[..] w[..] s.. d..` and its multiply-add FLOPs, for the per-shape conv breakdown. */
function convKey(params: Parameters<KernelFunc>[0]): { key: string; flops: number } {
  const x = params.inputs.x!.shape;
  const w = params.inputs.filter!.shape as [number, number, number, number];
  const attrs = params.attrs as { strides: number | number[]; dilations: number | number[]; pad: unknown };
  const info = backend_util.computeConv2DInfo(
    x as [number, number, number, number],
    w,
    attrs.strides as [number, number],
    attrs.dilations as [number, number],
    attrs.pad as 'same',
  );
  const flops = 2 * tf.util.sizeFromShape(info.outShape) * w[0] * w[1] * w[2];
  return { key: `x[${x}] w[${w}] s${attrs.strides} d${attrs.dilations}`, flops };
}

/** Wraps every wasm kernel to accumulate self CPU time per kernel name while `enabled`. */
function instrumentWasmKernels(): {
  stats: Map<string, KernelStats>;
  convs: Map<string, KernelStats & { flops: number }>;
  setEnabled(on: boolean): void;
} {
  const stats = new Map<string, KernelStats>();
  const convs = new Map<string, KernelStats & { flops: number }>();
  let enabled = false;
  const childTime: number[] = [];
  for (const config of getKernelsForBackend('wasm')) {
    const inner = config.kernelFunc;
    const wrapped: KernelFunc = (params) => {
      if (!enabled) return inner(params);
      childTime.push(0);
      const start = cpuMs();
      try {
        return inner(params);
      } finally {
        const total = cpuMs() - start;
        const children = childTime.pop() ?? 0;
        if (childTime.length > 0) childTime[childTime.length - 1]! += total;
        const entry = stats.get(config.kernelName) ?? { calls: 0, selfMs: 0 };
        entry.calls++;
        entry.selfMs += total - children;
        stats.set(config.kernelName, entry);
        if (CONV_KERNELS.has(config.kernelName)) {
          const { key, flops } = convKey(params);
          const conv = convs.get(key) ?? { calls: 0, selfMs: 0, flops: 0 };
          conv.calls++;
          conv.selfMs += total - children;
          conv.flops += flops;
          convs.set(key, conv);
        }
      }
    };
    unregisterKernel(config.kernelName, 'wasm');
    registerKernel({ ...config, kernelFunc: wrapped });
  }
  return { stats, convs, setEnabled: (on) => (enabled = on) };
}

async function main(): Promise<void> {
  const size = Number(arg('size', '64'));
  const ngf = Number(arg('ngf', '32'));
  const depth = Number(arg('depth', '6'));
  const batch = Number(arg('batch', '4'));
  const ndf = Number(arg('ndf', '64'));
  const nLayers = Number(arg('layers', '3'));
  const norm = arg('norm', 'instance') as Norm;
  const steps = Number(arg('steps', '5'));
  const top = Number(arg('top', '25'));

  const sr = process.argv.includes('--sr');
  const scale = Number(arg('scale', '4')) as 2 | 3 | 4;
  const features = Number(arg('features', '32'));
  const blocks = Number(arg('blocks', '4'));

  await initBackend('wasm');
  const params = (m: { countParams(): number }) => (m.countParams() / 1e6).toFixed(2);
  let trainer: Pix2PixTrainer;
  let input: tf.Tensor4D;
  let target: tf.Tensor4D;
  if (sr) {
    const generator = buildSrNet({ kind: 'srnet', scale, channels: 3, features, blocks });
    trainer = new Pix2PixTrainer({
      generator,
      gan: { mode: 'none', lambdaL1: 100, lambdaGan: 1, gradientPenalty: 10 },
      optim: { lr: 2e-4, beta1: 0.9, beta2: 0.999 },
    });
    input = tf.randomUniform([batch, size, size, 3], 0, 1) as tf.Tensor4D;
    target = tf.randomUniform([batch, size * scale, size * scale, 3], 0, 1) as tf.Tensor4D;
    console.log(`srnet L1 step: ${size}x${size} low-resolution crops x${scale}, batch ${batch}, features ${features} blocks ${blocks} (${params(generator)} M params)`);
  } else {
    const generator = buildUnetGenerator({ kind: 'unet', inputChannels: 1, outputChannels: 2, ngf, depth, norm, dropout: 0.5 });
    const discriminator = buildPatchGan({ kind: 'patchgan', inputChannels: 3, ndf, nLayers, norm });
    trainer = new Pix2PixTrainer({
      generator,
      discriminator,
      gan: { mode: 'vanilla', lambdaL1: 100, lambdaGan: 1, gradientPenalty: 10 },
      optim: { lr: 2e-4, beta1: 0.5, beta2: 0.999 },
    });
    input = tf.randomUniform([batch, size, size, 1], -1, 1) as tf.Tensor4D;
    target = tf.randomUniform([batch, size, size, 2], -1, 1) as tf.Tensor4D;
    console.log(
      `pix2pix step: ${size}x${size} batch ${batch}, U-Net ngf ${ngf} depth ${depth} (${params(generator)} M params), ` +
        `PatchGAN ndf ${ndf} layers ${nLayers} (${params(discriminator)} M), norm ${norm}`,
    );
  }

  const instrument = instrumentWasmKernels();
  await trainer.trainStep(input, target); // creates optimiser slots, warms caches
  const times: { cpu: number; wall: number }[] = [];
  for (let i = 0; i < steps; i++) {
    const c0 = cpuMs();
    const w0 = performance.now();
    await trainer.trainStep(input, target);
    times.push({ cpu: cpuMs() - c0, wall: performance.now() - w0 });
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(
    `step time over ${steps} steps: median ${median(times.map((t) => t.cpu)).toFixed(0)} ms cpu, ` +
      `${median(times.map((t) => t.wall)).toFixed(0)} ms wall (min cpu ${Math.min(...times.map((t) => t.cpu)).toFixed(0)} ms)`,
  );

  instrument.setEnabled(true);
  const c0 = cpuMs();
  await trainer.trainStep(input, target);
  const stepMs = cpuMs() - c0;
  instrument.setEnabled(false);
  const rows = [...instrument.stats.entries()].sort((a, b) => b[1].selfMs - a[1].selfMs);
  const inKernels = rows.reduce((sum, [, s]) => sum + s.selfMs, 0);
  console.log(`profiled step: ${stepMs.toFixed(0)} ms cpu, ${inKernels.toFixed(0)} ms in kernels, ${(stepMs - inKernels).toFixed(0)} ms outside (JS: tape, layers, optimiser bookkeeping)`);
  console.log(`${'kernel'.padEnd(28)} ${'calls'.padStart(6)} ${'self ms'.padStart(9)} ${'share'.padStart(6)}`);
  for (const [name, s] of rows.slice(0, top)) {
    console.log(`${name.padEnd(28)} ${String(s.calls).padStart(6)} ${s.selfMs.toFixed(1).padStart(9)} ${((100 * s.selfMs) / stepMs).toFixed(1).padStart(5)}%`);
  }
  const convRows = [...instrument.convs.entries()].sort((a, b) => b[1].selfMs - a[1].selfMs);
  const convFlops = convRows.reduce((sum, [, c]) => sum + c.flops, 0);
  const convMs = convRows.reduce((sum, [, c]) => sum + c.selfMs, 0);
  console.log(`\nconvolutions (Conv2D + FusedConv2D): ${(convFlops / 1e9).toFixed(2)} GFLOP in ${convMs.toFixed(0)} ms = ${(convFlops / convMs / 1e6).toFixed(1)} GFLOP/s`);
  for (const [key, c] of convRows.slice(0, top)) {
    console.log(`  ${key.padEnd(52)} ${String(c.calls).padStart(3)}x ${c.selfMs.toFixed(1).padStart(8)} ms ${(c.flops / c.selfMs / 1e6).toFixed(1).padStart(6)} GFLOP/s`);
  }
  tf.dispose([input, target]);
  trainer.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
