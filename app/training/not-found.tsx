import { connection } from 'next/server';
import { listRuns } from '@/lib/server/runs';
import { RunList, TrainingIntro } from '../components/TrainingRuns';

/** `/training?run=<unknown>`: a 404 that still offers the runs there are. */
export default async function RunNotFound() {
  await connection();
  const now = Date.now();
  const runs = await listRuns(undefined, now);
  return (
    <>
      <TrainingIntro />
      <div className="runs-layout">
        <section className="card run-detail" aria-labelledby="not-found-title">
          <h2 id="not-found-title">Run not found</h2>
          <p>
            There is no run by that name in the runs folder.{' '}
            {runs.length ? 'Choose one from the list.' : 'None were found, so there is nothing to show yet.'}
          </p>
        </section>
        {runs.length > 0 && <RunList runs={runs} now={now} />}
      </div>
    </>
  );
}
