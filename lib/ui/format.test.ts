import { describe, expect, it } from 'vitest';
import { formatBytes, formatMetric } from './format';

describe('formatBytes', () => {
  it('labels a number in the unit family it was set in, or in that of the number given as `like`', () => {
    expect(formatBytes(20 * 1024 ** 2)).toBe('20 MiB');
    expect(formatBytes(5_000_000)).toBe('5 MB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(512)).toBe('512 bytes');
    // A file just over a decimal limit must read as over it, not as "19.55 MiB" beside "20 MB".
    expect(formatBytes(20_500_000, 20_000_000)).toBe('20.5 MB');
    expect(formatBytes(20_500_000, 20 * 1024 ** 2)).toBe('19.55 MiB');
  });
});

describe('formatMetric', () => {
  it('4 significant digits, exponent notation when tiny or huge, a dash for none', () => {
    expect(formatMetric(27.3199)).toBe('27.32');
    expect(formatMetric(0.0002)).toBe('2.00e-4');
    expect(formatMetric(12345)).toBe('1.23e+4');
    expect(formatMetric(0)).toBe('0.000');
    expect(formatMetric(undefined)).toBe('–');
    expect(formatMetric(null)).toBe('–');
  });
});
