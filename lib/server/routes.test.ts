/**
 * The HTTP layer over a fake inference service: statuses and the JSON error shape for what the
 * e2e tests cannot provoke against real models (422 unusable images, 503 when the queue is full,
 * 404 for a missing model), and cancellation of a queued job.
 */
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InputError, type InferenceResult, type InferenceService, type ModelSummary } from '@/lib/infer/types';
import type { BackendInfo } from '@/lib/tf/backend-choice';

/** What the fake service does with the next calls; tests set it. */
const fake = vi.hoisted(() => ({
  behaviour: undefined as undefined | ((signal?: AbortSignal, options?: { onProgress?: (p: { done: number; total: number; elapsedMs: number }) => void }) => Promise<unknown>),
  models: [] as ModelSummary[],
  lastUpscaleOptions: undefined as undefined | { ensemble?: boolean },
  lastColorizeOptions: undefined as undefined | { colourStrength?: number },
  lastTranslateOptions: undefined as undefined | { model?: string; maxInputPixels?: number },
  loadError: undefined as undefined | Error,
  source: '/srv/models',
  problems: [] as string[],
}));

vi.mock('@/lib/infer/app-service', () => ({
  getInferenceService: async (): Promise<InferenceService & { source: string; problems: string[]; backendDetails: BackendInfo }> => {
    if (fake.loadError) throw fake.loadError;
    return {
      backend: 'cpu',
      get models() {
        return fake.models;
      },
      get source() {
        return fake.source;
      },
      get problems() {
        return fake.problems;
      },
      // What the service's own thread (the worker's) initialised, not this thread's backend.
      backendDetails: { name: 'cpu', fallbacks: ['wasm: from the fake service'] },
      colorize: (_input, options) => {
        fake.lastColorizeOptions = options;
        return fake.behaviour!(options?.signal, options) as Promise<InferenceResult>;
      },
      upscale: (_input, options) => {
        fake.lastUpscaleOptions = options;
        return fake.behaviour!(options?.signal, options) as Promise<InferenceResult>;
      },
      translate: (_input, options) => {
        fake.lastTranslateOptions = options;
        return fake.behaviour!(options?.signal, options) as Promise<InferenceResult>;
      },
    };
  },
}));

const {
  allowedMethods,
  handleHealth,
  handleToolRequest,
  handleTranslateRequest,
  handleCreateJob,
  handleGetJob,
  handleCancelJob,
  handleJobResult,
  handleUnknownApiPath,
  guarded,
  methodNotAllowed,
  parseColorizeQuery,
  parseTranslateQuery,
  parseUpscaleQuery,
} = await import('./routes');
const { appQueue, modelFor, resultFileName, toolCost } = await import('./inference');
const { JobStore } = await import('./jobs');

const summary = (name: string, task: ModelSummary['task'], scale: number): ModelSummary => ({
  name,
  task,
  scale,
  inputChannels: task === 'colorize' ? 1 : 3,
  outputChannels: task === 'colorize' ? 2 : 3,
  metrics: {},
});

function upload(fields: Record<string, string> = {}, url = 'http://localhost/api/x', bytes = new Uint8Array([1, 2, 3])): Request {
  const form = new FormData();
  form.set('image', new Blob([bytes], { type: 'image/png' }), 'photo.png');
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return new Request(url, { method: 'POST', body: form });
}

const colorize = guarded((request: Request) => handleToolRequest(request, { task: 'colorize' }));
const upscale4 = guarded((request: Request) => handleToolRequest(request, { task: 'upscale', scale: 4 }));

function result(): InferenceResult {
  return { png: Buffer.from([137, 80, 78, 71]), width: 8, height: 6, inputWidth: 8, inputHeight: 6, model: 'colorize', backend: 'cpu', ms: 12.4 };
}

/** A promise the test resolves, for a task that must stay running. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

beforeEach(() => {
  fake.models = [summary('colorize', 'colorize', 1), summary('sr-x2', 'sr', 2)];
  fake.behaviour = async () => result();
  fake.source = '/srv/models';
  fake.problems = [];
  fake.lastTranslateOptions = undefined;
});
afterEach(() => {
  expect(appQueue().running).toBe(0);
});

describe('tool routes', () => {
  it('answers the PNG with detail headers', async () => {
    const response = await colorize(upload());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-model')).toBe('colorize');
    expect(response.headers.get('x-backend')).toBe('cpu');
    expect(response.headers.get('x-elapsed-ms')).toBe('12');
    expect(response.headers.get('x-input-size')).toBe('8x6');
    expect(response.headers.get('content-disposition')).toContain('photo-colorized.png');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array([137, 80, 78, 71]));
  });

  it('maps the input error codes to 415, 413 and 422 with the JSON shape', async () => {
    const cases = [
      ['unsupported_image', 415],
      ['too_large', 413],
      ['unusable_image', 422],
    ] as const;
    for (const [code, status] of cases) {
      fake.behaviour = async () => {
        throw new InputError(code, 'The image has no pixels (0x0).');
      };
      const response = await colorize(upload());
      expect(response.status).toBe(status);
      const body = await response.json();
      expect(body.error).toBe(code);
      expect(typeof body.message).toBe('string');
    }
  });

  it('answers 404 when no model serves the tool, without touching the service', async () => {
    fake.behaviour = vi.fn();
    const response = await upscale4(upload());
    expect(response.status).toBe(404);
    expect((await response.json()).error).toBe('model_unavailable');
    expect(fake.behaviour).not.toHaveBeenCalled();
  });

  it('answers 500 (not a crash) for an unexpected failure, without leaking its details', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    fake.behaviour = async () => {
      throw new Error('tensor shape mismatch in layer conv_7');
    };
    const response = await colorize(upload());
    expect(response.status).toBe(500);
    const body = await response.json();
    expect(body.error).toBe('internal');
    expect(body.message).not.toContain('conv_7');
    spy.mockRestore();
  });

  it('refuses another tool\'s form fields on /api/colorize and /api/upscale (400) instead of ignoring them', async () => {
    fake.models = [summary('colorize', 'colorize', 1), summary('sr-x4', 'sr', 4)];
    fake.behaviour = vi.fn(async () => result());
    const cases: [typeof colorize, Record<string, string>, string][] = [
      [colorize, { model: 'colorize' }, 'Colorizing takes no model field; it applies to /api/translate only.'],
      [colorize, { scale: '4' }, 'Colorizing takes no scale field; it applies to /api/upscale only.'],
      [colorize, { ensemble: 'true' }, 'Colorizing takes no ensemble field; it applies to /api/upscale only.'],
      [upscale4, { model: 'sr-x4' }, 'Upscaling takes no model field; it applies to /api/translate only.'],
      // An empty value is no excuse: the field was sent, so the sender meant something by it.
      [upscale4, { model: '' }, 'Upscaling takes no model field; it applies to /api/translate only.'],
      // Their own options are read from the URL: one in the form would not be applied.
      [colorize, { variant: 'vivid' }, 'Give variant in the URL (/api/colorize?variant=...), not as a form field: this endpoint takes only the image from the form.'],
      [upscale4, { scale: '2' }, 'Give scale in the URL (/api/upscale?scale=...), not as a form field: this endpoint takes only the image from the form.'],
      [upscale4, { ensemble: 'true' }, 'Give ensemble in the URL (/api/upscale?ensemble=...), not as a form field: this endpoint takes only the image from the form.'],
    ];
    for (const [endpoint, fields, message] of cases) {
      const response = await endpoint(upload(fields));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'bad_request', message });
    }
    expect(fake.behaviour).not.toHaveBeenCalled();
    // Fields no tool takes still pass as before.
    expect((await colorize(upload({ note: 'x' }))).status).toBe(200);
    expect((await upscale4(upload({ note: 'x' }))).status).toBe(200);
  });

  it('answers 503 with Retry-After once the queue is full, and recovers', async () => {
    const hold = gate();
    fake.behaviour = () => hold.promise.then(result);
    const max = appQueue().maxWaiting;
    // One running plus `max` waiting fill the queue.
    const accepted = Array.from({ length: max + 1 }, () => colorize(upload()));
    await vi.waitFor(() => expect(appQueue().waiting).toBe(max));
    const refused = await colorize(upload());
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await refused.json()).error).toBe('busy');
    hold.open();
    expect((await Promise.all(accepted)).map((r) => r.status)).toEqual(Array(max + 1).fill(200));
    expect((await colorize(upload())).status).toBe(200);
  });
});

describe('translate (paired models)', () => {
  const translate = guarded(handleTranslateRequest);
  const paired = (name: string, description?: string): ModelSummary => ({ ...summary(name, 'paired', 1), ...(description ? { description } : {}) });
  const translateResult = (model: string): InferenceResult => ({ ...result(), model });
  const post = (fields: Record<string, string> = {}, query = '') => upload(fields, `http://localhost/api/translate${query}`);

  /** The JSON error a refused request answers, after checking that the model never ran. */
  async function refusal(response: Response, status: number) {
    expect(response.status).toBe(status);
    expect(fake.lastTranslateOptions).toBeUndefined();
    return (await response.json()) as { error: string; message: string };
  }

  beforeEach(() => {
    fake.behaviour = async (_signal, options) => translateResult((options as { model?: string }).model ?? '?');
  });

  it('runs the one paired model when none is named, and names the file after the translation', async () => {
    fake.models = [summary('colorize', 'colorize', 1), paired('maps')];
    const response = await translate(post());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('x-model')).toBe('maps');
    expect(response.headers.get('x-input-size')).toBe('8x6');
    expect(response.headers.get('x-output-size')).toBe('8x6');
    expect(response.headers.get('content-disposition')).toContain('filename="photo-translated-maps.png"');
    // The service is always told which model: it never picks (or refuses) a default itself.
    expect(fake.lastTranslateOptions).toMatchObject({ model: 'maps', maxInputPixels: expect.any(Number) });
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array([137, 80, 78, 71]));
  });

  it('runs the model named by the form field or by ?model= among several', async () => {
    fake.models = [paired('facades'), paired('maps'), summary('colorize', 'colorize', 1)];
    const byField = await translate(post({ model: 'maps' }));
    expect(byField.status).toBe(200);
    expect(fake.lastTranslateOptions?.model).toBe('maps');
    const byQuery = await translate(post({}, '?model=facades'));
    expect(byQuery.status).toBe(200);
    expect(fake.lastTranslateOptions?.model).toBe('facades');
    expect(byQuery.headers.get('content-disposition')).toContain('photo-translated-facades.png');
    expect(parseTranslateQuery('http://x/api/translate?model=maps')).toEqual({ task: 'translate', model: 'maps' });
    expect(parseTranslateQuery('http://x/api/translate')).toEqual({ task: 'translate' });
  });

  it('answers 400 naming the models when several are paired and none is named', async () => {
    fake.models = [paired('maps'), paired('facades'), summary('sr-x2', 'sr', 2)];
    const body = await refusal(await translate(post()), 400);
    expect(body).toEqual({ error: 'bad_request', message: 'Several paired models are installed (facades, maps): name the one to use with model=NAME.' });
    // Jobs say the same, before any job is made.
    await expect(handleCreateJob(upload({ task: 'translate' }))).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^Several paired models/) });
  });

  it('answers 404 for a model name that is not installed, like a missing variant', async () => {
    fake.models = [paired('maps'), summary('colorize', 'colorize', 1)];
    const body = await refusal(await translate(post({ model: 'mpas' })), 404);
    expect(body).toEqual({ error: 'model_unavailable', message: 'No model named "mpas" is installed on this server (paired models here: maps).' });
    await expect(handleCreateJob(upload({ task: 'translate', model: 'mpas' }))).rejects.toMatchObject({ status: 404, code: 'model_unavailable' });
  });

  it('refuses with 400 a model that is not a paired one, saying what it is', async () => {
    fake.models = [paired('maps'), summary('colorize', 'colorize', 1), summary('sr-x2', 'sr', 2)];
    const body = await refusal(await translate(post({ model: 'sr-x2' })), 400);
    expect(body.error).toBe('bad_request');
    expect(body.message).toBe('Model "sr-x2" is a super-resolution x2 model, not paired: translating runs models trained with --task paired (paired models here: maps).');
    await expect(handleCreateJob(upload({ task: 'translate', model: 'colorize' }))).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^Model "colorize" is a colorize model, not paired/) });
  });

  it('answers 404 when no paired model is installed, and 503 when no model at all', async () => {
    const body = await refusal(await translate(post()), 404);
    expect(body).toEqual({ error: 'model_unavailable', message: 'No model for Translate is installed on this server: it runs models trained with --task paired.' });
    expect((await refusal(await translate(post({ model: 'colorize' })), 400)).message).toMatch(/\(none of the models here is paired\)\.$/);
    fake.models = [];
    fake.source = path.join(os.tmpdir(), `no-such-models-${process.pid}`);
    const none = await refusal(await translate(post({ model: 'maps' })), 503);
    expect(none.error).toBe('model_unavailable');
    expect(none.message).toContain(fake.source);
  });

  it('answers 404 when the service itself finds no such model (e.g. it changed under the request)', async () => {
    fake.models = [paired('maps')];
    fake.behaviour = async () => {
      throw Object.assign(new Error('No model named "maps" is loaded (available: none).'), { name: 'ModelUnavailableError' });
    };
    const response = await translate(post());
    expect(response.status).toBe(404);
    expect((await response.json()).error).toBe('model_unavailable');
  });

  it('maps the input errors to 415, 413 and 422 as for the other tools', async () => {
    fake.models = [paired('maps')];
    for (const [code, status] of [['unsupported_image', 415], ['too_large', 413], ['unusable_image', 422]] as const) {
      fake.behaviour = async () => {
        throw new InputError(code, 'The image is 5000x5000 = 25 MP, over the 16 MP limit.');
      };
      const response = await translate(post());
      expect(response.status).toBe(status);
      expect((await response.json()).error).toBe(code);
    }
  });

  it('refuses a malformed or doubly given model and the other tools\' options, instead of ignoring them', async () => {
    fake.models = [paired('maps'), paired('facades')];
    const cases: [Request, RegExp][] = [
      [post({ model: 'maps' }, '?model=maps'), /^Name the model once/],
      [post({}, '?model=maps&model=facades'), /\?model= only once/],
      [post({ model: '' }), /^The model must be a model name/],
      [post({}, '?model=..%2Fsecrets'), /^The model must be a model name/],
      [post({}, '?model=a%00b'), /^The model must be a model name/],
      [post({ model: 'maps' }, '?scale=4'), /^Translating takes no \?scale=; it applies to \/api\/upscale only\.$/],
      [post({ model: 'maps' }, '?variant=sharp'), /^Translating takes no \?variant=; it applies to \/api\/colorize and \/api\/upscale only\.$/],
      [post({ model: 'maps', ensemble: 'true' }), /^Translating takes no ensemble field; it applies to \/api\/upscale only\.$/],
    ];
    for (const [request, message] of cases) {
      const body = await refusal(await translate(request), 400);
      expect(body.message).toMatch(message);
    }
    // ...and the other way round: a model name means nothing to colorize or upscale.
    expect(() => parseColorizeQuery('http://x/api/colorize?model=colorize-vivid')).toThrow('Colorizing takes no ?model=; it applies to /api/translate only.');
    expect(() => parseUpscaleQuery('http://x/api/upscale?scale=2&model=sr-x2')).toThrow('Upscaling takes no ?model=; it applies to /api/translate only.');
    await expect(handleCreateJob(upload({ task: 'colorize', model: 'colorize-vivid' }))).rejects.toMatchObject({ status: 400, message: 'Colorizing takes no model; that field applies to task=translate only.' });
    await expect(handleCreateJob(upload({ task: 'translate', scale: '2' }))).rejects.toMatchObject({ status: 400, message: 'Translating takes no scale; that field applies to task=upscale only.' });
    await expect(handleCreateJob(upload({ task: 'translate', model: '.hidden' }))).rejects.toMatchObject({ status: 400, message: /^The model must be a model name/ });
  });

  it('runs as a job with progress, named after the model it resolved to, and cancels through its signal', async () => {
    fake.models = [paired('maps')];
    const running = gate();
    let seenSignal: AbortSignal | undefined;
    fake.behaviour = (signal, options) =>
      new Promise((_resolve, reject) => {
        seenSignal = signal;
        options?.onProgress?.({ done: 1, total: 4, elapsedMs: 10.4 });
        running.open();
        signal?.addEventListener('abort', () => setTimeout(() => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), 10));
      });
    const created = await handleCreateJob(upload({ task: 'translate' }));
    expect(created.status).toBe(202);
    const job = await created.json();
    // Named after the one paired model although the request left it implied.
    expect(job).toMatchObject({ fileName: 'photo-translated-maps.png', tool: { task: 'translate', model: 'maps' } });
    await running.promise;
    await vi.waitFor(async () => expect((await (await handleGetJob(job.id)).json()).progress).toEqual({ done: 1, total: 4, elapsedMs: 10 }));
    expect(fake.lastTranslateOptions?.model).toBe('maps');
    expect((await (await handleCancelJob(job.id)).json()).status).toBe('cancelled');
    expect(seenSignal?.aborted).toBe(true);
    await vi.waitFor(() => expect(appQueue().running).toBe(0));
    const cancelled = await handleJobResult(job.id);
    expect(cancelled.status).toBe(409);
    expect((await cancelled.json()).error).toBe('cancelled');
  });

  it('delivers a finished job\'s PNG', async () => {
    fake.models = [paired('maps'), paired('facades')];
    const { id } = await (await handleCreateJob(upload({ task: 'translate', model: 'facades' }))).json();
    await vi.waitFor(async () => expect((await (await handleGetJob(id)).json()).status).toBe('done'));
    const response = await handleJobResult(id);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-model')).toBe('facades');
    expect(response.headers.get('content-disposition')).toContain('photo-translated-facades.png');
  });

  it('sends a model name beyond ASCII percent-encoded in X-Model, instead of a 500 after the work (also for a job\'s result)', async () => {
    // A folder (or MODELS_DIR link) name: Headers refuse characters above U+00FF outright, and send
    // U+0080..U+00FF as raw Latin-1 bytes that no client reads back as UTF-8.
    const cyrillic = 'карта эскиз';
    fake.models = [paired(cyrillic), paired('café'), paired('maps')];
    const asciiOnly = (response: Response) => {
      for (const [name, value] of response.headers) expect(`${name}: ${value}`).toMatch(/^[\x20-\x7e]*$/);
    };
    const response = await translate(post({ model: cyrillic }));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-model')).toBe('%D0%BA%D0%B0%D1%80%D1%82%D0%B0%20%D1%8D%D1%81%D0%BA%D0%B8%D0%B7');
    expect(decodeURIComponent(response.headers.get('x-model')!)).toBe(cyrillic);
    expect(response.headers.get('content-disposition')).toBe(
      `inline; filename="photo-translated-_____-_____.png"; filename*=UTF-8''${encodeURIComponent('photo-translated-карта-эскиз.png')}`,
    );
    asciiOnly(response);
    const latin1 = await translate(post({ model: 'café' }));
    expect(latin1.headers.get('x-model')).toBe('caf%C3%A9');
    asciiOnly(latin1);
    // A plain name goes out as it is.
    expect((await translate(post({ model: 'maps' }))).headers.get('x-model')).toBe('maps');

    const { id } = await (await handleCreateJob(upload({ task: 'translate', model: cyrillic }))).json();
    await vi.waitFor(async () => expect((await (await handleGetJob(id)).json()).status).toBe('done'));
    const fetched = await guarded(handleJobResult)(id);
    expect(fetched.status).toBe(200);
    expect(decodeURIComponent(fetched.headers.get('x-model')!)).toBe(cyrillic);
    asciiOnly(fetched);
  });

  it('keeps odd characters of a model name out of the file name', () => {
    expect(resultFileName('photo', { task: 'translate', model: 'my maps (v2)' })).toBe('photo-translated-my-maps-v2.png');
    expect(resultFileName('photo', { task: 'translate', model: 'photo→sketch' })).toBe('photo-translated-photo-sketch.png');
    expect(resultFileName('photo', { task: 'translate' })).toBe('photo-translated.png');
    expect(modelFor([paired('maps'), paired('facades')], { task: 'translate' })).toBeUndefined();
    expect(modelFor([paired('maps')], { task: 'translate' })?.name).toBe('maps');
    expect(modelFor([summary('colorize', 'colorize', 1)], { task: 'translate', model: 'colorize' })).toBeUndefined();
  });
});

describe('health', () => {
  it('is never cached, also when the models could not be loaded (503 with Retry-After)', async () => {
    const ok = await handleHealth();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect((await ok.json()).backendDetails).toEqual({ name: 'cpu', fallbacks: ['wasm: from the fake service'] });
    fake.loadError = new Error('no models');
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const down = await handleHealth();
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('30');
      expect(down.headers.get('cache-control')).toBe('no-store');
      expect((await down.json()).status).toBe('unavailable');
    } finally {
      fake.loadError = undefined;
      error.mockRestore();
    }
  });

  it('answers 503 model_unavailable naming the models folder when no model loaded (a missing folder is no "ok")', async () => {
    fake.models = [];
    fake.source = path.join(os.tmpdir(), `no-such-models-${process.pid}`);
    const missing = await handleHealth();
    expect(missing.status).toBe(503);
    const body = await missing.json();
    expect(body).toMatchObject({ status: 'unavailable', error: 'model_unavailable', problems: [] });
    expect(body.message).toContain(`the models folder ${fake.source} does not exist`);
    // The tools say the same, not "no model for this tool".
    const refused = await colorize(upload());
    expect(refused.status).toBe(503);
    expect((await refused.json()).message).toContain(fake.source);
    await expect(handleCreateJob(upload({ task: 'colorize' }))).rejects.toMatchObject({ status: 503, code: 'model_unavailable' });

    fake.source = os.tmpdir();
    fake.problems = [`${path.join(os.tmpdir(), 'broken')}: Cannot parse model.json: Unexpected token\n    at JSON.parse`];
    const broken = await handleHealth();
    expect(broken.status).toBe(503);
    const brokenBody = await broken.json();
    expect(brokenBody.message.startsWith(`No model could be loaded from ${os.tmpdir()}: its one model folder failed`)).toBe(true);
    expect(brokenBody.problems).toEqual(['broken: Cannot parse model.json: Unexpected token']);
  });

  it('lists the model folders that failed to load while the others serve', async () => {
    fake.problems = [`${fake.source}/half-copied: Cannot read weights.bin`];
    const response = await handleHealth();
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', models: ['colorize', 'sr-x2'], problems: ['half-copied: Cannot read weights.bin'] });
  });
});

describe('methods and paths that are no endpoint', () => {
  it('answers 405 in the JSON error shape with Allow, and OPTIONS lists only the served methods', async () => {
    const refused = await methodNotAllowed('GET', 'DELETE')(new Request('http://x/api/jobs/1', { method: 'PUT' }));
    expect(refused.status).toBe(405);
    expect(refused.headers.get('allow')).toBe('GET, DELETE, HEAD, OPTIONS');
    expect(await refused.json()).toEqual({ error: 'method_not_allowed', message: 'PUT is not supported here; use GET or DELETE.' });
    const options = await allowedMethods('POST')();
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('answers 404 in the JSON error shape for an unknown API path', async () => {
    const response = await handleUnknownApiPath(new Request('http://x/api/colourise'));
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await response.json()).error).toBe('not_found');
  });
});

describe('jobs', () => {
  async function waitForStatus(id: string, statuses: string[]) {
    let view: { status: string } = { status: '' };
    await vi.waitFor(async () => {
      view = await (await handleGetJob(id)).json();
      expect(statuses).toContain(view.status);
    });
    return view;
  }

  it('reports progress and cancels a running job through its signal; its elapsedMs and progress stop at the cancel', async () => {
    let seenSignal: AbortSignal | undefined;
    fake.behaviour = (signal, options) =>
      new Promise((_resolve, reject) => {
        seenSignal = signal;
        options?.onProgress?.({ done: 1, total: 5, elapsedMs: 1 });
        // The core stops at the next tile, a moment after the cancel, reporting that tile first.
        signal?.addEventListener('abort', () =>
          setTimeout(() => {
            options?.onProgress?.({ done: 2, total: 5, elapsedMs: 2 });
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
          }, 30),
        );
      });
    const created = await handleCreateJob(upload({ task: 'upscale', scale: '2' }));
    expect(created.status).toBe(202);
    const { id, fileName } = await created.json();
    expect(fileName).toBe('photo-x2.png');
    await waitForStatus(id, ['running']);
    const cancelled = await (await handleCancelJob(id)).json();
    expect(cancelled.status).toBe('cancelled');
    expect(seenSignal?.aborted).toBe(true);
    await vi.waitFor(() => expect(appQueue().running).toBe(0));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const after = await (await handleGetJob(id)).json();
    expect(after.elapsedMs).toBe(cancelled.elapsedMs);
    expect(after.progress).toMatchObject({ done: 1, total: 5 });
  });

  it('reports times in whole milliseconds', async () => {
    fake.behaviour = async (_signal, options) => {
      options?.onProgress?.({ done: 1, total: 2, elapsedMs: 12.3456 });
      return result();
    };
    const { id } = await (await handleCreateJob(upload({ task: 'colorize' }))).json();
    const view = (await waitForStatus(id, ['done'])) as { progress?: { elapsedMs: number }; result?: { ms: number } };
    expect(view.progress?.elapsedMs).toBe(12);
    expect(view.result?.ms).toBe(12);
  });

  it('finds a job by its id in upper case too', async () => {
    const { id } = await (await handleCreateJob(upload({ task: 'colorize' }))).json();
    await waitForStatus(id, ['done']);
    const upper = await handleGetJob(String(id).toUpperCase());
    expect(upper.status).toBe(200);
    expect((await upper.json()).id).toBe(id);
    expect((await handleJobResult(String(id).toUpperCase())).status).toBe(200);
  });

  it('keeps an unfetched result while more jobs finish, and says the rule when a job is gone', async () => {
    const first = (await (await handleCreateJob(upload({ task: 'colorize' }))).json()).id as string;
    await waitForStatus(first, ['done']);
    for (let i = 0; i < 13; i++) {
      const { id } = await (await handleCreateJob(upload({ task: 'colorize' }))).json();
      await waitForStatus(id, ['done']);
    }
    expect((await handleJobResult(first)).status).toBe(200);
    const gone = await guarded(handleGetJob)('00000000-0000-4000-8000-000000000000');
    expect(gone.status).toBe(404);
    expect((await gone.json()).message).toMatch(/^There is no such job; finished jobs are kept for ten minutes \(at least one minute when more than 256 MiB of results or 500 jobs are kept\)\.$/);
  });

  it('over its byte budget drops the oldest finished jobs, fetched ones first, but none within the minimum time', async () => {
    const store = new JobStore({ ttlMs: 60_000, minKeepMs: 1_000, maxResultBytes: 12, maxFinished: 100 });
    fake.behaviour = async () => ({ ...result(), png: Buffer.alloc(6) });
    const [oldUnfetched, fetched, young] = [
      await store.create({ task: 'colorize' }, Buffer.from([1]), 'a'),
      await store.create({ task: 'colorize' }, Buffer.from([1]), 'b'),
      await store.create({ task: 'colorize' }, Buffer.from([1]), 'c'),
    ];
    await vi.waitFor(() => expect([oldUnfetched, fetched, young].map((j) => j!.status)).toEqual(['done', 'done', 'done']));
    const now = Date.now();
    oldUnfetched!.finishedAt = now - 5_000;
    fetched!.finishedAt = now - 4_000;
    young!.finishedAt = now - 10;
    store.markFetched(fetched!);
    // 18 bytes over a budget of 12: dropping the fetched one is enough, although it is not the oldest.
    store.evict(now);
    expect([oldUnfetched, fetched, young].map((j) => store.get(j!.id) !== undefined)).toEqual([true, false, true]);
    // Tighter: the young one stays even over budget.
    const tight = new JobStore({ minKeepMs: 1_000, maxResultBytes: 1 });
    const job = await tight.create({ task: 'colorize' }, Buffer.from([1]), 'd');
    await vi.waitFor(() => expect(job.status).toBe('done'));
    tight.evict(job.finishedAt! + 999);
    expect(tight.get(job.id)).toBe(job);
    tight.evict(job.finishedAt! + 1_001);
    // After the minimum time the over-budget result goes.
    expect(tight.get(job.id)).toBeUndefined();
    // And after the TTL everything goes.
    store.evict(now + 61_000);
    expect(store.get(young!.id)).toBeUndefined();
  });

  it('runs a named variant when it is installed; 404 for a missing one, 400 for a malformed one', async () => {
    fake.models = [{ ...summary('sr-x2-sharp', 'sr', 2), variant: 'sharp' }, summary('sr-x2', 'sr', 2)];
    fake.behaviour = async () => result();
    const { id, fileName } = await (await handleCreateJob(upload({ task: 'upscale', scale: '2', variant: 'sharp' }))).json();
    expect(fileName).toBe('photo-x2-sharp.png');
    await waitForStatus(id, ['done']);
    await expect(handleCreateJob(upload({ task: 'upscale', scale: '2', variant: 'dreamy' }))).rejects.toMatchObject({ status: 404, message: expect.stringMatching(/Upscale ×2 \(dreamy\)/) });
    await expect(handleCreateJob(upload({ task: 'upscale', scale: '2', variant: 'Not OK!' }))).rejects.toMatchObject({ status: 400 });
    expect(parseUpscaleQuery('http://x/api/upscale?scale=4&variant=sharp')).toEqual({ task: 'upscale', scale: 4, variant: 'sharp' });
    expect(parseUpscaleQuery('http://x/api/upscale?scale=2')).toEqual({ task: 'upscale', scale: 2 });
    expect(() => parseUpscaleQuery('http://x/api/upscale?scale=2&variant=..%2F')).toThrow(/variant must be/);
    expect(() => parseUpscaleQuery('http://x/api/upscale?scale=2&scale=4')).toThrow(/\?scale= only once/);
    expect(() => parseUpscaleQuery('http://x/api/upscale?scale=2&ensemble=true&ensemble=false')).toThrow(/\?ensemble= only once/);
    expect(() => parseColorizeQuery('http://x/api/colorize?variant=vivid&variant=vivid')).toThrow(/\?variant= only once/);
  });

  it('colorize variants too: the default before a "vivid" one, picked by job field or ?variant=', async () => {
    fake.models = [{ ...summary('colorize-vivid', 'colorize', 1), variant: 'vivid' }, summary('colorize', 'colorize', 1)];
    fake.behaviour = async () => result();
    expect(modelFor(fake.models, { task: 'colorize' })?.name).toBe('colorize');
    expect(modelFor(fake.models, { task: 'colorize', variant: 'vivid' })?.name).toBe('colorize-vivid');
    const vivid = await (await handleCreateJob(upload({ task: 'colorize', variant: 'vivid' }))).json();
    expect(vivid.fileName).toBe('photo-colorized-vivid.png');
    await waitForStatus(vivid.id, ['done']);
    const plain = await (await handleCreateJob(upload({ task: 'colorize' }))).json();
    expect(plain.fileName).toBe('photo-colorized.png');
    await waitForStatus(plain.id, ['done']);
    await expect(handleCreateJob(upload({ task: 'colorize', variant: 'sepia' }))).rejects.toMatchObject({ status: 404, message: expect.stringMatching(/Colorize \(sepia\)/) });
    expect(parseColorizeQuery('http://x/api/colorize?variant=vivid')).toEqual({ task: 'colorize', variant: 'vivid' });
    expect(parseColorizeQuery('http://x/api/colorize')).toEqual({ task: 'colorize' });
    expect(() => parseColorizeQuery('http://x/api/colorize?variant=..%2F')).toThrow(/variant must be/);
  });

  it('passes a colour strength (query or job field) to the colorizer and names the download after it; 400 outside 0-2 or for another tool', async () => {
    expect(parseColorizeQuery('http://x/api/colorize?strength=1.4')).toEqual({ task: 'colorize', strength: 1.4 });
    expect(parseColorizeQuery('http://x/api/colorize?variant=vivid&strength=0')).toEqual({ task: 'colorize', variant: 'vivid', strength: 0 });
    for (const bad of ['2.5', '-1', 'bold', '', '0x1']) {
      expect(() => parseColorizeQuery(`http://x/api/colorize?strength=${bad}`)).toThrow('The colour strength must be a number from 0 to 2 (1 is the model\'s own colour).');
    }
    expect(() => parseColorizeQuery('http://x/api/colorize?strength=1&strength=2')).toThrow(/\?strength= only once/);
    expect(() => parseUpscaleQuery('http://x/api/upscale?scale=2&strength=1.5')).toThrow('Upscaling takes no ?strength=; it applies to /api/colorize only.');
    const job = await (await handleCreateJob(upload({ task: 'colorize', strength: '1.5' }))).json();
    expect(job.fileName).toBe('photo-colorized-strength1.5.png');
    await waitForStatus(job.id, ['done']);
    expect(fake.lastColorizeOptions?.colourStrength).toBe(1.5);
    const plain = await (await handleCreateJob(upload({ task: 'colorize', strength: '1' }))).json();
    expect(plain.fileName).toBe('photo-colorized.png');
    await waitForStatus(plain.id, ['done']);
    expect(fake.lastColorizeOptions?.colourStrength).toBe(1);
    await expect(handleCreateJob(upload({ task: 'colorize', strength: '3' }))).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^The colour strength must be/) });
    await expect(handleCreateJob(upload({ task: 'upscale', scale: '2', strength: '1.5' }))).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^Upscaling takes no strength/) });
  });

  it('passes ensemble=true (query or job field) to the service; off by default; 400 for another value', async () => {
    expect(parseUpscaleQuery('http://x/api/upscale?scale=4&ensemble=true')).toEqual({ task: 'upscale', scale: 4, ensemble: true });
    expect(parseUpscaleQuery('http://x/api/upscale?scale=4&ensemble=0')).toEqual({ task: 'upscale', scale: 4 });
    expect(() => parseUpscaleQuery('http://x/api/upscale?scale=4&ensemble=maybe')).toThrow(/The ensemble option must be true or false/);
    const { id } = await (await handleCreateJob(upload({ task: 'upscale', scale: '2', ensemble: 'true' }))).json();
    await waitForStatus(id, ['done']);
    expect(fake.lastUpscaleOptions?.ensemble).toBe(true);
    const plain = await (await handleCreateJob(upload({ task: 'upscale', scale: '2' }))).json();
    await waitForStatus(plain.id, ['done']);
    expect(fake.lastUpscaleOptions?.ensemble).toBe(false);
    await expect(handleCreateJob(upload({ task: 'upscale', scale: '2', ensemble: 'yes' }))).rejects.toMatchObject({ status: 400 });
  });

  it('weighs each image in the queue by its output megapixels (times 8 for an ensemble), so that Retry-After counts the work ahead', async () => {
    expect(toolCost({ task: 'upscale', scale: 4 }, { width: 1000, height: 500 })).toBe(8);
    expect(toolCost({ task: 'upscale', scale: 2, ensemble: true }, { width: 1000, height: 1000 })).toBe(32);
    expect(toolCost({ task: 'colorize' }, { width: 2000, height: 1500 })).toBe(3);
    expect(toolCost({ task: 'translate' }, { width: 10, height: 10 })).toBe(0.25);
    expect(toolCost({ task: 'upscale', scale: 2, ensemble: true })).toBe(8);
    expect(toolCost({ task: 'colorize' })).toBe(1);

    // Both ways in pass the size read from the upload's header to the queue.
    const png = await sharp({ create: { width: 1000, height: 500, channels: 3, background: '#777' } }).png().toBuffer();
    const run = vi.spyOn(appQueue(), 'run');
    try {
      const upscale2 = guarded((request: Request) => handleToolRequest(request, { task: 'upscale', scale: 2 }));
      expect((await upscale2(upload({}, 'http://localhost/api/upscale?scale=2', png))).status).toBe(200);
      const { id } = await (await handleCreateJob(upload({ task: 'upscale', scale: '2', ensemble: 'true' }, undefined, png))).json();
      await waitForStatus(id, ['done']);
      // A header that does not read counts as 1 MP (the service then refuses it as it would anyway).
      expect((await colorize(upload())).status).toBe(200);
      expect(run.mock.calls.map(([, options]) => options?.cost)).toEqual([2, 16, 1]);
    } finally {
      run.mockRestore();
    }
  });

  it('picks the faithful or unlabelled model by default, whatever the order', () => {
    const models = [{ ...summary('sr-x4-sharp', 'sr', 4), variant: 'sharp' }, summary('sr-x4', 'sr', 4)];
    expect(modelFor(models, { task: 'upscale', scale: 4 })?.name).toBe('sr-x4');
    expect(modelFor(models, { task: 'upscale', scale: 4, variant: 'faithful' })?.name).toBe('sr-x4');
    expect(modelFor(models, { task: 'upscale', scale: 4, variant: 'sharp' })?.name).toBe('sr-x4-sharp');
    expect(modelFor(models, { task: 'upscale', scale: 2, variant: 'sharp' })).toBeUndefined();
  });

  it('refuses with 503 the jobs that arrive together beyond the queue, instead of accepting them and failing them later', async () => {
    const hold = gate();
    fake.behaviour = () => hold.promise.then(result);
    const create = guarded(handleCreateJob);
    const room = appQueue().maxWaiting + 1;
    const responses = await Promise.all(Array.from({ length: room + 3 }, () => create(upload({ task: 'colorize' }))));
    expect(responses.map((r) => r.status).sort()).toEqual([...Array(room).fill(202), 503, 503, 503]);
    const ids = await Promise.all(responses.filter((r) => r.status === 202).map(async (r) => (await r.json()).id as string));
    const statuses = await Promise.all(ids.map(async (id) => (await (await handleGetJob(id)).json()).status as string));
    expect(statuses).not.toContain('failed');
    hold.open();
    for (const id of ids) await waitForStatus(id, ['done']);
  });

  it('rejects a job for a tool without a model, and bad fields', async () => {
    await expect(handleCreateJob(upload({ task: 'upscale', scale: '4' }))).rejects.toMatchObject({ status: 404 });
    await expect(handleCreateJob(upload({ task: 'upscale', scale: '3' }))).rejects.toMatchObject({ status: 400 });
    await expect(handleCreateJob(upload({}))).rejects.toMatchObject({ status: 400 });
  });

  it('refuses upscaling options given to colorize (job fields and query) instead of ignoring them', async () => {
    await expect(handleCreateJob(upload({ task: 'colorize', scale: '4' }))).rejects.toMatchObject({ status: 400, message: 'Colorizing takes no scale; that field applies to task=upscale only.' });
    await expect(handleCreateJob(upload({ task: 'colorize', ensemble: 'true' }))).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/ensemble/) });
    expect(() => parseColorizeQuery('http://x/api/colorize?ensemble=maybe&scale=9')).toThrow('Colorizing takes no ?scale=; it applies to /api/upscale only.');
    expect(() => parseColorizeQuery('http://x/api/colorize?ensemble=true')).toThrow(/^Colorizing takes no \?ensemble=/);
  });

  it('refuses tool options in the query of POST /api/jobs, which reads them from the form only, before reading the upload', async () => {
    fake.models = [{ ...summary('colorize-vivid', 'colorize', 1), variant: 'vivid' }, summary('colorize', 'colorize', 1)];
    const create = guarded(handleCreateJob);
    for (const [query, name] of [['?variant=vivid', 'variant'], ['?task=upscale&scale=4', 'task'], ['?model=maps', 'model'], ['?ensemble=true', 'ensemble']]) {
      // No image at all: the query alone decides.
      const response = await create(new Request(`http://localhost/api/jobs${query}`, { method: 'POST', body: new FormData() }));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'bad_request', message: `POST /api/jobs takes ${name} as a form field, not as ?${name}=.` });
    }
    // Anything else in the query (a cache buster, say) is no option, and is left alone.
    const accepted = await create(upload({ task: 'colorize' }, 'http://localhost/api/jobs?t=1'));
    expect(accepted.status).toBe(202);
    await waitForStatus((await accepted.json()).id, ['done']);
  });

  it('keeps a failed job\'s error for the page', async () => {
    fake.behaviour = async () => {
      throw new InputError('unusable_image', 'The image has no pixels (0x0).');
    };
    const { id } = await (await handleCreateJob(upload({ task: 'colorize' }))).json();
    const view = (await waitForStatus(id, ['failed'])) as { error?: { error: string; status: number } };
    expect(view.error).toMatchObject({ error: 'unusable_image', status: 422 });
  });
});
