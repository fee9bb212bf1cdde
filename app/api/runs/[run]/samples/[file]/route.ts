import { guarded, handleRunSample } from '@/lib/server/routes';

/** A training run's sample grid PNG (read-only, names validated). */
export const GET = guarded(async (_request: Request, context: { params: Promise<{ run: string; file: string }> }) => {
  const { run, file } = await context.params;
  return handleRunSample(run, file);
});
