import { describe, expect, it } from 'vitest';
import { pastedFileName } from './files';

describe('pastedFileName', () => {
  it('takes the extension from the MIME type', () => {
    expect(pastedFileName('image/jpeg')).toBe('pasted.jpg');
    expect(pastedFileName('image/png')).toBe('pasted.png');
    expect(pastedFileName('image/webp')).toBe('pasted.webp');
    expect(pastedFileName('image/tiff')).toBe('pasted.tif');
    expect(pastedFileName('image/x-portable-pixmap')).toBe('pasted');
    expect(pastedFileName('image/x-bmp')).toBe('pasted.bmp');
    expect(pastedFileName('IMAGE/AVIF; charset=binary')).toBe('pasted.avif');
  });

  it('gives a bare name when the type says nothing usable', () => {
    expect(pastedFileName('')).toBe('pasted');
    expect(pastedFileName('application/octet-stream')).toBe('pasted');
    expect(pastedFileName('image/../../etc')).toBe('pasted');
  });
});
