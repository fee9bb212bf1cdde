import { allowedMethods, guarded, handleRunSample, methodNotAllowed } from '@/lib/server/routes';

/** A training run's sample grid PNG (read-only, names validated). */
export const GET = guarded(async (_request: Request, context: { params: Promise<{ run: string; file: string }> }) => {
  const { run, file } = await context.params;
  return handleRunSample(run, file);
});

/** Other methods: 405 in the JSON error shape, with `Allow`. */
const notAllowed = methodNotAllowed('GET');
export { notAllowed as POST, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
export const OPTIONS = allowedMethods('GET');
