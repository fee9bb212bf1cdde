import { describe, expect, it } from 'vitest';
import { progressAnnouncement, progressCounter, progressLine, progressStartAnnouncement, progressValueText, type ProgressTask } from './progress';

/** Everything the page says about one progress report, in the order it shows or speaks it. */
const said = (task: ProgressTask, done: number, total: number) => [
  progressStartAnnouncement(task, total),
  progressLine(task, { done, total }),
  progressValueText(task, { done, total }),
  progressCounter(task, { done, total }),
  progressAnnouncement(task, { done, total }),
];

describe('progress wording', () => {
  it('counts tiles for upscaling and colorizing, in the words the page has always used', () => {
    expect(said('upscale', 3, 12)).toEqual([
      'Processing 12 tiles.',
      'Processing tile 4 of 12',
      '3 of 12 tiles done',
      '3 / 12 tiles done',
      '25% done, 3 of 12 tiles.',
    ]);
    expect(said('colorize', 0, 1)).toEqual(['Processing.', 'Processing tile 1 of 1', '0 of 1 tiles done', '0 / 1 tiles done', '0% done, 0 of 1 tiles.']);
    // The last one being worked on is the last there is, not one past it.
    expect(progressLine('upscale', { done: 12, total: 12 })).toBe('Processing tile 12 of 12');
  });

  it('counts steps, never tiles, for translating: a 4-window photo is a thumbnail pass and 4 windows', () => {
    expect(said('translate', 0, 5)).toEqual([
      'Processing in 5 steps.',
      'Processing step 1 of 5',
      '0 of 5 steps done',
      '0 / 5 steps done',
      '0% done, 0 of 5 steps.',
    ]);
    expect(said('translate', 0, 1)).toEqual(['Processing.', 'Processing step 1 of 1', '0 of 1 step done', '0 / 1 step done', '0% done, 0 of 1 step.']);
    for (const [done, total] of [[0, 1], [2, 5], [9, 10]] as const) {
      for (const text of said('translate', done, total)) expect(text).not.toMatch(/tile/i);
    }
  });
});
