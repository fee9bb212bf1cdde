import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { buildPatchGan, buildUnetGenerator } from '@/lib/models/generators';
import { pix2pixStepFlops } from './flops';
import { toJson, toTable } from './report';
import { discriminatorConfig, generatorConfig, median, runBench, type ModelSize } from './run';

const tiny: ModelSize = { size: 32, ngf: 2, depth: 3, batch: 2 };
const tinier: ModelSize = { size: 32, ngf: 2, depth: 2, batch: 1 };

function stepFlops(m: ModelSize): number {
  const g = buildUnetGenerator(generatorConfig(m));
  const d = buildPatchGan(discriminatorConfig(4));
  const flops = pix2pixStepFlops(g, d, { batch: m.batch, size: m.size, inputChannels: 1, outputChannels: 2 }).total;
  g.dispose();
  d.dispose();
  return flops;
}

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 10])).toBe(3.5);
    expect(median([])).toBeNaN();
  });
});

describe('runBench', () => {
  it('measures a tiny model on wasm against a cpu reference and reports consistent figures', async () => {
    const lines: string[] = [];
    const result = await runBench({ ...tiny, steps: 2, warmup: 1, backends: ['wasm'], cpuReference: true, reference: tinier, ndf: 4, matMulSize: 64, log: (l) => lines.push(l) });
    const wasm = result.backends[0]!;
    expect(result.backends.map((b) => b.backend)).toEqual(['wasm']);
    expect(result.backend).toBe('wasm');
    expect(wasm.trainStepMsAll).toHaveLength(2);
    expect(wasm.inferMsAll).toHaveLength(2);
    expect(result.trainStepMs).toBe(median(wasm.trainStepMsAll));
    expect(result.imagesPerSec).toBeCloseTo(tiny.batch / (result.trainStepMs / 1000), 9);
    expect(result.flops.trainStep).toBe(stepFlops(tiny));
    expect(result.achievedGflops).toBeCloseTo(result.flops.trainStep / (result.trainStepMs * 1e6), 9);
    expect(result.ceilingGflops).toBeGreaterThan(0);
    // The ceiling is sampled after each timed step, and each step is set against its own sample.
    expect(wasm.ceilingMatMulMsAll).toHaveLength(2);
    const flopRatio = result.flops.trainStep / (2 * 64 ** 3);
    expect(wasm.ceilingFraction).toBeCloseTo(median(wasm.trainStepMsAll.map((ms, i) => (flopRatio * wasm.ceilingMatMulMsAll[i]!) / ms)), 9);
    expect(result.ceilingGflops).toBeCloseTo((2 * 64 ** 3) / (median(wasm.ceilingMatMulMsAll) * 1e6), 9);
    expect(wasm.leakedTensors).toBe(0);
    // The reference model is measured on both backends; the ratio is the speed-up.
    expect(result.cpuReference?.model).toEqual(tinier);
    expect(result.cpuReference?.flops).toBe(stepFlops(tinier));
    expect(result.cpuReference?.trainStepMsAll).toHaveLength(1);
    expect(result.speedupVsCpu).toBeCloseTo(result.cpuReference!.trainStepMs / wasm.referenceStepMs!, 9);
    expect(wasm.speedupVsCpuByCpuTime).toBeCloseTo(result.cpuReference!.trainStepCpuMs / wasm.referenceStepCpuMs!, 9);
    // CPU time is measured per step too, and it is what the per-CPU-second rate divides by.
    expect(wasm.trainStepCpuMsAll).toHaveLength(2);
    expect(wasm.trainStepCpuMs).toBeGreaterThan(0);
    expect(wasm.achievedGflopsCpu).toBeCloseTo(result.flops.trainStep / (wasm.trainStepCpuMs * 1e6), 9);
    expect(lines.some((l) => l.includes('cpu reference'))).toBe(true);

    const parsed = JSON.parse(toJson(result)) as Record<string, unknown>;
    for (const key of ['backend', 'trainStepMs', 'imagesPerSec', 'inferMs', 'speedupVsCpu', 'achievedGflops', 'ceilingGflops']) {
      expect(parsed[key]).toBe((result as unknown as Record<string, unknown>)[key]);
    }
    const text = toTable(result);
    expect(text).toContain('G 1 -> 2 channels');
    expect(text).toMatch(/wasm \(simd|wasm \(no simd/);
    expect(text).toContain(`${result.speedupVsCpu!.toFixed(1)}x`);
  }, 120_000);

  it('reuses the main cpu measurement when the model is the reference one, and skips it with --no-cpu', async () => {
    const same = await runBench({ ...tinier, steps: 1, warmup: 0, backends: ['cpu'], cpuReference: true, reference: tinier, ndf: 4, matMulSize: 32 });
    expect(same.cpuReference?.trainStepMsAll).toEqual(same.backends[0]!.trainStepMsAll);
    expect(same.speedupVsCpu).toBe(1);
    expect(same.backends[0]!.speedupVsCpuByCpuTime).toBe(1);
    const numTensors = tf.memory().numTensors;
    const none = await runBench({ ...tinier, steps: 1, warmup: 0, backends: ['cpu'], cpuReference: false, ndf: 4, matMulSize: 32 });
    expect(none.cpuReference).toBeNull();
    expect(none.speedupVsCpu).toBeNull();
    expect(toTable(none)).toContain('not measured (--no-cpu)');
    // The contention note follows the load average against the cores (wall vs CPU time cannot show it:
    // the engine's own threads add CPU time).
    const withLoad = (load: number) => ({ ...none, machine: { ...none.machine, cpus: 2, loadAverageStart: load, loadAverageEnd: load } });
    expect(toTable(withLoad(4.6))).toContain('other processes competed');
    expect(toTable(withLoad(1.2))).not.toContain('other processes competed');
    expect(tf.memory().numTensors).toBe(numTensors);
  }, 120_000);
});
