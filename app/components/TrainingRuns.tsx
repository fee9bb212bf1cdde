/**
 * The parts of the training page that its "run not found" page shares: the introduction and the list
 * of runs. Server components (no interactivity).
 */
import Link from 'next/link';
import type { RunSummary } from '@/lib/server/runs';

/** "12 s ago", "3 min ago", "5 h ago", then the date. */
export function ago(ms: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(ms).toISOString().slice(0, 10);
}

export function TrainingIntro() {
  return (
    <section className="hero">
      <h1>Training runs</h1>
      <p className="lede">
        Loss curves, validation metrics and sample grids of the training runs on this machine. Start one with{' '}
        <code>npm run train -- --task colorize --data &lt;folder&gt;</code>; a live run refreshes here on its own.
      </p>
    </section>
  );
}

/** Id of the run list, for the "All runs" link that narrow screens show above a run. */
export const RUN_LIST_ID = 'runs';

export function RunList({ runs, current, now }: { runs: readonly RunSummary[]; current?: string; now: number }) {
  return (
    <nav aria-label="Training runs" className="run-nav" id={RUN_LIST_ID}>
      <ul className="run-list">
        {runs.map((r) => (
          <li key={r.name}>
            <Link className="run-link" href={`/training?run=${encodeURIComponent(r.name)}`} aria-current={r.name === current ? 'page' : undefined}>
              <span className="run-link-name">
                {r.name} {r.live && <span className="badge live">live</span>}
              </span>
              <span className="run-link-meta">
                {r.task ?? 'run'} · step {r.lastStep ?? 0} · {ago(r.modifiedAt, now)}
              </span>
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
