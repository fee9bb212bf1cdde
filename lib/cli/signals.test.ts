import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { cancelExitCode, cancelOnSignals } from './signals';

describe('cancelOnSignals', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('aborts on %s with its name as the reason; exit code %i', (name, code) => {
    const source = new EventEmitter();
    const exits: number[] = [];
    const signal = cancelOnSignals({ source, exit: (c) => exits.push(c) });
    expect(signal.aborted).toBe(false);
    source.emit(name);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(name);
    expect(cancelExitCode(signal)).toBe(code);
    expect(exits).toEqual([]);
  });

  it('ignores a quick repeat (one Ctrl-C relayed by npm) and quits at once on a later one', () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    let now = 1000;
    const signal = cancelOnSignals({ source, exit: (c) => exits.push(c), now: () => now });
    source.emit('SIGINT');
    now += 100;
    source.emit('SIGINT');
    expect(exits).toEqual([]);
    now += 2000;
    source.emit('SIGTERM');
    expect(exits).toEqual([143]);
    expect(signal.reason).toBe('SIGINT');
  });

  it('reads 130 when nothing says SIGTERM', () => {
    expect(cancelExitCode(undefined)).toBe(130);
    expect(cancelExitCode(AbortSignal.abort())).toBe(130);
  });
});
