/**
 * Background jobs for the web page: a job is created from an upload, waits in the queue, reports
 * tile progress while it runs, can be cancelled (AbortController -> the core stops between tiles),
 * and keeps its result for a while so the page can fetch it. Everything is in memory, per process.
 */
import { randomUUID } from 'node:crypto';
import { headerSize } from '@/lib/image/header';
import type { InferenceResult, Progress } from '@/lib/infer/types';
import { describeError, type ApiErrorCode } from './errors';
import { formatBytes } from './limits';
import { appQueue, inferenceService, requireModel, resolvedTool, resultFileName, runTool, type ToolRequest } from './inference';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  tool: ToolRequest;
  fileName: string;
  status: JobStatus;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Set when the result PNG was sent at least once: such a job may go before unfetched ones. */
  fetchedAt?: number;
  progress?: Progress;
  result?: InferenceResult;
  error?: { status: number; code: ApiErrorCode; message: string };
  controller: AbortController;
  token: object;
}

/** What `GET /api/jobs/:id` answers. */
export interface JobView {
  id: string;
  status: JobStatus;
  tool: ToolRequest;
  fileName: string;
  /** 1.. while queued (1 = next), 0 while running, absent otherwise. */
  queuePosition?: number;
  progress?: Progress;
  /** Since the job was created. */
  elapsedMs: number;
  result?: Omit<InferenceResult, 'png'> & { bytes: number; fileName: string };
  error?: { error: ApiErrorCode; message: string; status: number };
}

/** A finished job is kept this long at most. */
export const FINISHED_TTL_MS = 10 * 60_000;
/** ...and, whatever the memory pressure, at least this long, so a page polling every second sees it. */
export const FINISHED_MIN_KEEP_MS = 60_000;
/** Result PNGs kept in memory beyond which the oldest finished jobs go early (fetched ones first). */
export const MAX_RESULT_BYTES = 256 * 1024 ** 2;
/** Finished jobs kept beyond which the oldest go early (a failed job holds no PNG but still counts). */
export const MAX_FINISHED = 500;

/** The rule above in words, for the 404 of a job that is gone. */
export const RETENTION_RULE = `finished jobs are kept for ten minutes (at least one minute when more than ${formatBytes(MAX_RESULT_BYTES)} of results or ${MAX_FINISHED} jobs are kept)`;

/** How long and how many finished jobs a {@link JobStore} keeps (defaults: the constants above). */
export interface RetentionOptions {
  ttlMs?: number;
  minKeepMs?: number;
  maxResultBytes?: number;
  maxFinished?: number;
}

export class JobStore {
  private readonly jobs = new Map<string, Job>();
  private readonly retention: Required<RetentionOptions>;

  constructor(retention: RetentionOptions = {}) {
    this.retention = {
      ttlMs: retention.ttlMs ?? FINISHED_TTL_MS,
      minKeepMs: retention.minKeepMs ?? FINISHED_MIN_KEEP_MS,
      maxResultBytes: retention.maxResultBytes ?? MAX_RESULT_BYTES,
      maxFinished: retention.maxFinished ?? MAX_FINISHED,
    };
  }

  /**
   * Starts a job; it runs when the queue reaches it.
   * @throws ApiError 404/503 when no model serves the tool (400 for an ambiguous or wrong translate
   *   model), QueueFullError when the queue is full.
   */
  async create(request: ToolRequest, bytes: Buffer, baseName: string): Promise<Job> {
    this.evict();
    const service = await inferenceService();
    // A translation is named after its model, also when the request left the one paired model implied.
    const tool = resolvedTool(request, requireModel(service, request).name);
    appQueue().assertCapacity();
    const job: Job = {
      id: randomUUID(),
      tool,
      fileName: resultFileName(baseName, tool),
      status: 'queued',
      createdAt: Date.now(),
      controller: new AbortController(),
      token: {},
    };
    this.jobs.set(job.id, job);
    // Passing the service keeps the capacity check above and the queue entry in one synchronous step.
    runTool(tool, bytes, {
      service,
      inputSize: headerSize(bytes),
      signal: job.controller.signal,
      token: job.token,
      onStart: () => {
        if (job.status === 'queued') {
          job.status = 'running';
          job.startedAt = Date.now();
        }
      },
      onProgress: (progress) => {
        // A cancelled job keeps the progress it was cancelled at; the worker only stops after the current tile.
        if (job.status !== 'cancelled') job.progress = progress;
      },
    }).then(
      (result) => {
        if (job.status === 'cancelled') return;
        job.status = 'done';
        job.result = result;
        job.finishedAt = Date.now();
      },
      (error: unknown) => {
        // A cancelled job finished when it was cancelled (its elapsedMs must not grow afterwards).
        if (job.status === 'cancelled') return;
        job.finishedAt = Date.now();
        const described = describeError(error);
        if (described.status >= 500 && described.status !== 503) console.error(`[jobs] ${job.id} failed:`, error);
        job.status = described.code === 'cancelled' ? 'cancelled' : 'failed';
        job.error = { status: described.status, code: described.code, message: described.message };
      },
    );
    return job;
  }

  /** The job with this id (ids are lowercase UUIDs), unless it finished long enough ago to be dropped. */
  get(id: string): Job | undefined {
    this.evict();
    return this.jobs.get(id);
  }

  /** Records that the job's result was sent, which lets it be dropped before unfetched results. */
  markFetched(job: Job, now = Date.now()): void {
    job.fetchedAt ??= now;
  }

  /** Cancels a queued or running job; finished jobs are left as they are. */
  cancel(id: string): Job | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    if (job.status === 'queued' || job.status === 'running') {
      job.status = 'cancelled';
      job.finishedAt = Date.now();
      job.controller.abort();
    }
    return job;
  }

  /** What `GET /api/jobs/:id` answers for the job (times in whole milliseconds). */
  view(job: Job): JobView {
    const position = appQueue().position(job.token);
    const view: JobView = {
      id: job.id,
      status: job.status,
      tool: job.tool,
      fileName: job.fileName,
      elapsedMs: (job.finishedAt ?? Date.now()) - job.createdAt,
    };
    if ((job.status === 'queued' || job.status === 'running') && position >= 0) view.queuePosition = position;
    if (job.progress) view.progress = { ...job.progress, elapsedMs: Math.round(job.progress.elapsedMs) };
    if (job.result) {
      const { png, ...details } = job.result;
      view.result = { ...details, ms: Math.round(details.ms), bytes: png.byteLength, fileName: job.fileName };
    }
    if (job.error) view.error = { error: job.error.code, message: job.error.message, status: job.error.status };
    return view;
  }

  /**
   * Applies {@link RETENTION_RULE}: finished jobs older than the TTL go; then, while the kept results
   * are over the byte budget or the finished jobs over the count, the oldest go, fetched ones before
   * unfetched ones, but none that finished less than the minimum keep time ago.
   * A count cap alone dropped a result nobody had fetched seconds after it was made.
   */
  evict(now = Date.now()): void {
    const { ttlMs, minKeepMs, maxResultBytes, maxFinished } = this.retention;
    const finished: Job[] = [];
    for (const job of this.jobs.values()) {
      if (job.finishedAt === undefined) continue;
      if (now - job.finishedAt > ttlMs) this.jobs.delete(job.id);
      else finished.push(job);
    }
    let bytes = finished.reduce((sum, job) => sum + (job.result?.png.byteLength ?? 0), 0);
    let count = finished.length;
    const over = () => bytes > maxResultBytes || count > maxFinished;
    if (!over()) return;
    const candidates = finished
      .filter((job) => now - job.finishedAt! >= minKeepMs)
      .sort((a, b) => Number(a.fetchedAt === undefined) - Number(b.fetchedAt === undefined) || a.finishedAt! - b.finishedAt!);
    for (const job of candidates) {
      if (!over()) break;
      this.jobs.delete(job.id);
      bytes -= job.result?.png.byteLength ?? 0;
      count--;
    }
  }
}

const STORE_KEY = Symbol.for('pix2pix-tfjs.app.jobs');

/** The process-wide job store. */
export function jobStore(): JobStore {
  const holder = globalThis as unknown as Record<symbol, JobStore | undefined>;
  holder[STORE_KEY] ??= new JobStore();
  return holder[STORE_KEY];
}
