/**
 * What the home page says about a running job's progress, `{ done, total }` as `GET /api/jobs/:id`
 * reports it. Colorizing and upscaling count tiles. Translating counts model runs: for a large photo a
 * thumbnail pass comes before the windows (4 windows report 5), so calling its units tiles would
 * announce a tile that is not there; it says "steps" instead. Pure (no DOM), for the page and tests.
 */

/** The tasks whose jobs report progress (as `ToolOption['task']`). */
export type ProgressTask = 'colorize' | 'upscale' | 'translate';

export interface ProgressCount {
  done: number;
  total: number;
}

/**
 * The unit a task's progress counts: `one` names a single unit, `of(total)` a count of them. Tiles
 * read as they always have ("1 of 1 tiles", which colorizing shows); steps are new, so they agree.
 */
function unit(task: ProgressTask): { one: string; of: (total: number) => string } {
  return task === 'translate' ? { one: 'step', of: (total) => (total === 1 ? 'step' : 'steps') } : { one: 'tile', of: () => 'tiles' };
}

/** The visible line while running: "Processing tile 3 of 12" (the one being worked on), "Processing step 1 of 5". */
export function progressLine(task: ProgressTask, { done, total }: ProgressCount): string {
  return `Processing ${unit(task).one} ${Math.min(done + 1, total)} of ${total}`;
}

/** The progress bar's text for screen readers, and the visible count beside it: "2 of 12 tiles done". */
export function progressValueText(task: ProgressTask, { done, total }: ProgressCount): string {
  return `${done} of ${total} ${unit(task).of(total)} done`;
}

/** The short visible count under the bar: "2 / 12 tiles done", "0 / 5 steps done". */
export function progressCounter(task: ProgressTask, { done, total }: ProgressCount): string {
  return `${done} / ${total} ${unit(task).of(total)} done`;
}

/** Announced once when the work starts: "Processing 12 tiles.", "Processing in 5 steps.", or "Processing." for one. */
export function progressStartAnnouncement(task: ProgressTask, total: number): string {
  if (total <= 1) return 'Processing.';
  return task === 'translate' ? `Processing in ${total} steps.` : `Processing ${total} tiles.`;
}

/** Announced at each quarter (or after a long stretch): "25% done, 3 of 12 tiles.". */
export function progressAnnouncement(task: ProgressTask, { done, total }: ProgressCount): string {
  return `${Math.floor((done / total) * 100)}% done, ${done} of ${total} ${unit(task).of(total)}.`;
}
