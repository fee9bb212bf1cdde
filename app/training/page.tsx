import type { Metadata } from 'next';
import Link from 'next/link';
import { connection } from 'next/server';
import { listRuns, readRun, type RunDetail, type TrainPoint } from '@/lib/server/runs';
import { AutoRefresh } from '../components/AutoRefresh';
import { LossChart, type ChartSeries } from '../components/LossChart';

export const metadata: Metadata = { title: 'Training' };

const LOSS_FIELDS: { key: keyof TrainPoint; label: string }[] = [
  { key: 'lossG', label: 'G total' },
  { key: 'lossGGan', label: 'G adversarial' },
  { key: 'lossGL1', label: 'G pixel loss' },
  { key: 'lossD', label: 'D' },
];

function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '–';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round(seconds % 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s} s` : `${s} s`;
}

function formatNumber(value: number | undefined, digits = 4): string {
  if (value === undefined) return '–';
  return Math.abs(value) >= 1000 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(2) : value.toPrecision(digits);
}

function ago(ms: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(ms).toISOString().slice(0, 10);
}

function lossSeries(run: RunDetail): ChartSeries[] {
  return LOSS_FIELDS.filter(({ key }) => run.train.some((p) => p[key] !== undefined)).map(({ key, label }) => ({
    label,
    values: run.train.map((p) => (p[key] as number | undefined) ?? null),
  }));
}

function metricNames(run: RunDetail): string[] {
  return [...new Set(run.val.flatMap((v) => Object.keys(v.metrics)))];
}

function RunView({ run, now }: { run: RunDetail; now: number }) {
  const series = lossSeries(run);
  const metrics = metricNames(run);
  const latestSample = run.samples.at(-1);
  const sampleStep = latestSample ? Number(latestSample.slice(5, 13)) : undefined;
  return (
    <article className="card" aria-labelledby="run-title">
      <header className="result-header">
        <h2 id="run-title">
          {run.name} {run.task && <span className="badge">{run.task}</span>}
        </h2>
        {run.live ? <AutoRefresh seconds={5} /> : <span className="badge">Finished or paused · {ago(run.modifiedAt, now)}</span>}
      </header>

      <dl className="stats">
        <div>
          <dt>Step</dt>
          <dd>{run.lastStep ?? '–'}</dd>
        </div>
        <div>
          <dt>Training time</dt>
          <dd>{formatDuration(run.lastTrain?.elapsedSec)}</dd>
        </div>
        <div>
          <dt>Images / s</dt>
          <dd>{formatNumber(run.lastTrain?.imagesPerSec, 3)}</dd>
        </div>
        <div>
          <dt>Learning rate</dt>
          <dd>{formatNumber(run.lastTrain?.lr, 3)}</dd>
        </div>
        {run.lastVal &&
          Object.entries(run.lastVal.metrics).map(([name, value]) => (
            <div key={name}>
              <dt>Val {name}</dt>
              <dd>{formatNumber(value)}</dd>
            </div>
          ))}
      </dl>

      <h3>Losses</h3>
      {series.length ? (
        <LossChart
          title={`Training losses of ${run.name} by step (log scale)`}
          xLabel="step"
          x={run.train.map((p) => p.step)}
          series={series}
          logScale
        />
      ) : (
        <p className="muted">No training steps logged yet.</p>
      )}

      {metrics.length > 0 && (
        <>
          <h3>Validation</h3>
          {/* One chart per metric: PSNR in dB and ratios near 1 do not share an axis. */}
          <div className="chart-grid">
            {metrics.map((name) => (
              <LossChart
                key={name}
                title={`Validation ${name} of ${run.name} by step`}
                xLabel="step"
                x={run.val.map((v) => v.step)}
                series={[{ label: name, values: run.val.map((v) => v.metrics[name] ?? null) }]}
                height={180}
              />
            ))}
          </div>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Latest validation metrics</caption>
              <thead>
                <tr>
                  <th scope="col">Step</th>
                  {metrics.map((m) => (
                    <th scope="col" key={m}>
                      {m}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {run.val
                  .slice(-5)
                  .reverse()
                  .map((v) => (
                    <tr key={v.step}>
                      <td>{v.step}</td>
                      {metrics.map((m) => (
                        <td key={m}>{formatNumber(v.metrics[m])}</td>
                      ))}
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      <h3 style={{ marginTop: '1.5rem' }}>Latest samples</h3>
      {latestSample ? (
        <figure style={{ margin: 0 }}>
          <img
            className="sample-grid"
            src={`/api/runs/${encodeURIComponent(run.name)}/samples/${latestSample}`}
            alt={`Sample grid of ${run.name} at step ${sampleStep}`}
          />
          <figcaption className="muted small">
            Step {sampleStep} · {run.samples.length} grid{run.samples.length === 1 ? '' : 's'} saved
          </figcaption>
        </figure>
      ) : (
        <p className="muted">No sample grids yet.</p>
      )}

      <h3 style={{ marginTop: '1.5rem' }}>Configuration</h3>
      {run.configError && <p className="alert">{run.configError}</p>}
      {run.config ? (
        <pre className="code config">
          <code>{JSON.stringify(run.config, null, 2)}</code>
        </pre>
      ) : (
        !run.configError && <p className="muted">No config.json in this run.</p>
      )}
      {run.skippedLines > 0 && (
        <p className="muted small">
          {run.skippedLines} log line{run.skippedLines === 1 ? ' was' : 's were'} not readable and skipped.
        </p>
      )}
    </article>
  );
}

export default async function TrainingPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await connection();
  const now = Date.now();
  const runs = await listRuns(undefined, now);
  const requested = (await searchParams).run;
  const selected = typeof requested === 'string' ? requested : runs[0]?.name;
  const run = selected ? await readRun(selected, undefined, now) : undefined;

  return (
    <>
      <section className="hero">
        <h1>Training runs</h1>
        <p className="lede">
          Loss curves, validation metrics and sample grids of the training runs on this machine. Start one with{' '}
          <code>npm run train -- --task colorize --data &lt;folder&gt;</code>; a live run refreshes here on its own.
        </p>
      </section>
      {runs.length === 0 ? (
        <section className="card">
          <h2>No runs yet</h2>
          <p>
            Training runs are read from the runs folder (<code>RUNS_DIR</code>, by default <code>runs/</code> in the project).
            None were found.
          </p>
        </section>
      ) : (
        <div className="runs-layout">
          <nav aria-label="Training runs">
            <ul className="run-list">
              {runs.map((r) => (
                <li key={r.name}>
                  <Link
                    className="run-link"
                    href={`/training?run=${encodeURIComponent(r.name)}`}
                    aria-current={r.name === run?.name ? 'page' : undefined}
                  >
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
          {run ? (
            <RunView run={run} now={now} />
          ) : (
            <section className="card">
              <h2>Run not found</h2>
              <p>There is no run called “{selected}”. Choose one from the list.</p>
            </section>
          )}
        </div>
      )}
    </>
  );
}
