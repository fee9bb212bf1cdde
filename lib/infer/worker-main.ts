/**
 * The inference worker's body (started by `worker-service.ts` through `worker-entry.mjs`): one
 * inference service in this thread, so that the app's own thread stays free to answer pages and
 * polls while a model runs. Runs arrive as messages; progress, results and errors go back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createInferenceService, type LoadedInferenceService } from './service';
import type { Progress } from './types';
import { ownBuffer, serializeError, type FromWorker, type ToWorker, type WorkerStartData } from './worker-protocol';

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

function serve(service: LoadedInferenceService): void {
  const controllers = new Map<number, AbortController>();
  parentPort!.on('message', (message: ToWorker) => {
    if (message.type === 'abort') {
      controllers.get(message.id)?.abort();
      return;
    }
    const { id } = message;
    const controller = new AbortController();
    controllers.set(id, controller);
    const input = Buffer.from(message.input.buffer, message.input.byteOffset, message.input.byteLength);
    const common = { signal: controller.signal, onProgress: (progress: Progress) => send({ type: 'progress', id, progress }) };
    const run =
      message.op === 'colorize'
        ? service.colorize(input, { ...message.options, ...common })
        : message.op === 'upscale'
          ? service.upscale(input, { ...message.options, ...common })
          : service.translate(input, { ...message.options, ...common });
    run.then(
      (result) => {
        const png = ownBuffer(result.png);
        send({ type: 'done', id, result: { ...result, png } }, [png.buffer]);
      },
      (error: unknown) => send({ type: 'error', id, error: serializeError(error) }),
    ).finally(() => controllers.delete(id));
  });
}

if (!parentPort) throw new Error('worker-main.ts runs as a worker thread (see worker-service.ts), not on its own.');
const { options } = workerData as WorkerStartData;
// The modules above loaded: from here on a failure is the models' (or the backend's), not the worker's.
send({ type: 'started' });
createInferenceService(options).then(
  (service) => {
    send({
      type: 'ready',
      backend: service.backend,
      backendDetails: service.backendDetails,
      models: [...service.models],
      source: service.source,
      problems: [...service.problems],
    });
    serve(service);
  },
  (error: unknown) => send({ type: 'failed', error: serializeError(error) }),
);
