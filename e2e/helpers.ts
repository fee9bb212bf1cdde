/** Shared bits of the e2e specs: fixtures, image measurements, screenshots. */
import path from 'node:path';
import { expect, type Page, type TestInfo } from '@playwright/test';
import sharp from 'sharp';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const GRAY_PHOTO = path.join(FIXTURES, 'landscape-gray.png'); // 128 x 96, one channel
export const SMALL_PHOTO = path.join(FIXTURES, 'landscape-small.jpg'); // 64 x 48, colour
export const NOT_AN_IMAGE = path.join(FIXTURES, 'notes.txt');

/**
 * Mean HSV saturation in [0, 1] above which an image counts as coloured. A grey image has exactly 0,
 * and one that went through Lab with a* = b* = 0 stays under 0.01 (8-bit rounding); colour photos
 * are typically 0.2-0.5. The shipped colorize model gives about 0.09 on the synthetic, rather
 * un-photo-like fixture (its colours are muted, as pix2pix colorizers' are when unsure), so 0.03
 * is three times the grey ceiling and still well under what the model produces.
 */
export const MIN_COLOUR_SATURATION = 0.03;

export interface ImageStats {
  width: number;
  height: number;
  /** Mean over pixels of (max - min) / max of R, G, B (0 for black pixels). */
  meanSaturation: number;
}

/** Decodes PNG/JPEG bytes and measures them. */
export async function imageStats(bytes: Buffer): Promise<ImageStats> {
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  let sum = 0;
  const pixels = info.width * info.height;
  for (let i = 0; i < pixels * info.channels; i += info.channels) {
    const r = data[i]!;
    const g = info.channels >= 3 ? data[i + 1]! : r;
    const b = info.channels >= 3 ? data[i + 2]! : r;
    const max = Math.max(r, g, b);
    if (max > 0) sum += (max - Math.min(r, g, b)) / max;
  }
  return { width: info.width, height: info.height, meanSaturation: sum / pixels };
}

/** A PNG of `width` x `height` that is small in bytes (flat colour) but big in pixels. */
export async function flatPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 160 } } })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** A textured PNG (so that it does not compress to nothing) of the given size. */
export async function noisyPng(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Records console errors and uncaught page errors; call `expectNone()` at the end. */
export function watchConsole(page: Page) {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return {
    errors,
    /** Some failures are expected (e.g. a 415 answer is logged by the browser as a failed resource). */
    expectNone(allowed: RegExp[] = []) {
      expect(errors.filter((e) => !allowed.some((a) => a.test(e)))).toEqual([]);
    },
  };
}

/** Saves a full-page screenshot as a test artifact (test-results/<test>/<name>.png) and attaches it. */
export async function snapshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/** Opens the home page and waits until React has hydrated it (paste and drop listeners attached). */
export async function openHome(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.locator('.tool[data-ready="true"]')).toBeVisible();
}

/** The tool radio buttons the page offers. */
export function toolRadio(page: Page, label: RegExp) {
  return page.getByRole('radio', { name: label });
}

/** The run button (its label is the tool's name). */
export function runButton(page: Page) {
  return page.locator('.actions .button.primary');
}
