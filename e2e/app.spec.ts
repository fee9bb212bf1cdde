/**
 * The web page as a person uses it: choose a photo, pick a tool, wait, compare, download; and the
 * error paths, after which the page must still work.
 */
import { promises as fs } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { E2E_LIMITS } from './limits';
import {
  flatPng,
  GRAY_PHOTO,
  imageStats,
  MIN_COLOUR_SATURATION,
  noisyPng,
  NOT_AN_IMAGE,
  openHome,
  runButton,
  SMALL_PHOTO,
  snapshot,
  toolRadio,
  watchConsole,
} from './helpers';

/** Requests that fail on purpose in these tests; the browser logs them as console errors. */
const EXPECTED_HTTP_ERRORS = [/Failed to load resource: the server responded with a status of 4\d\d/];

async function chooseFile(page: Page, file: string | { name: string; mimeType: string; buffer: Buffer }) {
  await page.locator('input[type="file"]').setInputFiles(file);
}

async function runTool(page: Page, tool: RegExp) {
  await toolRadio(page, tool).check();
  await runButton(page).click();
}

/** Waits for the result, downloads it and returns its bytes and suggested file name. */
async function downloadResult(page: Page) {
  await expect(page.getByRole('heading', { name: 'Result' })).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download PNG' }).click()]);
  const file = await download.path();
  return { name: download.suggestedFilename(), bytes: await fs.readFile(file) };
}

test('home renders with both tools, help and no console errors', async ({ page, request }, testInfo) => {
  const console = watchConsole(page);
  await openHome(page);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.getByText('Drop a photo here')).toBeVisible();
  // The page offers exactly the tools whose models the server has.
  const { models } = (await (await request.get('/api/models')).json()) as { models: { task: string; scale: number; variant?: string }[] };
  const isDefault = (m: { variant?: string }) => m.variant === undefined || m.variant === 'faithful';
  const capitalised = (m: { variant?: string }) => `${m.variant![0]!.toUpperCase()}${m.variant!.slice(1)}`;
  const extraVariants = (scale: number) => models.filter((m) => m.task === 'sr' && m.scale === scale && !isDefault(m)).map((m) => `${capitalised(m)} upscale ×${scale}`);
  const expected = [
    models.some((m) => m.task === 'colorize') && 'Colorize',
    ...models.filter((m) => m.task === 'colorize' && !isDefault(m)).map((m) => `${capitalised(m)} colorize`),
    models.some((m) => m.task === 'sr' && m.scale === 2) && 'Upscale ×2',
    ...extraVariants(2),
    models.some((m) => m.task === 'sr' && m.scale === 4) && 'Upscale ×4',
    ...extraVariants(4),
  ].filter(Boolean);
  await expect(page.getByRole('radio')).toHaveCount(expected.length);
  for (const label of expected) await expect(page.getByRole('radio', { name: new RegExp(`^${label}`) })).toBeVisible();
  await expect(runButton(page)).toBeDisabled();
  await expect(page.getByRole('heading', { name: 'Help' })).toBeVisible();
  await expect(page.getByText('npm run train -- --task colorize --data <folder>')).toBeVisible();
  await snapshot(page, testInfo, '01-home');
  // Keyboard: the file picker and the tools are reachable with Tab and show a focus ring.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  await page.emulateMedia({ colorScheme: 'dark' });
  await snapshot(page, testInfo, '02-home-dark');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'light' });
  await snapshot(page, testInfo, '03-home-phone');
  console.expectNone();
});

test('colorizes a grayscale photo: same size, in colour, downloadable', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  await openHome(page);
  await chooseFile(page, GRAY_PHOTO);
  await expect(page.getByText('128 × 96')).toBeVisible();
  await snapshot(page, testInfo, '04-photo-chosen');
  await runTool(page, /^Colorize/);
  const { name, bytes } = await downloadResult(page);
  expect(name).toBe('landscape-gray-colorized.png');
  const stats = await imageStats(bytes);
  expect([stats.width, stats.height]).toEqual([128, 96]);
  const input = await imageStats(await fs.readFile(GRAY_PHOTO));
  expect(input.meanSaturation).toBeLessThan(0.01);
  testInfo.annotations.push({ type: 'mean saturation', description: stats.meanSaturation.toFixed(3) });
  expect(stats.meanSaturation).toBeGreaterThan(MIN_COLOUR_SATURATION);
  // Details shown with the result.
  await expect(page.getByTestId('input-size')).toHaveText('128 × 96');
  await expect(page.getByTestId('output-size')).toHaveText('128 × 96');
  await expect(page.getByTestId('result-details')).toContainText('colorize');
  await snapshot(page, testInfo, '05-colorized-compare');
  // The comparison divider moves with the keyboard.
  const divider = page.getByRole('slider', { name: /Divider/ });
  await divider.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(divider).toHaveValue('49');
  await page.getByRole('button', { name: 'Side by side' }).click();
  await page.getByRole('button', { name: '200%' }).click();
  await expect(page.getByRole('img', { name: 'Result' })).toHaveCSS('width', '256px');
  await snapshot(page, testInfo, '06-colorized-side-by-side');
  console.expectNone();
});

for (const scale of [2, 4] as const) {
  test(`upscales ×${scale}: exactly ${scale} times the size`, async ({ page }, testInfo) => {
    const console = watchConsole(page);
    await openHome(page);
    await chooseFile(page, SMALL_PHOTO);
    await runTool(page, new RegExp(`^Upscale ×${scale}`));
    const { name, bytes } = await downloadResult(page);
    expect(name).toBe(`landscape-small-x${scale}.png`);
    const stats = await imageStats(bytes);
    expect([stats.width, stats.height]).toEqual([64 * scale, 48 * scale]);
    await expect(page.getByTestId('output-size')).toHaveText(`${64 * scale} × ${48 * scale}`);
    await snapshot(page, testInfo, `07-upscaled-x${scale}`);
    console.expectNone();
  });
}

test('"Extra quality" (the ensemble) is offered for upscaling only and gives the same size', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  await openHome(page);
  await chooseFile(page, SMALL_PHOTO);
  const extra = page.getByRole('checkbox', { name: /Extra quality/ });
  await toolRadio(page, /^Colorize/).check();
  await expect(extra).toHaveCount(0);
  await toolRadio(page, /^Upscale ×2/).check();
  await extra.check();
  await runButton(page).click();
  const { bytes } = await downloadResult(page);
  const stats = await imageStats(bytes);
  expect([stats.width, stats.height]).toEqual([128, 96]);
  await snapshot(page, testInfo, '08-upscaled-x2-extra-quality');
  console.expectNone();
});

test('accepts a pasted and a dropped image', async ({ page }) => {
  await openHome(page);
  const png = (await fs.readFile(GRAY_PHOTO)).toString('base64');
  // Paste anywhere on the page.
  await page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
  }, png);
  await expect(page.getByText('pasted.png')).toBeVisible();
  // Drop onto the drop zone.
  const dataTransfer = await page.evaluateHandle(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
    return data;
  }, png);
  await page.locator('.dropzone').dispatchEvent('drop', { dataTransfer });
  await expect(page.getByText('dropped.png')).toBeVisible();
  await expect(runButton(page)).toBeEnabled();
});

test('a file that is not an image gives a clear error, and the page still works', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  await openHome(page);
  await chooseFile(page, NOT_AN_IMAGE);
  await runTool(page, /^Colorize/);
  const alert = page.locator('.alert');
  await expect(alert).toContainText('Could not process this image');
  await expect(alert).toContainText('not an image this server can read');
  await snapshot(page, testInfo, '08-error-not-an-image');
  // Recovers: a good photo afterwards works and the error goes away.
  await chooseFile(page, SMALL_PHOTO);
  await expect(alert).toBeHidden();
  await runTool(page, /^Upscale ×2/);
  await expect(page.getByTestId('output-size')).toHaveText('128 × 96');
  console.expectNone(EXPECTED_HTTP_ERRORS);
});

test('an oversized image gives a clear error, and the page still works', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  await openHome(page);
  // Over MAX_INPUT_PIXELS (4 MP in the e2e server) but only a few kB: refused by the server.
  await chooseFile(page, { name: 'huge.png', mimeType: 'image/png', buffer: await flatPng(2100, 2000) });
  await runTool(page, /^Colorize/);
  const alert = page.locator('.alert');
  await expect(alert).toContainText(/limit/i);
  await snapshot(page, testInfo, '09-error-too-many-pixels');
  // Over MAX_UPLOAD_BYTES: refused in the page before uploading.
  const big = Buffer.alloc(E2E_LIMITS.MAX_UPLOAD_BYTES + 1000, 7);
  await chooseFile(page, { name: 'big.png', mimeType: 'image/png', buffer: big });
  await expect(alert).toContainText('This file is too large');
  await expect(runButton(page)).toBeDisabled();
  await snapshot(page, testInfo, '10-error-too-many-bytes');
  // Still works.
  await chooseFile(page, GRAY_PHOTO);
  await runTool(page, /^Colorize/);
  await expect(page.getByTestId('output-size')).toHaveText('128 × 96');
  console.expectNone(EXPECTED_HTTP_ERRORS);
});

test('a long job shows tile progress and can be cancelled, from the keyboard too', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  await openHome(page);
  // ×2 of 1400 x 1400 = 7.8 MP out, under the e2e server's 8 MP output limit; many tiles.
  await chooseFile(page, { name: 'large.png', mimeType: 'image/png', buffer: await noisyPng(1400, 1400) });
  await toolRadio(page, /^Upscale ×2/).check();
  await runButton(page).focus();
  await page.keyboard.press('Enter');
  // The run button is disabled while working: focus moves to Cancel instead of falling to the page.
  const cancel = page.getByRole('button', { name: 'Cancel' });
  await expect(cancel).toBeFocused();
  await expect(page.getByText(/tiles done/)).toBeVisible();
  await expect(page.getByRole('progressbar', { name: 'Progress' })).toBeVisible();
  // The status is a live region: the elapsed-time clock (visible) stays out of what screen readers hear.
  await expect(page.locator('.progress-text')).toContainText(/\d s$/);
  expect(await page.locator('.status').ariaSnapshot()).not.toMatch(/\d s\b/);
  await snapshot(page, testInfo, '11-progress');
  await page.keyboard.press('Enter');
  await expect(page.getByText(/^Cancelled/)).toBeVisible();
  // Cancel is gone: focus is back on the run button, ready to try again.
  await expect(runButton(page)).toBeFocused();
  await expect(page.getByRole('heading', { name: 'Result' })).toHaveCount(0);
  await snapshot(page, testInfo, '12-cancelled');
  // The server is free again: a small job goes through at once.
  await chooseFile(page, SMALL_PHOTO);
  await runTool(page, /^Upscale ×2/);
  await expect(page.getByTestId('output-size')).toHaveText('128 × 96');
  console.expectNone(EXPECTED_HTTP_ERRORS);
});

test('the training page shows the runs with curves, samples and config', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  // The e2e server reads RUNS_DIR=e2e/fixtures/runs (one run, colorize-demo).
  await page.goto('/training');
  await expect(page.getByRole('heading', { level: 1, name: 'Training runs' })).toBeVisible();
  await expect(page.getByRole('link', { name: /colorize-demo/ })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('heading', { level: 2, name: /colorize-demo/ })).toBeVisible();
  // Last complete step is 300; the half-written line after it is skipped, not fatal.
  await expect(page.locator('.stats')).toContainText('300');
  await expect(page.getByText('1 log line was not readable and skipped.')).toBeVisible();
  // uPlot drew the loss and validation charts.
  await expect(page.getByRole('img', { name: /Training losses/ }).locator('canvas')).toBeVisible();
  await expect(page.getByRole('img', { name: /Validation psnr/ }).locator('canvas')).toBeVisible();
  await expect(page.getByRole('img', { name: /Validation chromaRatio/ }).locator('canvas')).toBeVisible();
  const sample = page.getByRole('img', { name: /Sample grid of colorize-demo at step 300/ });
  await expect(sample).toBeVisible();
  expect(await sample.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(296);
  await expect(page.locator('pre.config')).toContainText('"batchSize": 4');
  await snapshot(page, testInfo, '13-training');
  console.expectNone();
});
