import { describe, expect, it } from 'vitest';
import { queueHelp } from './wording';

describe('queueHelp', () => {
  it('reads right for one waiting place, several, and none', () => {
    expect(queueHelp(1)).toBe('One image is processed at a time and 1 more can wait in line; when the line is full, try again shortly.');
    expect(queueHelp(8)).toContain('and up to 8 more can wait in line');
    expect(queueHelp(0)).toBe('One image is processed at a time; while one is being processed, try again shortly.');
    for (const n of [0, 1, 2, 8]) expect(queueHelp(n)).not.toMatch(/\b1 are\b/);
  });
});
