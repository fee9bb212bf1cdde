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
});

describe('formatBytes', () => {
  it('chooses a readable unit', () => {
    expect(formatBytes(20 * 1024 * 1024)).toBe('20 MB');
    expect(formatBytes(1536)).toBe('1.5 kB');
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
