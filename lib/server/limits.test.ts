import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, formatBytes, readLimits } from './limits';

describe('readLimits', () => {
  it('uses the defaults when nothing is set', () => {
    expect(readLimits({})).toEqual(DEFAULT_LIMITS);
    expect(readLimits({ MAX_UPLOAD_BYTES: '  ' })).toEqual(DEFAULT_LIMITS);
  });

  it('reads plain numbers and units', () => {
    const limits = readLimits({
      MAX_UPLOAD_BYTES: '5MiB',
      MAX_INPUT_PIXELS: '12mp',
      MAX_OUTPUT_PIXELS: '9_000_000',
      MAX_QUEUE_LENGTH: '0',
    });
    expect(limits).toEqual({
      maxUploadBytes: 5 * 1024 * 1024,
      maxInputPixels: 12_000_000,
      maxOutputPixels: 9_000_000,
      maxQueueLength: 0,
    });
  });

  it('names the variable when a value is malformed', () => {
    expect(() => readLimits({ MAX_UPLOAD_BYTES: 'lots' })).toThrow(/MAX_UPLOAD_BYTES/);
    expect(() => readLimits({ MAX_INPUT_PIXELS: '10 furlongs' })).toThrow(/MAX_INPUT_PIXELS/);
    expect(() => readLimits({ MAX_OUTPUT_PIXELS: '0' })).toThrow(/MAX_OUTPUT_PIXELS/);
    expect(() => readLimits({ MAX_QUEUE_LENGTH: '-1' })).toThrow(/MAX_QUEUE_LENGTH/);
  });
});

describe('formatBytes', () => {
  it('chooses a readable unit', () => {
    expect(formatBytes(20 * 1024 * 1024)).toBe('20 MB');
    expect(formatBytes(1536)).toBe('1.5 kB');
    expect(formatBytes(12)).toBe('12 bytes');
  });
});
