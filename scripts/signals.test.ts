/**
 * Ctrl-C and SIGTERM as they really arrive: at the whole process group of `npm run <script>`, while
 * the script is inside a long synchronous kernel call. The scripts must get the signal themselves and
 * stop cleanly. (Under the `tsx` launcher training did not: tsx relays a signal, waits 30 ms for the
 * busy child to acknowledge it, then SIGKILLs it, so a run lost everything since its last checkpoint.
 * The upscale case passes either way; it guards the cancel path.)
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomSrNet, saveTestModel, testMetadata } from '@/lib/infer/test-models';
import { initBackend } from '@/lib/tf/backend';

const ROOT = path.resolve(__dirname, '..');
let dir: string;

interface Started {
  output: () => string;
  pid: number;
  exited: Promise<void>;
}

/** Starts `npm run <script> -- <args>` in a process group of its own, as a terminal would. */
function startNpmScript(script: string, args: string[], env: Record<string, string>): Started {
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  // 'close' waits for every process holding the pipes (the script under npm), not just npm.
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  if (child.pid === undefined) throw new Error(`could not start npm run ${script}`);
  return { output: () => text, pid: child.pid, exited };
}

async function waitForOutput(started: Started, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(started.output())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output so far:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  await initBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'signals-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('signals reach the scripts, not only their launcher', () => {
  it('npm run train: SIGTERM to the group mid-run finishes the step, saves a checkpoint', async () => {
    // Steps of 8 x 96 px crops through a 4-block network take far longer than 30 ms each.
    const train = startNpmScript(
      'train',
      [
        ...['--task', 'sr', '--scale', '2', '--data', 'data/demo/photos', '--features', '32', '--blocks', '4'],
        ...['--steps', '100000', '--batch-size', '8', '--crop-size', '96', '--log-every', '1', '--checkpoint-minutes', '60'],
        ...['--run', 'interrupted', '--runs-dir', dir],
      ],
      {},
    );
    await waitForOutput(train, /\] [3-9]\/100000/, 100_000);
    process.kill(-train.pid, 'SIGTERM');
    // npm itself dies of the signal (it re-raises it once its child exits), so its own exit status says nothing.
    await train.exited;

    expect(train.output()).toMatch(/SIGTERM: finishing the current step and saving a checkpoint/);
    expect(train.output()).toMatch(/done: \d+ steps in .* \(stopped by signal\)/);
    const checkpoint = await fs.readdir(path.join(dir, 'interrupted', 'checkpoint'));
    expect(checkpoint.length).toBeGreaterThan(0);
  });

  it('npm run upscale: Ctrl-C (SIGINT to the group) mid-image cancels cleanly, no partial output', async () => {
    const input = await bigUpscaleInput();
    const outDir = path.join(dir, 'out');

    const upscale = startNpmScript('upscale', ['--scale', '2', input, '--out', outDir], { MODELS_DIR: path.join(dir, 'models'), TF_BACKEND: 'cpu' });
    await waitForOutput(upscale, /upscale: 1 image/, 100_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.kill(-upscale.pid, 'SIGINT');
    await upscale.exited;

    expect(upscale.output()).toMatch(/upscale: cancelled/);
    const written = await fs.readdir(outDir).catch(() => []);
    expect(written).toEqual([]);
  });

  it('upscale: SIGTERM (kill, a supervisor) mid-image cancels like Ctrl-C: exit 143, no partial or temporary file', async () => {
    const input = await bigUpscaleInput();
    const outDir = path.join(dir, 'out-term');
    // The script itself, as package.json starts it, so that its own exit status is seen.
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/upscale.ts', '--scale', '2', input, '--out', outDir], {
      cwd: ROOT,
      env: { ...process.env, MODELS_DIR: path.join(dir, 'models'), TF_BACKEND: 'cpu' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    await waitForOutput({ output: () => text, pid: child.pid!, exited: exited.then(() => undefined) }, /upscale: 1 image/, 100_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGTERM');

    expect(await exited).toEqual({ code: 143, signal: null });
    expect(text).toMatch(/upscale: cancelled by SIGTERM/);
    expect(await fs.readdir(outDir).catch(() => [])).toEqual([]);
  });
});

let upscaleInput: Promise<string> | undefined;
/** An sr-x2 test model in `<dir>/models` and a 1600 x 1600 noise PNG that takes it seconds to upscale on cpu. */
function bigUpscaleInput(): Promise<string> {
  upscaleInput ??= (async () => {
    await saveTestModel(randomSrNet(2), path.join(dir, 'models', 'sr-x2'), testMetadata({ task: 'sr', scale: 2 }));
    const input = path.join(dir, 'big.png');
    const noise = Buffer.alloc(1600 * 1600 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    await sharp(noise, { raw: { width: 1600, height: 1600, channels: 3 } }).png().toFile(input);
    return input;
  })();
  return upscaleInput;
}
