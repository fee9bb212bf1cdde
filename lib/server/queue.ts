/**
 * A bounded FIFO in front of the inference core: `concurrency` tasks run at once (1: the wasm backend
 * is single-threaded and one image already uses the CPU fully), at most `maxWaiting` wait behind them,
 * and anything beyond is refused at once with {@link QueueFullError} (HTTP 503 + Retry-After) instead
 * of piling up memory and latency.
 */

export class QueueFullError extends Error {
  constructor(
    message: string,
    /** A rough wait until a slot frees up, from the recent task durations. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'QueueFullError';
  }
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const error = new Error('The operation was aborted.');
  error.name = 'AbortError';
  return error;
}

interface Waiter {
  token: object;
  cost: number;
  start: () => void;
}

export interface QueueOptions {
  concurrency?: number;
  maxWaiting: number;
  /** Used for Retry-After before any task has finished (seconds per unit of cost). */
  initialTaskSeconds?: number;
}

export interface RunOptions {
  /** Aborting while waiting leaves the queue at once; while running, the task itself must honour it. */
  signal?: AbortSignal;
  /** Identifies the task for {@link InferenceQueue.position}. */
  token?: object;
  onStart?: () => void;
  /**
   * How long this task holds its slot relative to an ordinary one (default 1; e.g. 8 for an 8-run
   * ensemble), so that Retry-After counts the work ahead, not just the number of tasks.
   */
  cost?: number;
}

export class InferenceQueue {
  readonly concurrency: number;
  readonly maxWaiting: number;
  private runningCount = 0;
  private readonly waiters: Waiter[] = [];
  /** The cost of each running task, by token. */
  private readonly runningTokens = new Map<object, number>();
  /** Moving average of successful tasks' seconds per unit of cost. */
  private averageSeconds: number;

  constructor(options: QueueOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.maxWaiting = Math.max(0, options.maxWaiting);
    this.averageSeconds = options.initialTaskSeconds ?? 10;
  }

  get running(): number {
    return this.runningCount;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** 0 while running, 1.. while waiting (1 = next), -1 when unknown or finished. */
  position(token: object): number {
    if (this.runningTokens.has(token)) return 0;
    const index = this.waiters.findIndex((w) => w.token === token);
    return index < 0 ? -1 : index + 1;
  }

  /** Seconds until a newly refused request could expect a free slot (>= 1), from the cost of the work ahead. */
  retryAfterSeconds(): number {
    let ahead = 0;
    for (const cost of this.runningTokens.values()) ahead += cost;
    for (const waiter of this.waiters) ahead += waiter.cost;
    return Math.min(600, Math.max(1, Math.ceil((this.averageSeconds * ahead) / this.concurrency)));
  }

  /** True when {@link run} would refuse a new task right now. */
  get full(): boolean {
    return this.runningCount >= this.concurrency && this.waiters.length >= this.maxWaiting;
  }

  /** @throws QueueFullError when {@link full}. */
  assertCapacity(): void {
    if (this.full) throw this.fullError();
  }

  private fullError(): QueueFullError {
    return new QueueFullError(
      `The server is busy with ${this.runningCount + this.waiters.length} images; please try again shortly.`,
      this.retryAfterSeconds(),
    );
  }

  /**
   * Runs `task` when a slot is free.
   * @throws QueueFullError synchronously-rejected when `maxWaiting` tasks already wait.
   * @throws AbortError when `signal` aborts before the task starts.
   */
  run<T>(task: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { signal, onStart } = options;
    const token = options.token ?? {};
    const cost = options.cost !== undefined && Number.isFinite(options.cost) && options.cost > 0 ? options.cost : 1;
    if (signal?.aborted) return Promise.reject(abortError(signal));

    const execute = async (): Promise<T> => {
      this.runningCount++;
      this.runningTokens.set(token, cost);
      const started = performance.now();
      try {
        onStart?.();
        const result = await task();
        // Moving average so that Retry-After follows the images people actually send. Only tasks
        // that finished count: a refused or cancelled image ends at once and would drag it down.
        const secondsPerCost = (performance.now() - started) / 1000 / cost;
        this.averageSeconds = 0.7 * this.averageSeconds + 0.3 * secondsPerCost;
        return result;
      } finally {
        this.runningTokens.delete(token);
        this.runningCount--;
        this.next();
      }
    };

    if (this.runningCount < this.concurrency && this.waiters.length === 0) return execute();
    if (this.waiters.length >= this.maxWaiting) return Promise.reject(this.fullError());

    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        token,
        cost,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          execute().then(resolve, reject);
        },
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private next(): void {
    while (this.runningCount < this.concurrency) {
      const waiter = this.waiters.shift();
      if (!waiter) return;
      waiter.start();
    }
  }
}
