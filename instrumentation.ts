/**
 * Runs once when the Next server starts: loads and warms the models (and checks the limits) before
 * the first request, so that the first user does not pay for it and a broken set-up shows at once.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { limitsOrExit } = await import('@/lib/server/limits');
  if (!limitsOrExit()) return;
  const { checkInferenceSettings, getInferenceService } = await import('@/lib/infer/app-service');
  try {
    checkInferenceSettings();
  } catch (error) {
    // A misspelt setting stops the server as a malformed limit does, rather than a 503 on every request.
    console.error(`[startup] ${(error as Error).message}; fix it and start the server again.`);
    process.exit(1);
  }
  const started = Date.now();
  try {
    const service = await getInferenceService();
    console.log(
      `[startup] ${service.models.length} model(s) loaded (${service.models.map((m) => m.name).join(', ') || 'none'}) ` +
        `on ${service.backend}${service.inWorker ? ' in a worker thread' : ''} in ${Date.now() - started} ms`,
    );
  } catch (error) {
    // The app still serves its pages; the API answers 503 with the reason until it is fixed.
    console.error('[startup] could not load the models:', error);
  }
}
