/**
 * End-to-end tests against a production build of the app, driven by Debian's Chromium (Playwright's
 * own browser downloads cannot run here). The web server is built and started by Playwright itself.
 */
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { E2E_LIMITS } from './e2e/limits';

const PORT = Number(process.env.E2E_PORT ?? 3100);
const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  fullyParallel: false,
  // One inference at a time on the server; parallel workers would only queue.
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 120_000,
  expect: { timeout: 60_000 },
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : [['list']],
  use: {
    baseURL: BASE_URL,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    acceptDownloads: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'desktop', use: { browserName: 'chromium', viewport: { width: 1280, height: 900 } } },
  ],
  webServer: {
    command: `npm run build && npm run serve -- -p ${PORT} -H 127.0.0.1`,
    // The home page answers 200 even when the models failed to load, so a broken set-up fails the
    // tests at once with a clear message instead of timing out here (the health route would say 503).
    url: `${BASE_URL}/`,
    timeout: 600_000,
    reuseExistingServer: !process.env.CI && !!process.env.E2E_REUSE_SERVER,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      ...Object.fromEntries(Object.entries(E2E_LIMITS).map(([k, v]) => [k, String(v)])),
      // A small fixed run folder, so that the training page has something to draw.
      RUNS_DIR: path.join(__dirname, 'e2e', 'fixtures', 'runs'),
      // Links to the shipped models plus two tiny paired ones (which the shipped set lacks), for the
      // Translate tool; e2e/fixtures/paired-models.ts writes it.
      MODELS_DIR: path.join(__dirname, 'e2e', 'fixtures', 'models'),
      NEXT_TELEMETRY_DISABLED: '1',
    },
  },
});
