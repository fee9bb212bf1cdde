/**
 * `npm run bench:api -- [--url http://localhost:3000] [--burst 20] [--pid <server pid>] [--json]`:
 * measures the running app through its HTTP API: 1 MP colorize and 256->1024 x4 upscale latency
 * (median of 3 after a warm-up), `GET /api/health` latency while an x4 ensemble job runs, then a
 * burst of concurrent uploads (every request must be answered 200 or 503, the server must still be
 * healthy) while sampling the server's resident memory.
 */
import { promises as fs } from 'node:fs';
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { z } from 'zod';
import { flag, parseCli, runCli } from '@/lib/cli/args';

const schema = z.object({
  url: z.string().url().default('http://localhost:3000'),
  burst: flag.number('burst', { int: true, min: 1, max: 200 }).default(20),
  pid: flag.int('pid').optional(),
  json: z.boolean().default(false),
  positionals: z.array(z.string()).max(0),
});

async function image(width: number, height: number, gray: boolean): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = (y * width + x) * 3;
      data[k] = (128 + 90 * Math.sin(x / 23) * Math.cos(y / 31)) | 0;
      data[k + 1] = gray ? data[k]! : (128 + 90 * Math.cos(x / 17)) | 0;
      data[k + 2] = gray ? data[k]! : ((x + y) / 4) % 256 | 0;
    }
  }
  const s = sharp(data, { raw: { width, height, channels: 3 } });
  return (gray ? s.grayscale() : s).png().toBuffer();
}

async function post(url: string, png: Buffer): Promise<{ status: number; ms: number }> {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'bench.png');
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', body: form });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - t0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function serverPid(explicit?: number): number | undefined {
  if (explicit) return explicit;
  try {
    const out = execFileSync('pgrep', ['-f', 'next-server'], { encoding: 'utf8' }).trim().split('\n')[0];
    return out ? Number(out) : undefined;
  } catch {
    return undefined;
  }
}

async function rssMb(pid: number): Promise<number | undefined> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : undefined;
}

/**
 * `GET /api/health` latency, polled every 100 ms while one x4 ensemble upscale (8 model runs) holds
 * the server: what a page or a poll waits for while a job runs.
 */
async function healthWhileBusy(base: string, png: Buffer): Promise<{ samples: number; medianMs: number; maxMs: number; jobMs: number }> {
  let busy = true;
  const job = post(`${base}/api/upscale?scale=4&ensemble=true`, png).finally(() => (busy = false));
  const latencies: number[] = [];
  // Let the job reach the model before sampling.
  await new Promise((r) => setTimeout(r, 300));
  while (busy) {
    const t0 = performance.now();
    await fetch(`${base}/api/health`).then((r) => r.arrayBuffer());
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { status, ms } = await job;
  if (status !== 200) throw new Error(`the x4 ensemble upscale answered ${status}`);
  if (latencies.length === 0) throw new Error('the x4 ensemble upscale ended before health could be sampled');
  return { samples: latencies.length, medianMs: Math.round(median(latencies)), maxMs: Math.round(Math.max(...latencies)), jobMs: Math.round(ms) };
}

async function main(argv: readonly string[]): Promise<number> {
  const flags = parseCli(argv, { options: { url: { type: 'string' }, burst: { type: 'string' }, pid: { type: 'string' }, json: { type: 'boolean' } }, schema });
  const base = flags.url.replace(/\/$/, '');
  const health = await fetch(`${base}/api/health`).then((r) => r.json() as Promise<{ backend?: string }>);
  const gray1mp = await image(1000, 1000, true);
  const small = await image(256, 256, false);
  const timed = async (url: string, png: Buffer) => {
    await post(url, png);
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await post(url, png));
    if (runs.some((r) => r.status !== 200)) throw new Error(`${url} answered ${runs.map((r) => r.status).join(', ')}`);
    return median(runs.map((r) => r.ms));
  };
  const colorizeMs = await timed(`${base}/api/colorize`, gray1mp);
  const upscaleMs = await timed(`${base}/api/upscale?scale=4`, small);

  const responsiveness = await healthWhileBusy(base, small);

  const pid = serverPid(flags.pid);
  let peakRss = pid ? ((await rssMb(pid)) ?? 0) : 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling && pid) {
      peakRss = Math.max(peakRss, (await rssMb(pid)) ?? 0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const t0 = performance.now();
  const burst = await Promise.all(
    Array.from({ length: flags.burst }, (_, i) => post(`${base}/api/upscale?scale=2`, i % 2 ? small : gray1mp).catch(() => ({ status: 0, ms: 0 }))),
  );
  const burstMs = performance.now() - t0;
  sampling = false;
  await sampler;
  const statuses: Record<string, number> = {};
  for (const r of burst) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const healthyAfter = (await fetch(`${base}/api/health`).then((r) => r.status).catch(() => 0)) === 200;
  const answeredOk = burst.every((r) => r.status === 200 || r.status === 503);
  const result = {
    backend: health.backend,
    colorize1MpMs: Math.round(colorizeMs),
    upscaleX4_256Ms: Math.round(upscaleMs),
    healthDuringJob: responsiveness,
    burst: { requests: flags.burst, statuses, allAnswered200or503: answeredOk, wallMs: Math.round(burstMs), healthyAfter },
    serverPeakRssMb: pid ? Math.round(peakRss) : null,
  };
  if (flags.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
  } else {
    process.stdout.write(
      [
        `backend: ${result.backend}`,
        `colorize 1 MP through the API: ${result.colorize1MpMs} ms (target < 1500)`,
        `upscale x4 256 -> 1024 through the API: ${result.upscaleX4_256Ms} ms (target < 3000)`,
        `GET /api/health during an x4 ensemble upscale (${result.healthDuringJob.jobMs} ms): median ${result.healthDuringJob.medianMs} ms, ` +
          `max ${result.healthDuringJob.maxMs} ms over ${result.healthDuringJob.samples} requests`,
        `burst of ${flags.burst}: ${JSON.stringify(statuses)}, every request answered 200/503: ${answeredOk}, healthy after: ${healthyAfter}`,
        `server peak RSS: ${result.serverPeakRssMb ?? 'unknown (pass --pid)'} MB (target < 2048)`,
      ].join('\n') + '\n',
    );
  }
  return answeredOk && healthyAfter ? 0 : 1;
}

void runCli({ name: 'bench:api', usage: 'npm run bench:api -- [--url http://localhost:3000] [--burst 20] [--pid N] [--json]' }, main);
