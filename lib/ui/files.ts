/** File naming in the browser, kept pure for tests. */

/** Extensions for image types whose subtype is not the usual extension. */
const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/pjpeg': 'jpg',
  'image/tiff': 'tif',
  'image/svg+xml': 'svg',
  'image/x-icon': 'ico',
  'image/vnd.microsoft.icon': 'ico',
  'image/x-ms-bmp': 'bmp',
};

/**
 * A name for a pasted image, which often comes without one: `pasted.<ext>` from its MIME type, so a
 * pasted JPEG is not shown as `pasted.png`. An unknown or missing type gives plain `pasted`.
 */
export function pastedFileName(type: string): string {
  const mime = type.split(';')[0]!.trim().toLowerCase();
  const known = EXTENSIONS[mime];
  if (known) return `pasted.${known}`;
  const subtype = /^image\/(?:x-)?([a-z0-9]+)$/.exec(mime)?.[1];
  return subtype ? `pasted.${subtype}` : 'pasted';
}
