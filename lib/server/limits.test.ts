import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS, formatBytes, limitsOrExit, readLimits } from './limits';

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

  it('refuses a unit of the wrong kind (pixels for bytes, bytes for pixels)', () => {
    expect(() => readLimits({ MAX_UPLOAD_BYTES: '16MP' })).toThrow('MAX_UPLOAD_BYTES="16MP" is not valid: MP is a unit of pixels, not bytes');
    expect(() => readLimits({ MAX_INPUT_PIXELS: '16MiB' })).toThrow('MAX_INPUT_PIXELS="16MiB" is not valid: MiB is a unit of bytes, not pixels');
    expect(() => readLimits({ MAX_OUTPUT_PIXELS: '8mb' })).toThrow(/^MAX_OUTPUT_PIXELS="8mb" is not valid: mb is a unit of bytes/);
    // Bare SI prefixes fit both.
    expect(readLimits({ MAX_UPLOAD_BYTES: '5M', MAX_INPUT_PIXELS: '4M' })).toMatchObject({ maxUploadBytes: 5_000_000, maxInputPixels: 4_000_000 });
  });
});

describe('formatBytes', () => {
  it('shows a limit back in the unit it was set in, and labels binary multiples as such', () => {
    expect(formatBytes(readLimits({ MAX_UPLOAD_BYTES: '5MB' }).maxUploadBytes)).toBe('5 MB');
    expect(formatBytes(readLimits({ MAX_UPLOAD_BYTES: '20MiB' }).maxUploadBytes)).toBe('20 MiB');
    expect(formatBytes(DEFAULT_LIMITS.maxUploadBytes)).toBe('20 MiB');
    expect(formatBytes(3_000_000)).toBe('3 MB');
    expect(formatBytes(2.5 * 1024 ** 2)).toBe('2.5 MiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(4_812_345)).toBe('4.59 MiB');
    expect(formatBytes(12)).toBe('12 bytes');
  });
});

describe('limitsOrExit', () => {
  it('stops the process (exit 1) with a message naming the variable when a limit is malformed', () => {
    const exit = vi.fn();
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(limitsOrExit({ MAX_UPLOAD_BYTES: '20MiB' }, exit)).toMatchObject({ maxUploadBytes: 20 * 1024 ** 2 });
      expect(exit).not.toHaveBeenCalled();
      expect(limitsOrExit({ MAX_UPLOAD_BYTES: 'lots' }, exit)).toBeUndefined();
      expect(exit).toHaveBeenCalledWith(1);
      expect(error.mock.calls[0]?.[0]).toMatch(/^\[startup\] MAX_UPLOAD_BYTES="lots" is not valid/);
    } finally {
      error.mockRestore();
    }
  });
});
