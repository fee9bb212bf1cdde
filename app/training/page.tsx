import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { connection } from 'next/server';
import { listRuns, readRun, type RunDetail } from '@/lib/server/runs';
import { formatMetric } from '@/lib/ui/format';
import { lossCurves, valCurves } from '@/lib/ui/training-charts';
import { AutoRefresh } from '../components/AutoRefresh';
import { LossChart } from '../components/LossChart';
import { ago, RUN_LIST_ID, RunList, TrainingIntro } from '../components/TrainingRuns';

export const metadata: Metadata = { title: 'Training' };

function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '–';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round(seconds % 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s} s` : `${s} s`;
}

function RunView({ run, now, runCount }: { run: RunDetail; now: number; runCount: number }) {
  const losses = lossCurves(run.train);
  const validation = valCurves(run.val);
  const metrics = validation.series.map((s) => s.label);
  const latestSample = run.samples.at(-1);
  const sampleStep = latestSample ? Number(latestSample.slice(5, 13)) : undefined;
  return (
    <article className="card run-detail" aria-labelledby="run-title">
      <header className="result-header">
        <h2 id="run-title">
          {run.name} {run.task && <span className="badge">{run.task}</span>}
        </h2>
        {run.live ? <AutoRefresh seconds={5} /> : <span className="badge">Finished or paused · {ago(run.modifiedAt, now)}</span>}
        {/* Narrow screens show the run first and the list after it, a long scroll away. */}
        <a className="runs-jump" href={`#${RUN_LIST_ID}`}>
          All runs ({runCount})
        </a>
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
          <dd>{formatMetric(run.lastTrain?.imagesPerSec, 3)}</dd>
        </div>
        <div>
          <dt>Learning rate</dt>
          <dd>{formatMetric(run.lastTrain?.lr, 3)}</dd>
        </div>
        {run.lastVal &&
          Object.entries(run.lastVal.metrics).map(([name, value]) => (
            <div key={name}>
              <dt>Val {name}</dt>
              <dd>{formatMetric(value)}</dd>
            </div>
          ))}
      </dl>

      <h3>Losses</h3>
      {losses.series.length ? (
        <LossChart
          title={`Training losses of ${run.name} by step${losses.logScale ? ' (log scale)' : ''}`}
          xLabel="step"
          x={losses.steps}
          series={losses.series}
          logScale={losses.logScale}
        />
      ) : (
        <p className="muted">No training steps logged yet.</p>
      )}

      {metrics.length > 0 && (
        <>
          <h3>Validation</h3>
          {/* One chart per metric: PSNR in dB and ratios near 1 do not share an axis. */}
          <div className="chart-grid">
            {validation.series.map((series) => (
              <LossChart
                key={series.label}
                title={`Validation ${series.label} of ${run.name} by step`}
                xLabel="step"
                x={validation.steps}
                series={[series]}
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
                {validation.points
                  .slice(-5)
                  .reverse()
                  .map((v) => (
                    <tr key={v.step}>
                      <td>{v.step}</td>
                      {metrics.map((m) => (
                        <td key={m}>{formatMetric(v.metrics[m])}</td>
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
  // Asked for a run that is not there: a real 404, whose page (not-found.tsx) still lists the runs.
  if (selected && !run) notFound();

  return (
    <>
      <TrainingIntro />
      {runs.length === 0 || !run ? (
        <section className="card">
          <h2>No runs yet</h2>
          <p>
            Training runs are read from the runs folder (<code>RUNS_DIR</code>, by default <code>runs/</code> in the project).
            None were found.
          </p>
        </section>
      ) : (
        <div className="runs-layout">
          {/* The selected run comes first, so that on a phone it is not below the whole list. */}
          <RunView run={run} now={now} runCount={runs.length} />
          <RunList runs={runs} current={run.name} now={now} />
        </div>
      )}
    </>
  );
}
