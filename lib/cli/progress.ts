/**
 * A one-line progress bar on stderr for long scripts. On a terminal it redraws in place
 * (throttled); elsewhere (CI logs, pipes) it stays silent between {@link ProgressBar.log} lines so
 * that logs hold one line per event instead of hundreds of redraws.
 */

export interface ProgressBarOptions {
  /** Units of the main count, e.g. `files`, `steps`. */
  unit: string;
  total: number;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Bar width in characters (default 24). */
  width?: number;
  /** Minimum time between redraws, ms (default 100). */
  throttleMs?: number;
  /** Clock for tests. */
  now?: () => number;
}

function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}

export class ProgressBar {
  private done = 0;
  /** Fraction of the current unit (e.g. tiles of the current file), 0..1. */
  private partial = 0;
  private detail = '';
  private lastDraw = -Infinity;
  private drawn = false;
  private readonly start: number;
  private readonly stream: NonNullable<ProgressBarOptions['stream']>;
  private readonly now: () => number;

  constructor(private readonly options: ProgressBarOptions) {
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
  }

  private get interactive(): boolean {
    return Boolean(this.stream.isTTY);
  }

  /**
   * Sets the count of finished units, the fraction of the next one (0..1, e.g. tiles done / tiles)
   * and a short detail (e.g. `photo.jpg tiles 3/9`), then redraws if due.
   */
  update(done: number, partial = 0, detail = ''): void {
    this.done = Math.max(0, Math.min(done, this.options.total));
    this.partial = Math.max(0, Math.min(partial, 1));
    this.detail = detail;
    this.draw(false);
  }

  /** The bar as text (without control characters). */
  render(): string {
    const { total, unit } = this.options;
    const width = this.options.width ?? 24;
    const fraction = total > 0 ? Math.min(1, (this.done + this.partial) / total) : 1;
    const filled = Math.round(fraction * width);
    const elapsed = this.now() - this.start;
    const eta = fraction > 0 && fraction < 1 ? ` eta ${formatDuration((elapsed / fraction) * (1 - fraction))}` : '';
    const line =
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${total} ${unit} ` +
      `${formatDuration(elapsed)}${eta}${this.detail ? `  ${this.detail}` : ''}`;
    const columns = this.stream.columns;
    return columns && line.length > columns - 1 ? line.slice(0, columns - 1) : line;
  }

  private draw(force: boolean): void {
    if (!this.interactive) return;
    const t = this.now();
    if (!force && t - this.lastDraw < (this.options.throttleMs ?? 100)) return;
    this.lastDraw = t;
    this.stream.write(`\r\x1b[2K${this.render()}`);
    this.drawn = true;
  }

  private clear(): void {
    if (this.interactive && this.drawn) this.stream.write('\r\x1b[2K');
  }

  /** Prints a whole line above the bar (the bar is redrawn under it on a terminal). */
  log(line: string): void {
    this.clear();
    this.stream.write(line.endsWith('\n') ? line : line + '\n');
    this.drawn = false;
    this.draw(true);
  }

  /** Removes the bar (terminal) and prints `summary` when given. */
  finish(summary?: string): void {
    this.clear();
    this.drawn = false;
    if (summary) this.stream.write(summary.endsWith('\n') ? summary : summary + '\n');
  }
}
