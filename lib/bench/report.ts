/**
 * Text and JSON output of `npm run bench`.
 */
import type { BenchResult } from './run';

function fixed(value: number | null, digits: number): string {
  return value === null || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const modelLine = (m: { size: number; ngf: number; depth: number; batch: number }) => `size ${m.size}, ngf ${m.ngf}, depth ${m.depth}, batch ${m.batch}`;

/** The human-readable report: a header, one row per backend, the cpu reference and caveats. */
export function toTable(r: BenchResult): string {
  const m = r.model;
  const lines = [
    `pix2pix training engine, ${r.task} shape (G ${r.inputChannels} -> ${r.outputChannels} channels; PatchGAN on ${m.discriminator.inputChannels} channels, ndf ${m.discriminator.ndf}, ${m.discriminator.nLayers} layers; ${m.norm} norm)`,
    `model: ${modelLine(m)}; G ${(m.generatorParams / 1e6).toFixed(2)} M parameters, D ${(m.discriminatorParams / 1e6).toFixed(2)} M`,
    `work: ${(r.flops.trainStep / 1e9).toFixed(2)} GFLOP per G+D training step (convolutions, transposed convolutions, matmuls: forward + input and filter gradients as tfjs runs them), ` +
      `${(r.flops.inference / 1e9).toFixed(2)} GFLOP per single-image inference`,
    `timing: median of ${r.steps} timed step(s) after ${r.warmup} warm-up step(s); inference on 1 image; ceiling = median of tf.matMul ${r.matMulSize}x${r.matMulSize} timed after each training step; of ceiling = median over steps of (step GFLOP/s / the matmul right after it)`,
    '',
    table(
      ['backend', 'step ms', 'images/s', 'infer ms', 'step GFLOP/s', 'infer GFLOP/s', 'matmul GFLOP/s', 'of ceiling', 'vs cpu'],
      r.backends.map((b) => [
        b.description.replace(/^backend: /, ''),
        `${fixed(b.trainStepMs, 0)} (${fixed(b.trainStepCpuMs, 0)})`,
        fixed(b.imagesPerSec, 2),
        `${fixed(b.inferMs, 0)} (${fixed(b.inferCpuMs, 0)})`,
        `${fixed(b.achievedGflops, 2)} (${fixed(b.achievedGflopsCpu, 2)})`,
        fixed(b.inferGflops, 2),
        `${fixed(b.ceilingGflops, 2)} (${fixed(b.ceilingGflopsCpu, 2)})`,
        `${fixed(b.ceilingFraction * 100, 0)}% (${fixed(b.ceilingFractionCpu * 100, 0)}%)`,
        b.speedupVsCpu === null ? '-' : `${fixed(b.speedupVsCpu, 1)}x (${fixed(b.speedupVsCpuByCpuTime, 1)}x)`,
      ]),
    ),
    "(in brackets: the same from process CPU time instead of wall-clock time; it counts all the process's threads, the JS engine's garbage collector and compiler included, so it can exceed wall-clock time: an upper bound on the work that, unlike wall-clock time, does not grow when other processes compete for the cores)",
  ];
  if (r.cpuReference) {
    const c = r.cpuReference;
    const others = r.backends
      .filter((b) => b.backend !== 'cpu' && b.referenceStepMs !== null)
      .map((b) => `${b.backend} ${fixed(b.referenceStepMs, 0)} ms (${fixed(b.referenceStepCpuMs, 0)} ms CPU)`)
      .join(', ');
    lines.push(
      '',
      `speed-up vs cpu, on ${modelLine(c.model)} (${(c.flops / 1e9).toFixed(2)} GFLOP/step): cpu ${fixed(c.trainStepMs, 0)} ms/step (${fixed(c.trainStepCpuMs, 0)} ms CPU) ` +
        `(${c.steps} step after ${c.warmup} warm-up; ${fixed(c.achievedGflops, 3)} GFLOP/s)${others ? `; ${others}` : ''}`,
    );
  } else {
    lines.push('', 'speed-up vs cpu: not measured (--no-cpu)');
  }
  const leaks = r.backends.filter((b) => b.leakedTensors !== 0);
  if (leaks.length) lines.push(`warning: tensors left behind: ${leaks.map((b) => `${b.backend} ${b.leakedTensors}`).join(', ')}`);
  // Wall over CPU time misses contention: the engine's own threads add CPU time that hides the wait.
  // The load average against the cores says whether other work was running.
  const contended = Math.max(r.machine.loadAverageStart, r.machine.loadAverageEnd) > r.machine.cpus;
  lines.push(
    `machine: ${r.machine.cpus} cores, node ${r.machine.node}, 1-minute load average ${fixed(r.machine.loadAverageStart, 2)} at start, ${fixed(r.machine.loadAverageEnd, 2)} at end` +
      (contended ? ' - more runnable work than cores: other processes competed for them, so wall-clock figures are slower than on an idle machine' : ''),
  );
  return lines.join('\n');
}

/** One JSON object: the main backend's figures at the top level, per-backend details in `backends`. */
export function toJson(r: BenchResult): string {
  return JSON.stringify(r, null, 2);
}
