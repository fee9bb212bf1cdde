/**
 * The web page as a person uses it: choose a photo, pick a tool, wait, compare, download; and the
 * error paths, after which the page must still work.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import sharp from 'sharp';
import { E2E_LIMITS } from './limits';
import {
  backgroundContrast,
  expectFocusClearOfHeader,
  FIXTURES,
  flatPng,
  GRAY_PHOTO,
  imageStats,
  MIN_COLOUR_SATURATION,
  noisyPng,
  NOT_AN_IMAGE,
  openHome,
  recordAnnouncements,
  runButton,
  SMALL_PHOTO,
  snapshot,
  textContrast,
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

/** Jobs running and waiting on the server. */
async function serverQueue(request: APIRequestContext) {
  const { queue } = (await (await request.get('/api/health')).json()) as { queue: { running: number; waiting: number } };
  return { running: queue.running, waiting: queue.waiting };
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
    // One tool for all paired models (the e2e models folder has two), which asks which one to run.
    models.some((m) => m.task === 'paired') && 'Translate (your models)',
  ].filter((label): label is string => typeof label === 'string');
  await expect(page.getByRole('radio')).toHaveCount(expected.length);
  const escaped = (label: string) => label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const label of expected) await expect(page.getByRole('radio', { name: new RegExp(`^${escaped(label)}`) })).toBeVisible();
  await expect(runButton(page)).toBeDisabled();
  await expect(page.getByRole('heading', { name: 'Help' })).toBeVisible();
  await expect(page.getByText('npm run train -- --task colorize --data <folder>')).toBeVisible();
  await snapshot(page, testInfo, '01-home');
  // Keyboard: the file picker and the tools are reachable with Tab and show a focus ring.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  // The status region is in the accessibility tree while idle (not display: none), so that screen
  // readers are watching it before its first message.
  await expect(page.getByRole('status')).toHaveCount(1);
  // The picker says what it takes; each tool is named by its label alone, its description apart.
  const picker = page.locator('input[type="file"]');
  await expect(picker).toHaveAccessibleDescription(/^JPEG, PNG, WebP and more · up to /);
  const colorize = page.getByRole('radio', { name: 'Colorize', exact: true });
  await expect(colorize).toHaveAccessibleDescription(/plausible colour/);
  // With no photo yet, Tab still reaches the run button, which says what it needs and does nothing.
  await colorize.check();
  await picker.focus();
  await page.keyboard.press('Tab');
  await expect(colorize).toBeFocused();
  // Then the colorizer's own option, the colour strength.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('slider', { name: /Colour strength/ })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(runButton(page)).toBeFocused();
  await expect(runButton(page)).toHaveAttribute('aria-disabled', 'true');
  await expect(runButton(page)).toHaveAccessibleDescription('Choose a photo first.');
  const jobRequests: string[] = [];
  page.on('request', (r) => void (r.url().includes('/api/jobs') && jobRequests.push(r.url())));
  await page.keyboard.press('Enter');
  await page.keyboard.press('Space');
  await expect(page.locator('.progress-block')).toHaveCount(0);
  expect(jobRequests).toEqual([]);
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
  await expect(page.locator('.source-preview').getByText('128 × 96')).toBeVisible();
  // Choosing the photo is announced, with its size and that the tool can run now.
  const announcer = page.getByTestId('announcer');
  await expect(announcer).toHaveText(/^Photo loaded: landscape-gray\.png, 128 × 96, [\d.]+ [kK]i?B\. The Colorize button is ready\.$/);
  await snapshot(page, testInfo, '04-photo-chosen');
  await runTool(page, /^Colorize/);
  // So is the end of the run, with what it made.
  await expect(announcer).toHaveText(/^Done\. Colorized landscape-gray\.png: 128 × 96, in [\d.]+ s\.$/);
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
  // The two pictures of the comparison say which is which.
  await expect(page.getByRole('img', { name: 'Original: landscape-gray.png', exact: true })).toBeAttached();
  await expect(page.getByRole('img', { name: 'Colorized result, 128 × 96', exact: true })).toBeVisible();
  // The comparison divider moves with the keyboard.
  const divider = page.getByRole('slider', { name: /Divider/ });
  await divider.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(divider).toHaveValue('49');
  const compareButton = page.getByRole('button', { name: 'Compare', exact: true });
  const sideButton = page.getByRole('button', { name: 'Side by side' });
  await sideButton.click();
  // The pressed button of a toggle group stands out from the others by 3:1 at least, light and dark.
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await expect(sideButton).toHaveAttribute('aria-pressed', 'true');
    expect(await backgroundContrast(sideButton, compareButton), colorScheme).toBeGreaterThanOrEqual(3);
    expect(await textContrast(sideButton), colorScheme).toBeGreaterThanOrEqual(4.5);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  // Side by side, each picture is a figure named by its caption, without an alt repeating it.
  const original = page.getByRole('figure', { name: 'Original: landscape-gray.png', exact: true });
  const colorized = page.getByRole('figure', { name: 'Colorized result, 128 × 96', exact: true });
  await expect(original).toBeVisible();
  await expect(colorized.getByRole('img')).toHaveCount(0);
  // Fitted, the panes do not scroll and are no tab stops; zoomed, each is one, named after its picture.
  const panes = page.locator('.pane-viewport');
  for (const pane of await panes.all()) {
    expect(await pane.evaluate((e) => [e.scrollWidth - e.clientWidth, e.scrollHeight - e.clientHeight])).toEqual([0, 0]);
    await expect(pane).not.toHaveAttribute('tabindex');
  }
  await page.getByRole('button', { name: '200%' }).click();
  await expect(colorized.locator('img')).toHaveCSS('width', '256px');
  const zoomedPane = colorized.getByRole('group', { name: 'Colorized result, 128 × 96', exact: true });
  await expect(zoomedPane).toHaveAttribute('tabindex', '0');
  await expect(zoomedPane).toHaveAccessibleDescription(/arrow keys/);
  await snapshot(page, testInfo, '06-colorized-side-by-side');
  console.expectNone();
});

test('translates with the paired model chosen: same size, named after the model, downloadable', async ({ page, request }, testInfo) => {
  const console = watchConsole(page);
  await openHome(page);
  // The model choice belongs to the Translate tool: not there before it is picked.
  const modelGroup = page.getByRole('group', { name: 'Model' });
  await expect(modelGroup).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Translate (your models)' })).toBeVisible();
  await chooseFile(page, SMALL_PHOTO);
  await expect(page.locator('.source-preview').getByText('64 × 48')).toBeVisible();
  await toolRadio(page, /^Translate/).check();
  await expect(toolRadio(page, /^Translate/)).toHaveAccessibleDescription(/--task paired/);
  // Each paired model is a radio named by the model and described by its metadata's description.
  await expect(modelGroup.getByRole('radio')).toHaveCount(2);
  const first = modelGroup.getByRole('radio', { name: 'tiny-paired-a', exact: true });
  const second = modelGroup.getByRole('radio', { name: 'tiny-paired-b', exact: true });
  await expect(first).toBeChecked();
  await expect(first).toHaveAccessibleDescription(/^Test model A: a tiny random-weight U-Net/);
  await expect(runButton(page)).toHaveText('Translate with tiny-paired-a');
  // From the keyboard: the model group is a tab stop of its own after the tools, arrows move in it.
  await first.focus();
  await page.keyboard.press('ArrowDown');
  await expect(second).toBeFocused();
  await expect(second).toBeChecked();
  await expect(runButton(page)).toHaveText('Translate with tiny-paired-b');
  await snapshot(page, testInfo, '07-translate-model-chosen');
  await runButton(page).click();
  await expect(page.getByTestId('announcer')).toHaveText(/^Done\. Translated \(tiny-paired-b\) landscape-small\.jpg: 64 × 48, in [\d.]+ s\.$/);
  const { name, bytes } = await downloadResult(page);
  expect(name).toBe('landscape-small-translated-tiny-paired-b.png');
  await expect(page.getByTestId('output-size')).toHaveText('64 × 48');
  await expect(page.getByTestId('result-details')).toContainText('tiny-paired-b');
  await expect(page.getByRole('img', { name: 'Translated (tiny-paired-b) result, 64 × 48', exact: true })).toBeVisible();
  // The page ran the model chosen: its result is what the API gives for that model, not the other's.
  const pixels = async (png: Buffer) => (await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true }));
  const got = await pixels(bytes);
  expect([got.info.width, got.info.height]).toEqual([64, 48]);
  const maxDiff = (a: Buffer, b: Buffer) => a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!)), 0);
  const byApi = async (model: string) => {
    const response = await request.post('/api/translate', { multipart: { image: { name: 'x.jpg', mimeType: 'image/jpeg', buffer: await fs.readFile(SMALL_PHOTO) }, model } });
    expect(response.status()).toBe(200);
    return (await pixels(await response.body())).data;
  };
  expect(maxDiff(got.data, await byApi('tiny-paired-b'))).toBeLessThanOrEqual(1);
  expect(maxDiff(got.data, await byApi('tiny-paired-a'))).toBeGreaterThan(16);
  await snapshot(page, testInfo, '07-translated');
  // Other tools are as they were: no model choice with them.
  await toolRadio(page, /^Colorize/).check();
  await expect(modelGroup).toHaveCount(0);
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

test('the colour strength slider is offered for colorizing only; a stronger colour is more saturated and named so', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  await openHome(page);
  await chooseFile(page, GRAY_PHOTO);
  const strength = page.getByRole('slider', { name: /Colour strength/ });
  await toolRadio(page, /^Upscale ×2/).check();
  await expect(strength).toHaveCount(0);
  await toolRadio(page, /^Colorize/).check();
  await expect(strength).toHaveValue('1');
  await expect(strength).toHaveAccessibleDescription(/most faithful guess/);
  await runButton(page).click();
  const plain = await downloadResult(page);
  expect(plain.name).toBe('landscape-gray-colorized.png');
  await strength.focus();
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
  await expect(strength).toHaveValue('1.5');
  await expect(page.locator('.range-option .range-value')).toHaveText('1.5');
  await runButton(page).click();
  await expect(page.getByTestId('announcer')).toHaveText(/^Done\. Colorized \(colour strength 1\.5\) landscape-gray\.png: 128 × 96/);
  const strong = await downloadResult(page);
  expect(strong.name).toBe('landscape-gray-colorized-strength1.5.png');
  const [plainStats, strongStats] = [await imageStats(plain.bytes), await imageStats(strong.bytes)];
  expect([strongStats.width, strongStats.height]).toEqual([128, 96]);
  testInfo.annotations.push({ type: 'mean saturation at 1 and 1.5', description: `${plainStats.meanSaturation.toFixed(3)}, ${strongStats.meanSaturation.toFixed(3)}` });
  expect(strongStats.meanSaturation).toBeGreaterThan(plainStats.meanSaturation * 1.2);
  await snapshot(page, testInfo, '07b-colorized-strength');
  console.expectNone();
});

/** Pastes a file (base64 bytes) on the page as a clipboard paste does (`name` '' for an unnamed one, as screenshots come). */
async function pasteFile(page: Page, base64: string, name: string, type: string): Promise<void> {
  await page.evaluate(
    async ({ base64, name, type }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], name, { type }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
    },
    { base64, name, type },
  );
}

test('accepts a pasted and a dropped image', async ({ page }) => {
  await openHome(page);
  const png = (await fs.readFile(GRAY_PHOTO)).toString('base64');
  // Paste anywhere on the page.
  await pasteFile(page, png, 'pasted.png', 'image/png');
  await expect(page.locator('.source-preview .file-name')).toHaveText('pasted.png');
  // A pasted image often has no name: it is named after its type, not always "pasted.png".
  const jpeg = (await fs.readFile(SMALL_PHOTO)).toString('base64');
  await pasteFile(page, jpeg, '', 'image/jpeg');
  await expect(page.locator('.source-preview .file-name')).toHaveText('pasted.jpg');
  // Drop onto the drop zone.
  const dataTransfer = await page.evaluateHandle(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
    return data;
  }, png);
  await page.locator('.dropzone').dispatchEvent('drop', { dataTransfer });
  await expect(page.locator('.source-preview .file-name')).toHaveText('dropped.png');
  await expect(runButton(page)).toBeEnabled();
  // Dropped anywhere else on the page: taken too, and not left to the browser, which would open the
  // file in the tab (leaving the app). A cancelled event is how the page tells the browser so.
  const notHandled = await page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'dropped-on-page.png', { type: 'image/png' }));
    const target = document.querySelector('.hero')!;
    const init = { dataTransfer: data, bubbles: true, cancelable: true };
    return {
      dragover: target.dispatchEvent(new DragEvent('dragover', init)),
      drop: target.dispatchEvent(new DragEvent('drop', init)),
    };
  }, png);
  expect(notHandled).toEqual({ dragover: false, drop: false });
  await expect(page.locator('.source-preview .file-name')).toHaveText('dropped-on-page.png');
  // The file's name carries through to the download.
  await pasteFile(page, jpeg, '', 'image/jpeg');
  await runTool(page, /^Upscale ×2/);
  const { name } = await downloadResult(page);
  expect(name).toBe('pasted-x2.png');
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
  const heard = await recordAnnouncements(page);
  await runButton(page).focus();
  await page.keyboard.press('Enter');
  // The run button is disabled while working: focus moves to Cancel instead of falling to the page.
  const cancel = page.getByRole('button', { name: 'Cancel' });
  await expect(cancel).toBeFocused();
  const tiles = page.getByTestId('tiles');
  await expect(tiles).toBeVisible();
  await expect(page.getByRole('progressbar', { name: 'Progress' })).toBeVisible();
  // The elapsed-time clock (visible) and the tile count (the progress bar's text already) stay out of
  // what screen readers hear.
  await expect(page.locator('.progress-text')).toContainText(/\d s$/);
  expect(await page.locator('.status').ariaSnapshot()).not.toMatch(/\d s\b/);
  await expect(tiles).toHaveAttribute('aria-hidden', 'true');
  await snapshot(page, testInfo, '11-progress');
  // Progress is announced in steps, a quarter of the tiles at a time, not tile by tile.
  const announcer = page.getByTestId('announcer');
  await expect(announcer).toHaveText(/^\d+% done, \d+ of \d+ tiles\.$/);
  const tilesDone = Number(/^(\d+) \//.exec((await tiles.textContent()) ?? '')?.[1]);
  const messages = await heard();
  expect(messages[0]).toBe('Uploading large.png…');
  expect(messages).toContainEqual(expect.stringMatching(/^Processing \d+ tiles\.$/));
  expect(messages.filter((m) => /% done/.test(m)).length).toBeLessThanOrEqual(2);
  expect(messages.length).toBeLessThan(tilesDone);
  // A file dropped on the page while working is refused, and kept from the browser (which would open it
  // and so leave the page and the job).
  const dropWhileBusy = await page.evaluate(() => {
    const data = new DataTransfer();
    data.items.add(new File(['x'], 'late.png', { type: 'image/png' }));
    return document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  });
  expect(dropWhileBusy).toBe(false);
  await expect(page.locator('.source-preview .file-name')).toHaveText('large.png');
  await page.keyboard.press('Enter');
  await expect(page.locator('.notice')).toHaveText(/^Cancelled/);
  await expect(announcer).toHaveText(/^Cancelled\./);
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
  // The fixture is a GAN run with every loss positive: all four curves, on a log axis.
  const losses = page.getByRole('figure', { name: 'Training losses of colorize-demo by step (log scale)' });
  const canvas = losses.locator('canvas');
  await expect(canvas).toBeVisible();
  // What uPlot draws is hidden from screen readers (its legend was a table of "--"); the legend is
  // buttons that switch a curve off and on, from the keyboard too.
  expect(await canvas.evaluate((e) => e.closest('[aria-hidden="true"]') !== null)).toBe(true);
  expect(await losses.ariaSnapshot()).not.toContain('--');
  for (const label of ['G total', 'G adversarial', 'G pixel loss', 'D']) {
    await expect(losses.getByRole('button', { name: label, exact: true })).toHaveAttribute('aria-pressed', 'true');
  }
  const before = await canvas.screenshot();
  const discriminator = losses.getByRole('button', { name: 'D', exact: true });
  await discriminator.focus();
  await page.keyboard.press('Space');
  await expect(discriminator).toHaveAttribute('aria-pressed', 'false');
  await expect.poll(async () => (await canvas.screenshot()).equals(before)).toBe(false);
  await page.keyboard.press('Enter');
  await expect(discriminator).toHaveAttribute('aria-pressed', 'true');
  // The values in words: first, last, lowest and highest of each curve, from the fixture's log.
  await losses.locator('summary').click();
  await expect(losses.getByRole('row', { name: /^G total/ }).getByRole('cell')).toHaveText([
    '3.066 at step 10',
    '1.698 at step 300',
    '1.698 at step 300',
    '3.141 at step 20',
  ]);
  const psnr = page.getByRole('figure', { name: /Validation psnr/ });
  await expect(psnr.locator('canvas')).toBeVisible();
  await psnr.locator('summary').click();
  await expect(psnr.getByRole('row', { name: /^psnr/ }).getByRole('cell')).toHaveText([
    '21.00 at step 100',
    '23.00 at step 300',
    '21.00 at step 100',
    '23.00 at step 300',
  ]);
  await expect(page.getByRole('figure', { name: /Validation chromaRatio/ }).locator('canvas')).toBeVisible();
  const sample = page.getByRole('img', { name: /Sample grid of colorize-demo at step 300/ });
  await expect(sample).toBeVisible();
  expect(await sample.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(296);
  await expect(page.locator('pre.config')).toContainText('"batchSize": 4');
  await snapshot(page, testInfo, '13-training');
  console.expectNone();
});

test('Cancel while uploading also cancels the job the server has already made', async ({ page, request }, testInfo) => {
  const console = watchConsole(page);
  await openHome(page);
  await chooseFile(page, { name: 'large.png', mimeType: 'image/png', buffer: await noisyPng(1400, 1400) });
  await toolRadio(page, /^Upscale ×2/).check();
  // Hold back the server's answer to the upload until Cancel has been pressed: the job exists on the
  // server, but the page does not know its id yet and still says "Uploading…". That is the window a
  // slow network leaves open.
  let answered!: (status: number) => void;
  const serverAnswered = new Promise<number>((resolve) => (answered = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/jobs', async (route) => {
    if (route.request().method() !== 'POST') return route.fallback();
    const response = await route.fetch();
    answered(response.status());
    await released;
    // The page may have given up on the request; then there is no one to answer.
    await route.fulfill({ response }).catch(() => undefined);
  });
  await runButton(page).click();
  expect(await serverAnswered).toBe(202);
  await expect(page.locator('.progress-text')).toContainText('Uploading…');
  const deleted = page.waitForRequest((r) => r.method() === 'DELETE' && /\/api\/jobs\/[\w-]+$/.test(r.url()));
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.locator('.notice')).toHaveText(/^Cancelled/);
  await expect(runButton(page)).toBeEnabled();
  release();
  // The job stops at its next tile. The health check itself waits for the tile in progress (inference
  // holds the event loop), which on a busy 2-core machine is a few seconds; the whole job is a minute.
  await expect.poll(() => serverQueue(request), { timeout: 15_000 }).toEqual({ running: 0, waiting: 0 });
  await deleted;
  // The late answer did not bring the progress back.
  await expect(page.locator('.notice')).toHaveText(/^Cancelled/);
  await expect(page.locator('.progress-block')).toHaveCount(0);
  await snapshot(page, testInfo, '14-cancelled-while-uploading');
  await page.unroute('**/api/jobs');
  // And the page works as before.
  await chooseFile(page, SMALL_PHOTO);
  await runTool(page, /^Upscale ×2/);
  await expect(page.getByTestId('output-size')).toHaveText('128 × 96');
  console.expectNone(EXPECTED_HTTP_ERRORS);
});

test('following a link to the Training page stops the running job', async ({ page, request }) => {
  const console = watchConsole(page);
  await openHome(page);
  await chooseFile(page, { name: 'large.png', mimeType: 'image/png', buffer: await noisyPng(1400, 1400) });
  await runTool(page, /^Upscale ×2/);
  await expect(page.getByText(/tiles done/)).toBeVisible();
  // A client-side navigation: no pagehide, the tool is only unmounted.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Training' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Training runs' })).toBeVisible();
  await expect.poll(() => serverQueue(request), { timeout: 15_000 }).toEqual({ running: 0, waiting: 0 });
  console.expectNone();
});

test('a photo the browser cannot show (TIFF) gets its result alone, not a broken comparison', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  await openHome(page);
  const tiff = await sharp(await fs.readFile(SMALL_PHOTO)).tiff().toBuffer();
  await chooseFile(page, { name: 'scan.tif', mimeType: 'image/tiff', buffer: tiff });
  await expect(page.getByText('No preview for this file')).toBeVisible();
  await expect(page.getByTestId('announcer')).toHaveText(/^File chosen: scan\.tif, .*This browser cannot show it/);
  await runTool(page, /^Upscale ×2/);
  await expect(page.getByRole('heading', { name: 'Result' })).toBeVisible();
  await expect(page.getByTestId('output-size')).toHaveText('128 × 96');
  // No "Original" to compare with, so no comparison controls either; the result itself shows.
  await expect(page.getByRole('img', { name: /^Original/ })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Side by side' })).toHaveCount(0);
  await expect(page.getByRole('slider', { name: /Divider/ })).toHaveCount(0);
  await expect(page.getByText(/cannot show the original/)).toBeVisible();
  const result = page.getByRole('img', { name: 'Upscaled ×2 result, 128 × 96', exact: true });
  await expect(result).toBeVisible();
  await expect.poll(() => result.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(128);
  await snapshot(page, testInfo, '15-tiff-result');
  const { name } = await downloadResult(page);
  expect(name).toBe('scan-x2.png');
  console.expectNone();
});

test('very wide and very tall results stay usable in the comparison', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  await openHome(page);
  for (const [width, height] of [
    [3000, 2],
    [2, 1500],
  ] as const) {
    await chooseFile(page, { name: `strip-${width}x${height}.png`, mimeType: 'image/png', buffer: await noisyPng(width, height) });
    await runTool(page, /^Upscale ×2/);
    await expect(page.getByTestId('output-size')).toHaveText(`${width * 2} × ${height * 2}`);
    const compare = page.locator('.compare');
    await compare.scrollIntoViewIfNeeded();
    const box = (await compare.boundingBox())!;
    // Big enough to grab, and no taller than the screen.
    expect(box.height).toBeGreaterThanOrEqual(150);
    expect(box.width).toBeGreaterThanOrEqual(150);
    expect(box.height).toBeLessThanOrEqual(0.7 * 900 + 1);
    // The knob and the Before/After tags stay inside the frame.
    for (const part of ['.compare-knob', '.compare-tag-before', '.compare-tag-after']) {
      const inner = (await page.locator(part).boundingBox())!;
      expect(inner.x).toBeGreaterThanOrEqual(box.x - 0.5);
      expect(inner.y).toBeGreaterThanOrEqual(box.y - 0.5);
      expect(inner.x + inner.width).toBeLessThanOrEqual(box.x + box.width + 0.5);
      expect(inner.y + inner.height).toBeLessThanOrEqual(box.y + box.height + 0.5);
    }
    // The divider follows the pointer.
    await page.mouse.click(box.x + box.width * 0.25, box.y + box.height / 2);
    const slider = page.getByRole('slider', { name: /Divider/ });
    await expect.poll(async () => Math.abs(Number(await slider.inputValue()) - 25)).toBeLessThanOrEqual(5);
    await snapshot(page, testInfo, `16-compare-${width}x${height}`);
    // Side by side, fitted: panes of a usable size that stay in their column, the image inside them.
    await page.getByRole('button', { name: 'Side by side' }).click();
    const column = (await page.locator('.side-by-side').boundingBox())!;
    for (const pane of await page.locator('.pane-viewport').all()) {
      const paneBox = (await pane.boundingBox())!;
      expect(paneBox.height).toBeGreaterThanOrEqual(100);
      expect(paneBox.height).toBeLessThanOrEqual(0.7 * 900 + 1);
      expect(paneBox.x + paneBox.width).toBeLessThanOrEqual(column.x + column.width + 0.5);
      const image = (await pane.locator('img').boundingBox())!;
      expect(image.height).toBeLessThanOrEqual(paneBox.height);
      expect(image.width).toBeLessThanOrEqual(paneBox.width);
      // Fitted means nothing to scroll: not even a pixel, which would make the pane a tab stop.
      expect(await pane.evaluate((e) => [e.scrollWidth - e.clientWidth, e.scrollHeight - e.clientHeight])).toEqual([0, 0]);
    }
    await page.getByRole('button', { name: 'Compare' }).click();
  }
  console.expectNone();
});

test('on a phone, the zoom buttons fit and the training page shows the run before the list', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  await page.setViewportSize({ width: 375, height: 812 });
  await openHome(page);
  await chooseFile(page, SMALL_PHOTO);
  await runTool(page, /^Upscale ×2/);
  await page.getByRole('button', { name: 'Side by side' }).click();
  // Every zoom button lies within the card's content (the button group clips what sticks out).
  const content = (await page.locator('.side-by-side').boundingBox())!;
  for (const label of ['Fit', '100%', '200%', '400%']) {
    const button = (await page.getByRole('button', { name: label, exact: true }).boundingBox())!;
    expect(button.x + button.width, label).toBeLessThanOrEqual(content.x + content.width + 0.5);
  }
  await page.getByRole('button', { name: '400%' }).click();
  await expect(page.getByRole('figure', { name: 'Upscaled ×2 result, 128 × 96' }).locator('img')).toHaveCSS('width', '512px');
  await snapshot(page, testInfo, '17-phone-side-by-side');

  await page.goto('/training');
  const heading = (await page.getByRole('heading', { level: 2, name: /colorize-demo/ }).boundingBox())!;
  const list = (await page.getByRole('navigation', { name: 'Training runs' }).boundingBox())!;
  expect(heading.y).toBeLessThan(list.y);
  // The list is one tap away.
  await page.getByRole('link', { name: /All runs/ }).click();
  await expect(page.getByRole('navigation', { name: 'Training runs' })).toBeInViewport();
  await snapshot(page, testInfo, '18-phone-training');
  console.expectNone();
});

test('an unknown run is a 404 that still lists the runs', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  const response = await page.goto('/training?run=nope');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Run not found' })).toBeVisible();
  await expect(page.getByText(/There is no run by that name/)).toBeVisible();
  await expect(page.getByRole('link', { name: /colorize-demo/ })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  await snapshot(page, testInfo, '19-training-404');
  console.expectNone(EXPECTED_HTTP_ERRORS);
});

test('a live run: its badges are legible, and its updates say how often and can be paused', async ({ page }, testInfo) => {
  const console = watchConsole(page);
  // A run is live while its log was written in the last minute: touch the fixture's, and put its time back after.
  const log = path.join(FIXTURES, 'runs', 'colorize-demo', 'log.jsonl');
  const { atime, mtime } = await fs.stat(log);
  await fs.utimes(log, atime, new Date());
  try {
    // Refreshes are server-component fetches (RSC), told from link prefetches by their headers.
    const refreshes: string[] = [];
    page.on('request', (r) => {
      const headers = r.headers();
      if (headers.rsc === '1' && !headers['next-router-prefetch']) refreshes.push(r.url());
    });
    await page.goto('/training');
    const status = page.locator('.live-status');
    await expect(status.locator('.badge.live')).toHaveText('● Live');
    // The dot is decoration; the interval is on the page, not in a tooltip.
    await expect(status.locator('.badge.live [aria-hidden="true"]')).toHaveText('●');
    await expect(page.getByTestId('refresh-state')).toHaveText('Updates every 5 s');
    // Small bold text needs 4.5:1: the badge above the run and the one in the run list (on the
    // selected run's tinted background), light and dark.
    const badges = page.locator('.badge.live');
    await expect(badges).toHaveCount(2);
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      for (const badge of await badges.all()) expect(await textContrast(badge), colorScheme).toBeGreaterThanOrEqual(4.5);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await snapshot(page, testInfo, '20-training-live');

    // In real time, as the page runs it: a refresh every 5 s.
    await expect.poll(() => refreshes.length, { timeout: 8_000 }).toBeGreaterThanOrEqual(1);
    await page.getByRole('button', { name: 'Pause updates' }).click();
    await expect(page.getByTestId('refresh-state')).toHaveText('Updates paused');
    // A refresh already on its way when the button was pressed still lands; none start after.
    await page.waitForTimeout(500);
    const seen = refreshes.length;
    await page.waitForTimeout(11_000);
    expect(refreshes).toHaveLength(seen);
    // Resuming catches up at once, then every 5 s again.
    await page.getByRole('button', { name: 'Resume updates' }).click();
    await expect(page.getByTestId('refresh-state')).toHaveText('Updates every 5 s');
    await expect.poll(() => refreshes.length, { timeout: 2_000 }).toBe(seen + 1);
    await expect.poll(() => refreshes.length, { timeout: 8_000 }).toBe(seen + 2);
  } finally {
    await fs.utimes(log, atime, mtime);
  }
  console.expectNone();
});

test('keyboard focus never ends up under the sticky header', async ({ page }) => {
  const console = watchConsole(page);
  for (const viewport of [
    { width: 1280, height: 600 },
    { width: 320, height: 640 },
  ]) {
    await page.setViewportSize(viewport);
    await openHome(page);
    // A result makes the page long enough to scroll, with every kind of control on it.
    await chooseFile(page, GRAY_PHOTO);
    await runTool(page, /^Colorize/);
    await expect(page.getByRole('heading', { name: 'Result' })).toBeVisible();
    expect(await expectFocusClearOfHeader(page)).toBeGreaterThanOrEqual(6);
    // The Help link's target lands below the header too.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Help' }).click();
    const help = page.locator('#help');
    await expect(help).toBeInViewport();
    const headerBottom = await page.locator('.site-header').evaluate((e) => e.getBoundingClientRect().bottom);
    await expect.poll(async () => (await help.boundingBox())!.y).toBeGreaterThanOrEqual(headerBottom);
    await page.goto('/training');
    expect(await expectFocusClearOfHeader(page)).toBeGreaterThanOrEqual(3);
  }
  // On a short screen (a phone held sideways, a desktop zoomed in) the header scrolls away instead.
  await page.setViewportSize({ width: 900, height: 420 });
  await expect(page.locator('.site-header')).toHaveCSS('position', 'static');
  expect(await expectFocusClearOfHeader(page)).toBeGreaterThanOrEqual(3);
  console.expectNone();
});
