/**
 * Published Y-PSNR figures (dB) for the standard benchmark sets, as quoted in the benchmark data's
 * SOURCES.md (EDSR, ESRGAN and BasicSR tables). Shown beside our measurements, never mixed with
 * them. These tables score Set14's single-channel file on its stored intensities (`--gray stored`).
 */
export interface PublishedScore {
  method: string;
  psnr: number;
}

const TABLES: Record<string, Record<number, PublishedScore[]>> = {
  set5: {
    2: [
      { method: 'bicubic', psnr: 33.66 },
      { method: 'SRCNN', psnr: 36.66 },
      { method: 'EDSR', psnr: 38.11 },
    ],
    4: [
      { method: 'bicubic', psnr: 28.42 },
      { method: 'SRCNN', psnr: 30.48 },
      { method: 'SRResNet', psnr: 32.05 },
      { method: 'EDSR', psnr: 32.46 },
      { method: 'RRDB (ESRGAN generator)', psnr: 32.73 },
    ],
  },
  set14: {
    2: [
      { method: 'bicubic', psnr: 30.24 },
      { method: 'SRCNN', psnr: 32.42 },
      { method: 'EDSR', psnr: 33.92 },
    ],
    4: [
      { method: 'bicubic', psnr: 26.0 },
      { method: 'SRCNN', psnr: 27.49 },
      { method: 'SRResNet', psnr: 28.49 },
      { method: 'EDSR', psnr: 28.8 },
      { method: 'RRDB (ESRGAN generator)', psnr: 28.99 },
    ],
  },
};

const SET_SIZES: Record<string, number> = { set5: 5, set14: 14 };

/**
 * The published figures for a data folder named like a standard set (`Set5`, `Set14`) holding the
 * whole set; undefined for any other folder, or for a partial run (`--limit`).
 */
export function publishedFor(dataDir: string, scale: number, imageCount: number): PublishedScore[] | undefined {
  const name = dataDir.replace(/[/\\]+$/, '').split(/[/\\]/).pop()?.toLowerCase() ?? '';
  if (SET_SIZES[name] !== imageCount) return undefined;
  return TABLES[name]?.[scale];
}
