import { describe, expect, it } from 'vitest';
import { ApiError, describeError } from './errors';
import { downloadBaseName, readImageUpload } from './upload';

function formRequest(form: FormData, headers: Record<string, string> = {}): Request {
  return new Request('http://localhost/api/colorize', { method: 'POST', body: form, headers });
}

async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return error instanceof ApiError ? error.status : undefined;
}

describe('readImageUpload', () => {
  it('returns the file bytes, a safe base name and the text fields', async () => {
    const form = new FormData();
    form.set('image', new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' }), 'holiday/../My "photo".PNG');
    form.set('scale', '4');
    const upload = await readImageUpload(formRequest(form), 1000);
    expect([...upload.bytes]).toEqual([1, 2, 3]);
    expect(upload.baseName).toBe('My photo');
    expect(upload.fields).toEqual({ scale: '4' });
  });

  it('answers 400 for a body that is not multipart or has no image file', async () => {
    const json = new Request('http://localhost/x', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(await statusOf(readImageUpload(json, 1000))).toBe(400);
    const noFile = new FormData();
    noFile.set('image', 'just text');
    expect(await statusOf(readImageUpload(formRequest(noFile), 1000))).toBe(400);
    const broken = new Request('http://localhost/x', {
      method: 'POST',
      body: 'garbage',
      headers: { 'content-type': 'multipart/form-data; boundary=zzz' },
    });
    expect(await statusOf(readImageUpload(broken, 1000))).toBe(400);
  });

  it('answers 400 for a field given twice (image too) instead of picking one', async () => {
    const form = new FormData();
    form.set('image', new Blob([new Uint8Array([1, 2, 3])]), 'a.png');
    form.append('scale', '4');
    form.append('scale', '2');
    const error = await readImageUpload(formRequest(form), 1000).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'bad_request', message: 'Give the field "scale" only once.' });
    const twoImages = new FormData();
    twoImages.append('image', new Blob([new Uint8Array([1])]), 'a.png');
    twoImages.append('image', new Blob([new Uint8Array([2])]), 'b.png');
    await expect(readImageUpload(formRequest(twoImages), 1000)).rejects.toMatchObject({ status: 400, message: 'Give the field "image" only once.' });
  });

  it('answers 422 unusable_image for an empty file (not 415: it is no format at all)', async () => {
    const form = new FormData();
    form.set('image', new Blob([]), 'empty.jpg');
    await expect(readImageUpload(formRequest(form), 1000)).rejects.toMatchObject({ status: 422, code: 'unusable_image', message: 'The file is empty.' });
  });

  it('answers 413 over the byte limit, from the file size and from the declared length', async () => {
    const form = new FormData();
    form.set('image', new Blob([new Uint8Array(2000)]), 'big.png');
    expect(await statusOf(readImageUpload(formRequest(form), 1000))).toBe(413);
    const huge = new FormData();
    huge.set('image', new Blob([new Uint8Array(200_000)]), 'huge.png');
    // Past the multipart allowance the body is refused while streaming, before it is parsed.
    expect(await statusOf(readImageUpload(formRequest(huge), 1000))).toBe(413);
    const declared = formRequest(form, { 'content-length': String(10_000_000) });
    expect(await statusOf(readImageUpload(declared, 1000))).toBe(413);
  });

  it('treats a connection that breaks mid-upload as a cancellation, not a server error', async () => {
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
        sent = true;
        controller.enqueue(new TextEncoder().encode('--zzz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'));
      },
    });
    const request = new Request('http://localhost/x', {
      method: 'POST',
      body,
      headers: { 'content-type': 'multipart/form-data; boundary=zzz' },
      duplex: 'half',
    } as RequestInit);
    const error = await readImageUpload(request, 1000).catch((e: unknown) => e);
    expect(describeError(error)).toMatchObject({ status: 499, code: 'cancelled' });
  });
});

describe('downloadBaseName', () => {
  it('keeps a readable stem and falls back to "image"', () => {
    expect(downloadBaseName('photo.jpg')).toBe('photo');
    expect(downloadBaseName('C:\\pics\\été 2024.jpeg')).toBe('été 2024');
    expect(downloadBaseName('.png')).toBe('image');
    expect(downloadBaseName(undefined)).toBe('image');
    // No hidden files: leading dots go, and so do trailing ones.
    expect(downloadBaseName('..')).toBe('image');
    expect(downloadBaseName('...')).toBe('image');
    expect(downloadBaseName('.bashrc.png')).toBe('bashrc');
    expect(downloadBaseName(' . my photo. .jpg')).toBe('my photo');
    expect(downloadBaseName('v1.2.jpg')).toBe('v1.2');
  });
});
