import { describe, expect, it } from 'vitest';
import { UsageError } from '@/lib/cli/args';
import { parseBenchArgs, USAGE } from './args';

describe('parseBenchArgs', () => {
  it('has the documented defaults', () => {
    expect(parseBenchArgs([])).toEqual({ size: 128, ngf: 32, depth: 7, batch: 4, ndf: 64, steps: 5, warmup: 2, backends: undefined, cpuReference: true, json: false });
  });

  it('reads every flag', () => {
    const args = parseBenchArgs(['--size', '64', '--ngf', '16', '--depth', '6', '--batch', '2', '--ndf', '32', '--steps', '3', '--warmup', '0', '--backends', 'cpu, WASM,cpu', '--no-cpu', '--json']);
    expect(args).toEqual({ size: 64, ngf: 16, depth: 6, batch: 2, ndf: 32, steps: 3, warmup: 0, backends: ['cpu', 'wasm'], cpuReference: false, json: true });
  });

  it('says in --help that the cpu reference runs unless --no-cpu is given', () => {
    expect(USAGE).toMatch(/--no-cpu\s+skip the cpu reference of the speed-up column, which runs by default/);
  });

  it.each([
    [['--size', '100'], /--size 100 must be a multiple of 2\^depth = 128/],
    [['--size', '16', '--depth', '2'], /--size must be at least 32/],
    [['--depth', '10', '--size', '1024'], /--depth must be at most 9/],
    [['--steps', '0'], /--steps must be at least 1/],
    [['--batch', 'two'], /--batch must be a whole number/],
    [['--backends', 'gpu'], /--backends takes a comma-separated list/],
    [['--backends', ','], /--backends takes a comma-separated list/],
    [['--cpu'], /unknown flag --cpu/],
    [['--size'], /--size needs a value/],
    [['extra'], /bench takes no arguments/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(UsageError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});
