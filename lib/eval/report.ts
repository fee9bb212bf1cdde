/** Markdown and JSON renderings of an evaluation result. */
import { directionLabel } from './paired';
import type { ColorizeEvaluation, Evaluation, PairedEvaluation, SrEvaluation } from './run';
import type { ScoreRow } from './metrics';

/** `toFixed` without the "-0.00" of tiny negatives. */
function fixed(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

function dB(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : 'inf';
}

/** "1 image", "5 images" ("1 pair", "5 pairs" with `noun` pair). */
export function imageCount(n: number, noun: 'image' | 'pair' = 'image'): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function seconds(msPerMegapixel: number): string {
  if (msPerMegapixel < 1000) return `${msPerMegapixel.toFixed(0)} ms`;
  return `${(msPerMegapixel / 1000).toFixed(1)} s`;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rule = `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The one-row-per-method table of PSNR, SSIM and speed (`channel`: Y or RGB). */
function summaryTable(rows: readonly ScoreRow[], channel: string): string {
  return table(
    ['method', `PSNR-${channel} (dB)`, `SSIM-${channel}`, 'per output MP: wall', 'CPU'],
    rows.map((r) => [r.method, dB(r.psnr), r.ssim.toFixed(4), seconds(r.msPerMegapixel), seconds(r.cpuMsPerMegapixel)]),
  );
}

function srMarkdown(result: SrEvaluation, verbose: boolean): string {
  const dataName = result.data.replace(/\/+$/, '').split('/').pop() ?? result.data;
  const parts = [
    `### ${dataName} x${result.scale} (${imageCount(result.images.length)}, ${result.backend})`,
    '',
    summaryTable(result.rows, 'Y'),
  ];
  if (verbose) {
    for (const r of result.rows) {
      parts.push(
        '',
        `${r.method}: ${r.detail}`,
        '',
        table(
          ['image', 'size', 'PSNR-Y', 'SSIM-Y', 'wall', 'CPU', 'per MP: wall', 'CPU'],
          r.perImage.map((s) => [
            s.image,
            `${s.width}x${s.height}`,
            dB(s.psnr),
            s.ssim.toFixed(4),
            `${(s.ms / 1000).toFixed(2)} s`,
            `${(s.cpuMs / 1000).toFixed(2)} s`,
            seconds(s.msPerMegapixel),
            seconds(s.cpuMsPerMegapixel),
          ]),
        ),
      );
    }
  } else {
    parts.push('', ...result.rows.map((r) => `- ${r.method}: ${r.detail}`));
  }
  if (result.published) {
    parts.push(
      '',
      `Published Y-PSNR for ${dataName} x${result.scale} (not measured here; these tables score gray files as stored, ` +
        `see --gray): ${result.published.map((p) => `${p.method} ${p.psnr.toFixed(2)}`).join(', ')}.`,
    );
  }
  parts.push('', `Protocol: ${result.protocol}`);
  if (result.notes.length > 0) parts.push('', ...result.notes.map((n) => `Note: ${n}`));
  return parts.join('\n');
}

function colorizeMarkdown(result: ColorizeEvaluation, verbose: boolean): string {
  const dataName = result.data.replace(/\/+$/, '').split('/').pop() ?? result.data;
  const ref = result.reference;
  const parts = [
    `### Colorize: ${dataName} (${imageCount(result.images.length)}, ${result.backend})`,
    '',
    table(
      ['method', 'PSNR-RGB (dB)', 'SSIM-RGB', 'colourfulness (ratio)', 'mean a*', 'mean b*', 'per MP: wall', 'CPU'],
      [
        ...result.rows.map((r) => [
          r.method,
          dB(r.psnr),
          r.ssim.toFixed(4),
          `${r.colourfulness.toFixed(1)} (${r.colourfulnessRatio.toFixed(2)})`,
          fixed(r.meanA, 2),
          fixed(r.meanB, 2),
          seconds(r.msPerMegapixel),
          seconds(r.cpuMsPerMegapixel),
        ]),
        ['original (reference)', '', '', `${ref.colourfulness.toFixed(1)} (1.00)`, fixed(ref.meanA, 2), fixed(ref.meanB, 2), '', ''],
      ],
    ),
  ];
  if (verbose) {
    for (const r of result.rows) {
      parts.push(
        '',
        `${r.method}: ${r.detail}`,
        '',
        table(
          ['image', 'PSNR', 'SSIM', 'colourfulness (orig)', 'a*', 'b*', 'time'],
          r.perImage.map((s) => [
            s.image,
            dB(s.psnr),
            s.ssim.toFixed(4),
            `${s.colourfulness.toFixed(1)} (${s.originalColourfulness.toFixed(1)})`,
            fixed(s.meanA, 2),
            fixed(s.meanB, 2),
            `${(s.ms / 1000).toFixed(2)} s`,
          ]),
        ),
      );
    }
  } else {
    parts.push('', ...result.rows.map((r) => `- ${r.method}: ${r.detail}`));
  }
  parts.push('', `Protocol: ${result.protocol}`);
  if (result.notes.length > 0) parts.push('', ...result.notes.map((n) => `Note: ${n}`));
  return parts.join('\n');
}

function pairedMarkdown(result: PairedEvaluation, verbose: boolean): string {
  const dataName = result.data.replace(/\/+$/, '').split('/').pop() ?? result.data;
  const layout = result.layout === 'folders' ? 'A/ and B/' : 'side by side';
  const parts = [
    `### Paired ${directionLabel(result.direction)}: ${dataName} (${imageCount(result.images.length, 'pair')}, ${layout}, ${result.backend})`,
    '',
    summaryTable(result.rows, 'RGB'),
  ];
  if (verbose) {
    for (const r of result.rows) {
      parts.push(
        '',
        `${r.method}: ${r.detail}`,
        '',
        table(
          ['image', 'size', 'PSNR-RGB', 'SSIM-RGB', 'wall', 'CPU'],
          r.perImage.map((s) => [s.image, `${s.width}x${s.height}`, dB(s.psnr), s.ssim.toFixed(4), `${(s.ms / 1000).toFixed(2)} s`, `${(s.cpuMs / 1000).toFixed(2)} s`]),
        ),
      );
    }
  } else {
    parts.push('', ...result.rows.map((r) => `- ${r.method}: ${r.detail}`));
  }
  parts.push('', `Protocol: ${result.protocol}`);
  if (result.notes.length > 0) parts.push('', ...result.notes.map((n) => `Note: ${n}`));
  return parts.join('\n');
}

/** The result as a markdown section (table, method details, protocol, notes). */
export function toMarkdown(result: Evaluation, verbose = false): string {
  if (result.task === 'sr') return srMarkdown(result, verbose);
  return result.task === 'colorize' ? colorizeMarkdown(result, verbose) : pairedMarkdown(result, verbose);
}

/**
 * The result as one JSON object; per-image scores only with `verbose`. A PSNR of an image
 * reproduced exactly (infinite) is `null`: JSON has no infinity, and a string would break readers
 * expecting a number.
 */
export function toJson(result: Evaluation, verbose = false): string {
  const rows = (result.rows as { perImage: unknown[] }[]).map((r) => (verbose ? r : { ...r, perImage: undefined }));
  return JSON.stringify({ ...result, rows }, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2);
}
