import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MAX_WASM_THREADS, wasmThreadsWanted } from './wasm-threads';

const run = promisify(execFile);

async function child(threads: string): Promise<{ description: string; threads: number; fallbacks: string[]; convErr: number; gradErr: number }> {
  // A timeout here means the process did not exit by itself (pool threads kept it alive).
  const { stdout } = await run('npx', ['tsx', 'lib/tf/testdata/threads-child.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, TF_WASM_THREADS: threads, TF_BACKEND: '' },
    timeout: 90_000,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no result from the child: ${stdout}`);
  return JSON.parse(line);
}

describe('wasm threads', () => {
  it('reads TF_WASM_THREADS, defaulting to the logical cores (at most 8)', () => {
    expect(wasmThreadsWanted({})).toBe(Math.min(MAX_WASM_THREADS, os.availableParallelism()));
    expect(wasmThreadsWanted({ TF_WASM_THREADS: '1' })).toBe(1);
    expect(wasmThreadsWanted({ TF_WASM_THREADS: ' 3 ' })).toBe(3);
    for (const bad of ['0', '9', '1.5', 'two', '-2']) {
      expect(() => wasmThreadsWanted({ TF_WASM_THREADS: bad })).toThrow(/TF_WASM_THREADS must be a whole number from 1 to 8/);
    }
  });

  it('runs the threaded build under Node with the requested threads, matches the cpu backend and lets the process exit', async () => {
    const result = await child('2');
    expect(result.threads).toBe(2);
    expect(result.description).toBe('backend: wasm (simd, 2 threads)');
    expect(result.fallbacks).toEqual([]);
    expect(result.convErr).toBeLessThan(1e-5);
    expect(result.gradErr).toBeLessThan(1e-5);
  });

  it('TF_WASM_THREADS=1 keeps the single-threaded build', async () => {
    const result = await child('1');
    expect(result.threads).toBe(1);
    expect(result.description).toBe('backend: wasm (simd, 1 thread)');
    expect(result.convErr).toBeLessThan(1e-5);
  });
});
