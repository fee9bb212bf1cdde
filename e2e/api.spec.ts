/** The HTTP API: success shapes, detail headers, and every input error status. */
import { promises as fs } from 'node:fs';
import { expect, test, type APIResponse } from '@playwright/test';
import sharp from 'sharp';
import { E2E_LIMITS } from './limits';
import { flatPng, GRAY_PHOTO, imageStats, NOT_AN_IMAGE, SMALL_PHOTO } from './helpers';

async function file(path: string, mimeType: string) {
  return { name: path.split('/').pop()!, mimeType, buffer: await fs.readFile(path) };
}

async function expectError(response: APIResponse, status: number, code: string) {
  expect(response.status(), await response.text()).toBe(status);
  expect(response.headers()['content-type']).toContain('application/json');
  const body = (await response.json()) as { error: string; message: string };
  expect(body.error).toBe(code);
  // A sentence for people, not a stack trace.
  expect(body.message).toMatch(/^[A-Z].{10,}[.)]$/s);
  expect(body.message).not.toMatch(/\n\s+at /);
  return body;
}

test('GET /api/health reports backend, models and version', async ({ request }) => {
  const response = await request.get('/api/health');
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.status).toBe('ok');
  expect(['wasm', 'cpu', 'tensorflow']).toContain(body.backend);
  expect(body.models.length).toBeGreaterThan(0);
  // Model folders that failed to load (none in the shipped models folder).
  expect(body.problems).toEqual([]);
  expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(body.limits.maxUploadBytes).toBe(E2E_LIMITS.MAX_UPLOAD_BYTES);
  expect(body.limits.maxInputPixels).toBe(E2E_LIMITS.MAX_INPUT_PIXELS);
});

test('GET /api/models lists name, task, scale, channels and metrics', async ({ request }) => {
  const { models } = await (await request.get('/api/models')).json();
  for (const m of models) {
    expect(m).toEqual(
      expect.objectContaining({
        name: expect.any(String),
        task: expect.stringMatching(/^(colorize|sr|paired)$/),
        scale: expect.any(Number),
        inputChannels: expect.any(Number),
        outputChannels: expect.any(Number),
        metrics: expect.any(Object),
      }),
    );
  }
  expect(models.some((m: { task: string }) => m.task === 'colorize')).toBe(true);
});

test('POST /api/colorize answers a same-size PNG with detail headers', async ({ request }) => {
  const response = await request.post('/api/colorize', { multipart: { image: await file(GRAY_PHOTO, 'image/png') } });
  expect(response.status()).toBe(200);
  const headers = response.headers();
  expect(headers['content-type']).toBe('image/png');
  expect(headers['x-model']).toBeTruthy();
  expect(['wasm', 'cpu', 'tensorflow']).toContain(headers['x-backend']);
  expect(Number(headers['x-elapsed-ms'])).toBeGreaterThanOrEqual(0);
  expect(headers['x-input-size']).toBe('128x96');
  expect(headers['content-disposition']).toContain('landscape-gray-colorized.png');
  const stats = await imageStats(await response.body());
  expect([stats.width, stats.height]).toEqual([128, 96]);
});

for (const scale of [2, 4]) {
  test(`POST /api/upscale?scale=${scale} answers a PNG exactly ${scale}x larger`, async ({ request }) => {
    const response = await request.post(`/api/upscale?scale=${scale}`, { multipart: { image: await file(SMALL_PHOTO, 'image/jpeg') } });
    expect(response.status()).toBe(200);
    expect(response.headers()['x-input-size']).toBe('64x48');
    const stats = await imageStats(await response.body());
    expect([stats.width, stats.height]).toEqual([64 * scale, 48 * scale]);
  });
}

test('?ensemble=true averages 8 runs: same size, different pixels from the plain run; 400 for a bad value', async ({ request }) => {
  const image = await file(SMALL_PHOTO, 'image/jpeg');
  const plain = await request.post('/api/upscale?scale=2', { multipart: { image } });
  const ensembled = await request.post('/api/upscale?scale=2&ensemble=true', { multipart: { image } });
  expect([plain.status(), ensembled.status()]).toEqual([200, 200]);
  const [a, b] = [await imageStats(await plain.body()), await imageStats(await ensembled.body())];
  expect([b.width, b.height]).toEqual([128, 96]);
  expect(Buffer.compare(await plain.body(), await ensembled.body())).not.toBe(0);
  expect(Math.abs(a.meanSaturation - b.meanSaturation)).toBeLessThan(0.05);
  await expectError(await request.post('/api/upscale?scale=2&ensemble=maybe', { multipart: { image } }), 400, 'bad_request');
});

test('?strength= scales the colour: 0 is gray, 1.5 more saturated than the default, named so; 400 outside 0-2 or for upscaling', async ({ request }) => {
  const image = await file(GRAY_PHOTO, 'image/png');
  const colorize = (query: string) => request.post(`/api/colorize${query}`, { multipart: { image } });
  const [none, plain, strong] = [await colorize('?strength=0'), await colorize(''), await colorize('?strength=1.5')];
  expect([none.status(), plain.status(), strong.status()]).toEqual([200, 200, 200]);
  expect(strong.headers()['content-disposition']).toContain('landscape-gray-colorized-strength1.5.png');
  const [n, p, s] = [await imageStats(await none.body()), await imageStats(await plain.body()), await imageStats(await strong.body())];
  expect(n.meanSaturation).toBeLessThan(0.01);
  expect(s.meanSaturation).toBeGreaterThan(p.meanSaturation * 1.2);
  const message = (await expectError(await request.post('/api/colorize?strength=2.5', { multipart: { image } }), 400, 'bad_request')).message;
  expect(message).toBe("The colour strength must be a number from 0 to 2 (1 is the model's own colour).");
  await expectError(await request.post('/api/upscale?scale=2&strength=1.5', { multipart: { image } }), 400, 'bad_request');
});

test('?variant= picks each installed model variant; a missing variant is 404', async ({ request }) => {
  const { models } = (await (await request.get('/api/models')).json()) as { models: { name: string; task: string; scale: number; variant?: string }[] };
  for (const m of models.filter((x) => x.variant)) {
    const url = m.task === 'sr' ? `/api/upscale?scale=${m.scale}&variant=${m.variant}` : `/api/colorize?variant=${m.variant}`;
    const response = await request.post(url, { multipart: { image: await file(SMALL_PHOTO, 'image/jpeg') } });
    expect(response.status(), m.name).toBe(200);
    expect(response.headers()['x-model']).toBe(m.name);
    const stats = await imageStats(await response.body());
    expect([stats.width, stats.height]).toEqual([64 * m.scale, 48 * m.scale]);
  }
  for (const url of ['/api/upscale?scale=2&variant=no-such-variant', '/api/colorize?variant=no-such-variant']) {
    await expectError(await request.post(url, { multipart: { image: await file(SMALL_PHOTO, 'image/jpeg') } }), 404, 'model_unavailable');
  }
});

/** The paired models of the e2e models folder (two tiny fixtures; the shipped set has none). */
const PAIRED = ['tiny-paired-a', 'tiny-paired-b'];

test('POST /api/translate runs the paired model named (field or ?model=): a same-size PNG named after it, alpha kept', async ({ request }) => {
  const { models } = (await (await request.get('/api/models')).json()) as { models: { name: string; task: string; description?: string }[] };
  expect(models.filter((m) => m.task === 'paired').map((m) => m.name).sort()).toEqual(PAIRED);
  const image = await file(SMALL_PHOTO, 'image/jpeg');
  const bodies: Buffer[] = [];
  for (const model of PAIRED) {
    const response = await request.post('/api/translate', { multipart: { image, model } });
    expect(response.status(), await response.text()).toBe(200);
    const headers = response.headers();
    expect(headers['content-type']).toBe('image/png');
    expect(headers['x-model']).toBe(model);
    expect(headers['x-input-size']).toBe('64x48');
    expect(headers['x-output-size']).toBe('64x48');
    expect(headers['content-disposition']).toContain(`filename="landscape-small-translated-${model}.png"`);
    const stats = await imageStats(await response.body());
    expect([stats.width, stats.height]).toEqual([64, 48]);
    bodies.push(await response.body());
  }
  // Two models, two translations.
  expect(Buffer.compare(bodies[0]!, bodies[1]!)).not.toBe(0);
  const byQuery = await request.post(`/api/translate?model=${PAIRED[1]}`, { multipart: { image } });
  expect(byQuery.status()).toBe(200);
  expect(byQuery.headers()['x-model']).toBe(PAIRED[1]);
  // Transparency passes through unchanged: the model translates the colour, the alpha is the input's.
  const width = 40;
  const height = 30;
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set([(i * 37) % 256, (i * 11) % 256, (i * 5) % 256, Math.round(((i % width) / (width - 1)) * 255)], i * 4);
  }
  const cutOut = await sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer();
  const translated = await request.post('/api/translate', { multipart: { image: { name: 'cut-out.png', mimeType: 'image/png', buffer: cutOut }, model: PAIRED[0]! } });
  expect(translated.status()).toBe(200);
  const alpha = async (png: Buffer) => sharp(png).ensureAlpha().extractChannel(3).raw().toBuffer();
  expect((await sharp(await translated.body()).metadata()).channels).toBe(4);
  expect(Buffer.compare(await alpha(await translated.body()), await alpha(cutOut))).toBe(0);
});

test('POST /api/translate refuses what it cannot run: several paired models and none named, an unknown or unpaired model, other tools\' options', async ({ request }) => {
  const image = await file(SMALL_PHOTO, 'image/jpeg');
  const ambiguous = await expectError(await request.post('/api/translate', { multipart: { image } }), 400, 'bad_request');
  expect(ambiguous.message).toBe(`Several paired models are installed (${PAIRED.join(', ')}): name the one to use with model=NAME.`);
  const unknown = await expectError(await request.post('/api/translate', { multipart: { image, model: 'no-such-model' } }), 404, 'model_unavailable');
  expect(unknown.message).toContain(PAIRED.join(', '));
  const unpaired = await expectError(await request.post('/api/translate', { multipart: { image, model: 'colorize' } }), 400, 'bad_request');
  expect(unpaired.message).toMatch(/^Model "colorize" is a colorize model, not paired/);
  await expectError(await request.post('/api/translate?scale=2', { multipart: { image, model: PAIRED[0]! } }), 400, 'bad_request');
  await expectError(await request.post(`/api/translate?model=${PAIRED[0]}`, { multipart: { image, model: PAIRED[1]! } }), 400, 'bad_request');
  await expectError(await request.post('/api/colorize?model=tiny-paired-a', { multipart: { image } }), 400, 'bad_request');
  // Another tool's option as a form field is refused too, not ignored (the curl -F habit).
  const colorizeField = await expectError(await request.post('/api/colorize', { multipart: { image, model: 'colorize' } }), 400, 'bad_request');
  expect(colorizeField.message).toBe('Colorizing takes no model field; it applies to /api/translate only.');
  await expectError(await request.post('/api/colorize', { multipart: { image, scale: '4' } }), 400, 'bad_request');
  const upscaleField = await expectError(await request.post('/api/upscale?scale=2', { multipart: { image, model: 'sr-x2' } }), 400, 'bad_request');
  expect(upscaleField.message).toBe('Upscaling takes no model field; it applies to /api/translate only.');
  await expectError(await request.post('/api/jobs', { multipart: { image, task: 'translate' } }), 400, 'bad_request');
  await expectError(await request.post('/api/translate', { multipart: { image: await file(NOT_AN_IMAGE, 'text/plain'), model: PAIRED[0]! } }), 415, 'unsupported_image');
  const get = await request.get('/api/translate');
  await expectError(get, 405, 'method_not_allowed');
  expect(get.headers()['allow']).toBe('POST, OPTIONS');
});

test('jobs: task=translate runs the model named to done, with progress, and its result is the input\'s size', async ({ request }) => {
  const created = await request.post('/api/jobs', { multipart: { image: await file(GRAY_PHOTO, 'image/png'), task: 'translate', model: PAIRED[1]! } });
  expect(created.status()).toBe(202);
  let job = await created.json();
  expect(job).toMatchObject({ fileName: `landscape-gray-translated-${PAIRED[1]}.png`, tool: { task: 'translate', model: PAIRED[1] } });
  for (let i = 0; i < 200 && (job.status === 'queued' || job.status === 'running'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    job = await (await request.get(`/api/jobs/${job.id}`)).json();
  }
  expect(job.status).toBe('done');
  expect(job.result).toMatchObject({ width: 128, height: 96, inputWidth: 128, inputHeight: 96, model: PAIRED[1] });
  expect(job.progress.done).toBe(job.progress.total);
  const result = await request.get(`/api/jobs/${job.id}/result`);
  expect(result.status()).toBe(200);
  const stats = await imageStats(await result.body());
  expect([stats.width, stats.height]).toEqual([128, 96]);
});

test('400 for malformed requests', async ({ request }) => {
  const image = await file(SMALL_PHOTO, 'image/jpeg');
  await expectError(await request.post('/api/upscale?scale=3', { multipart: { image } }), 400, 'bad_request');
  await expectError(await request.post('/api/upscale', { multipart: { image } }), 400, 'bad_request');
  await expectError(await request.post('/api/colorize', { data: { image: 'base64?' } }), 400, 'bad_request');
  await expectError(await request.post('/api/colorize', { multipart: { picture: image } }), 400, 'bad_request');
  await expectError(await request.post('/api/colorize', { multipart: { image: 'just text' } }), 400, 'bad_request');
  await expectError(await request.post('/api/jobs', { multipart: { image, task: 'sharpen' } }), 400, 'bad_request');
  // A job's options are form fields: in the query they would be ignored.
  await expectError(await request.post('/api/jobs?variant=vivid', { multipart: { image, task: 'colorize' } }), 400, 'bad_request');
  await expectError(await request.get('/api/jobs/not-a-job-id'), 400, 'bad_request');
  await expectError(await request.get('/api/runs/..%2F..%2Fetc/samples/step-00000001.png'), 400, 'bad_request');
});

test('405 with Allow for a wrong method and 404 for an unknown API path, both in the JSON error shape', async ({ request }) => {
  const getColorize = await request.get('/api/colorize');
  await expectError(getColorize, 405, 'method_not_allowed');
  expect(getColorize.headers()['allow']).toBe('POST, OPTIONS');
  const putJob = await request.put('/api/jobs/00000000-0000-4000-8000-000000000000');
  await expectError(putJob, 405, 'method_not_allowed');
  expect(putJob.headers()['allow']).toBe('GET, DELETE, HEAD, OPTIONS');
  await expectError(await request.post('/api/health'), 405, 'method_not_allowed');
  expect((await request.fetch('/api/upscale', { method: 'OPTIONS' })).headers()['allow']).toBe('POST, OPTIONS');
  await expectError(await request.get('/api/colourise'), 404, 'not_found');
  // `/api` itself is no endpoint either (the catch-all route needs a segment).
  await expectError(await request.get('/api'), 404, 'not_found');
  await expectError(await request.post('/api/jobs/00000000-0000-4000-8000-000000000000/result/extra'), 404, 'not_found');
  // The real endpoints still win over the catch-all.
  expect((await request.get('/api/health')).status()).toBe(200);
});

test('413 for too many bytes, too many input pixels and too many output pixels', async ({ request }) => {
  const bytes = Buffer.alloc(E2E_LIMITS.MAX_UPLOAD_BYTES + 100_000, 1);
  const overBytes = await expectError(
    await request.post('/api/colorize', { multipart: { image: { name: 'big.png', mimeType: 'image/png', buffer: bytes } } }),
    413,
    'too_large',
  );
  expect(overBytes.message).toMatch(/limit/);
  const tooManyPixels = await flatPng(2100, 2000); // 4.2 MP > 4 MP
  const overPixels = await expectError(
    await request.post('/api/colorize', { multipart: { image: { name: 'huge.png', mimeType: 'image/png', buffer: tooManyPixels } } }),
    413,
    'too_large',
  );
  expect(overPixels.message).toMatch(/limit/);
  // 1500 x 1500 is allowed in, but x2 would be 9 MP out > 8 MP.
  const overOutput = await expectError(
    await request.post('/api/upscale?scale=2', {
      multipart: { image: { name: 'wide.png', mimeType: 'image/png', buffer: await flatPng(1500, 1500) } },
    }),
    413,
    'too_large',
  );
  expect(overOutput.message).toMatch(/limit/);
});

test('415 for files that are not images, 422 for an image cut short or an empty file', async ({ request }) => {
  await expectError(await request.post('/api/colorize', { multipart: { image: await file(NOT_AN_IMAGE, 'text/plain') } }), 415, 'unsupported_image');
  const photo = await fs.readFile(SMALL_PHOTO);
  const truncated = photo.subarray(0, Math.floor(photo.length / 2));
  const cut = await expectError(
    await request.post('/api/upscale?scale=2', { multipart: { image: { name: 'cut.jpg', mimeType: 'image/jpeg', buffer: truncated } } }),
    422,
    'unusable_image',
  );
  expect(cut.message).toMatch(/JPEG image is damaged or incomplete/);
  const empty = await expectError(
    await request.post('/api/colorize', { multipart: { image: { name: 'empty.png', mimeType: 'image/png', buffer: Buffer.alloc(0) } } }),
    422,
    'unusable_image',
  );
  expect(empty.message).toBe('The file is empty.');
});

test('jobs: create, poll to done, fetch the result; unknown ids are 404', async ({ request }) => {
  const created = await request.post('/api/jobs', {
    multipart: { image: await file(SMALL_PHOTO, 'image/jpeg'), task: 'upscale', scale: '4' },
  });
  expect(created.status()).toBe(202);
  let job = await created.json();
  expect(job.fileName).toBe('landscape-small-x4.png');
  for (let i = 0; i < 200 && (job.status === 'queued' || job.status === 'running'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    job = await (await request.get(`/api/jobs/${job.id}`)).json();
  }
  expect(job.status).toBe('done');
  expect(job.result).toMatchObject({ width: 256, height: 192, inputWidth: 64, inputHeight: 48 });
  expect(job.progress.done).toBe(job.progress.total);
  const result = await request.get(`/api/jobs/${job.id}/result`);
  expect(result.headers()['content-type']).toBe('image/png');
  expect((await imageStats(await result.body())).width).toBe(256);
  const unknown = '00000000-0000-4000-8000-000000000000';
  await expectError(await request.get(`/api/jobs/${unknown}`), 404, 'not_found');
  await expectError(await request.delete(`/api/jobs/${unknown}`), 404, 'not_found');
});

test('bad input never takes the server down', async ({ request }) => {
  const junk = [Buffer.from('GIF89a garbage'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), Buffer.alloc(5000, 0xff)];
  for (const buffer of junk) {
    const response = await request.post('/api/colorize', { multipart: { image: { name: 'x.png', mimeType: 'image/png', buffer } } });
    expect(response.status()).toBeGreaterThanOrEqual(400);
    expect(response.status()).toBeLessThan(500);
  }
  expect((await request.get('/api/health')).status()).toBe(200);
});
