import { describe, expect, it } from 'vitest';
import { toJson, toMarkdown } from './report';
import type { ColorizeEvaluation, PairedEvaluation, SrEvaluation } from './run';

const score = { image: 'a.png', width: 8, height: 8, psnr: Infinity, ssim: 1, ms: 5, msPerMegapixel: 78125, cpuMs: 4, cpuMsPerMegapixel: 62500 };
const sr: SrEvaluation = {
  task: 'sr',
  scale: 4,
  data: '/data/bench/Set5/',
  images: ['a.png'],
  backend: 'wasm (simd, 1 thread)',
  gray: 'y',
  protocol: 'the protocol',
  rows: [
    { method: 'bicubic', detail: 'MATLAB', psnr: 28.4321, ssim: 0.81109, msPerMegapixel: 512, cpuMsPerMegapixel: 400, perImage: [score] },
    { method: 'oracle', detail: 'HR', psnr: Infinity, ssim: 1, msPerMegapixel: 33000, cpuMsPerMegapixel: 30000, perImage: [score] },
  ],
  notes: ['a note'],
  date: '2025-01-01T00:00:00.000Z',
};

describe('report', () => {
  it('renders SR rows as a markdown table with dB, SSIM and time per output megapixel', () => {
    const md = toMarkdown(sr);
    expect(md).toContain('### Set5 x4 (1 image, wasm (simd, 1 thread))');
    expect(md).toContain('| bicubic | 28.43 | 0.8111 | 512 ms | 400 ms |');
    expect(md).toContain('| oracle | inf | 1.0000 | 33.0 s | 30.0 s |');
    expect(md).toContain('Note: a note');
    expect(md).not.toContain('a.png');
    expect(toMarkdown(sr, true)).toContain('| a.png | 8x8 | inf | 1.0000 |');
    expect(md).not.toContain('Published');
    const withTables = toMarkdown({ ...sr, published: [{ method: 'bicubic', psnr: 28.42 }] });
    expect(withTables).toContain('Published Y-PSNR for Set5 x4 (not measured here');
    expect(withTables).toContain('bicubic 28.42.');
  });

  it('renders JSON with infinities as null (a number or nothing) and per-image scores only when verbose', () => {
    const parsed = JSON.parse(toJson(sr));
    expect(parsed.rows[1].psnr).toBeNull();
    expect(parsed.rows[0].perImage).toBeUndefined();
    expect(JSON.parse(toJson(sr, true)).rows[0].perImage[0].image).toBe('a.png');
  });

  it('renders colorize rows with the originals as the reference row and no "-0.00"', () => {
    const colorize: ColorizeEvaluation = {
      task: 'colorize',
      data: 'photos',
      images: ['p.jpg'],
      backend: 'cpu',
      protocol: 'p',
      reference: { colourfulness: 40, meanA: 2.5, meanB: 12 },
      rows: [
        {
          method: 'gray input',
          detail: 'L only',
          psnr: 22.3,
          ssim: 0.88,
          colourfulnessRatio: 0,
          colourfulness: 0,
          meanA: -0.0001,
          meanB: 0.0001,
          msPerMegapixel: 0,
          cpuMsPerMegapixel: 0,
          perImage: [],
        },
      ],
      notes: [],
      date: '2025-01-01T00:00:00.000Z',
    };
    const md = toMarkdown(colorize);
    expect(md).toContain('| gray input | 22.30 | 0.8800 | 0.0 (0.00) | 0.00 | 0.00 | 0 ms | 0 ms |');
    expect(md).toContain('| original (reference) |  |  | 40.0 (1.00) | 2.50 | 12.00 |  |  |');
  });

  it('renders paired rows with the direction and layout in the heading, per-image rows only when verbose', () => {
    const paired: PairedEvaluation = {
      task: 'paired',
      data: '/tmp/held-out/',
      direction: 'BtoA',
      layout: 'folders',
      images: ['a.png'],
      backend: 'cpu',
      protocol: 'p',
      rows: [
        { method: 'input (identity)', detail: 'the input', psnr: 11.234, ssim: 0.31234, msPerMegapixel: 0.2, cpuMsPerMegapixel: 0.1, perImage: [score] },
        { method: 'ours (m)', detail: 'm from x', psnr: 19.876, perfectImages: 1, ssim: 0.65, msPerMegapixel: 2900, cpuMsPerMegapixel: 3100, perImage: [score] },
      ],
      notes: ['ours (m) reproduced a.png exactly'],
      date: '2025-01-01T00:00:00.000Z',
    };
    const md = toMarkdown(paired);
    expect(md).toContain('### Paired B->A: held-out (1 pair, A/ and B/, cpu)');
    expect(md).toContain('| method | PSNR-RGB (dB) | SSIM-RGB | per output MP: wall | CPU |');
    expect(md).toContain('| input (identity) | 11.23 | 0.3123 | 0 ms | 0 ms |');
    expect(md).toContain('| ours (m) | 19.88 | 0.6500 | 2.9 s | 3.1 s |');
    expect(md).toContain('- ours (m): m from x');
    expect(md).toContain('Note: ours (m) reproduced a.png exactly');
    expect(md).not.toContain('a.png |');
    expect(toMarkdown(paired, true)).toContain('| a.png | 8x8 | inf | 1.0000 | 0.01 s | 0.00 s |');
    expect(toMarkdown({ ...paired, direction: 'AtoB', layout: 'side-by-side' })).toContain('### Paired A->B: held-out (1 pair, side by side, cpu)');
    const json = JSON.parse(toJson(paired));
    expect(json).toMatchObject({ task: 'paired', direction: 'BtoA', layout: 'folders' });
    expect(json.rows[1]).toMatchObject({ psnr: 19.876, perfectImages: 1 });
    expect(json.rows[0].perImage).toBeUndefined();
  });
});
