/** Shared bits of the e2e specs: fixtures, image measurements, screenshots. */
import path from 'node:path';
import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';
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

/**
 * The colours an element shows, as 8-bit sRGB: its background and its text colour, each composited
 * over the backgrounds of its ancestors (semi-transparent and color-mix() ones included: the browser
 * itself paints them onto a canvas, which reads back any CSS colour syntax).
 */
async function paintedColours(locator: Locator): Promise<{ background: number[]; text: number[] }> {
  return locator.evaluate((element) => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const context = canvas.getContext('2d', { willReadFrequently: true })!;
    const read = () => [...context.getImageData(0, 0, 1, 1).data.slice(0, 3)];
    context.fillStyle = '#fff';
    context.fillRect(0, 0, 1, 1);
    const chain: Element[] = [];
    for (let e: Element | null = element; e; e = e.parentElement) chain.unshift(e);
    for (const e of chain) {
      context.fillStyle = getComputedStyle(e).backgroundColor;
      context.fillRect(0, 0, 1, 1);
    }
    const background = read();
    context.fillStyle = getComputedStyle(element).color;
    context.fillRect(0, 0, 1, 1);
    return { background, text: read() };
  });
}

function luminance(rgb: number[]): number {
  const [r, g, b] = rgb.map((c) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG contrast ratio of two sRGB colours. */
function contrastRatio(a: number[], b: number[]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** Contrast of an element's text against what is painted behind it. */
export async function textContrast(locator: Locator): Promise<number> {
  const { background, text } = await paintedColours(locator);
  return contrastRatio(text, background);
}

/** Contrast between the painted backgrounds of two elements (e.g. a pressed and an unpressed button). */
export async function backgroundContrast(a: Locator, b: Locator): Promise<number> {
  return contrastRatio((await paintedColours(a)).background, (await paintedColours(b)).background);
}

/**
 * Starts recording what the page's status region (the announcer) says; the function returned gives
 * the messages so far, in order, as a screen reader would have been handed them.
 */
export async function recordAnnouncements(page: Page): Promise<() => Promise<string[]>> {
  await page.getByTestId('announcer').evaluate((region) => {
    const heard: string[] = [];
    (window as unknown as { heard: string[] }).heard = heard;
    new MutationObserver(() => {
      const text = region.textContent ?? '';
      if (text) heard.push(text);
    }).observe(region, { childList: true, subtree: true, characterData: true });
  });
  return () => page.evaluate(() => [...(window as unknown as { heard: string[] }).heard]);
}

/**
 * Walks the page backwards with Shift+Tab from its end and checks that every control that gets focus
 * is scrolled clear of the sticky header, not under it (WCAG 2.4.11). Returns how many were checked.
 */
export async function expectFocusClearOfHeader(page: Page): Promise<number> {
  // Start after the last control: a click on the footer makes it the point Tab navigation starts from.
  await page.locator('.site-footer').click();
  let checked = 0;
  for (let i = 0; i < 100; i++) {
    await page.keyboard.press('Shift+Tab');
    const focused = await page.evaluate(() => {
      const element = document.activeElement;
      const header = document.querySelector('.site-header')!;
      if (!element || element === document.body || header.contains(element)) return null;
      const box = element.getBoundingClientRect();
      return {
        what: element.outerHTML.slice(0, 100),
        top: box.top,
        bottom: box.bottom,
        headerBottom: header.getBoundingClientRect().bottom,
        // A sticky header covers what scrolls under it; a static one scrolls away with the page.
        sticky: getComputedStyle(header).position === 'sticky',
        room: window.innerHeight,
      };
    });
    // Reached the header (or the skip link before it): everything after it has been checked.
    if (!focused) break;
    checked++;
    const clearOf = focused.sticky ? focused.headerBottom : 0;
    if (focused.bottom - focused.top <= focused.room - clearOf) {
      expect(focused.top, `${focused.what} is under the header`).toBeGreaterThanOrEqual(clearOf - 0.5);
    } else {
      expect(focused.bottom, `${focused.what} is under the header`).toBeGreaterThan(clearOf);
    }
  }
  return checked;
}
