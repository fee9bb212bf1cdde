import { describe, expect, it, vi } from 'vitest';
import { InferenceQueue, QueueFullError } from './queue';
import { describeError } from './errors';

/** A task whose completion the test controls. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('InferenceQueue', () => {
  it('runs one task at a time in arrival order', async () => {
    const queue = new InferenceQueue({ concurrency: 1, maxWaiting: 4 });
    const order: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const runs = gates.map((gate, i) =>
      queue.run(async () => {
        order.push(`start ${i}`);
        await gate.promise;
        order.push(`end ${i}`);
        return i;
      }),
    );
    await tick();
    expect(queue.running).toBe(1);
    expect(queue.waiting).toBe(2);
    gates[1]!.resolve();
    gates[2]!.resolve();
    await tick();
    expect(order).toEqual(['start 0']);
    gates[0]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(order).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(queue.running).toBe(0);
  });

  it('refuses beyond maxWaiting with a 503 and a Retry-After', async () => {
    const queue = new InferenceQueue({ concurrency: 1, maxWaiting: 2, initialTaskSeconds: 4 });
    const gate = deferred();
    const accepted = [0, 1, 2].map(() => queue.run(() => gate.promise));
    const refused = queue.run(() => Promise.resolve());
    await expect(refused).rejects.toBeInstanceOf(QueueFullError);
    const error = await refused.catch((e: unknown) => e);
    const described = describeError(error);
    expect(described.status).toBe(503);
    expect(described.code).toBe('busy');
    // Three tasks ahead at about 4 s each.
    expect(Number(described.headers?.['Retry-After'])).toBe(12);
    gate.resolve();
    await Promise.all(accepted);
    // Space again once the queue drained.
    await expect(queue.run(async () => 'ok')).resolves.toBe('ok');
  });

  it('with maxWaiting 0 refuses any task while one runs', async () => {
    const queue = new InferenceQueue({ maxWaiting: 0 });
    const gate = deferred();
    const first = queue.run(() => gate.promise);
    await expect(queue.run(async () => 1)).rejects.toBeInstanceOf(QueueFullError);
    gate.resolve();
    await first;
  });

  it('drops a waiting task when its signal aborts, and reports positions', async () => {
    const queue = new InferenceQueue({ maxWaiting: 4 });
    const gate = deferred();
    const running = {};
    const waitingA = {};
    const waitingB = {};
    const first = queue.run(() => gate.promise, { token: running });
    const controller = new AbortController();
    let startedA = false;
    const a = queue.run(async () => void (startedA = true), { token: waitingA, signal: controller.signal });
    const b = queue.run(async () => 'b', { token: waitingB });
    expect(queue.position(running)).toBe(0);
    expect(queue.position(waitingA)).toBe(1);
    expect(queue.position(waitingB)).toBe(2);
    controller.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    expect(queue.position(waitingA)).toBe(-1);
    expect(queue.position(waitingB)).toBe(1);
    gate.resolve();
    await first;
    expect(await b).toBe('b');
    expect(startedA).toBe(false);
  });

  it('bases Retry-After on successful tasks only, weighted by each task\'s cost', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const queue = new InferenceQueue({ concurrency: 1, maxWaiting: 1, initialTaskSeconds: 4 });
      // A refused image ends at once: it says nothing about how long an image takes.
      for (let i = 0; i < 5; i++) await expect(queue.run(async () => Promise.reject(new Error('not an image')))).rejects.toThrow();
      // An 8-run ensemble that took 32 s is 4 s per unit of cost, as the initial guess.
      await queue.run(async () => vi.advanceTimersByTime(32_000), { cost: 8 });
      const gate = deferred();
      const running = queue.run(() => gate.promise, { cost: 8 });
      const waiting = queue.run(() => Promise.resolve(), { cost: 1 });
      const refused = await queue.run(async () => undefined).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(QueueFullError);
      // 8 + 1 units ahead at 4 s each.
      expect((refused as QueueFullError).retryAfterSeconds).toBe(36);
      gate.resolve();
      await Promise.all([running, waiting]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('frees the slot when a task throws', async () => {
    const queue = new InferenceQueue({ maxWaiting: 1 });
    await expect(queue.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(queue.running).toBe(0);
    await expect(queue.run(async () => 2)).resolves.toBe(2);
  });
});
