/**
 * Background jobs for the web page: a job is created from an upload, waits in the queue, reports
 * tile progress while it runs, can be cancelled (AbortController -> the core stops between tiles),
 * and keeps its result for a while so the page can fetch it. Everything is in memory, per process.
 */
import { randomUUID } from 'node:crypto';
import type { InferenceResult, Progress } from '@/lib/infer/types';
import { ApiError, describeError, type ApiErrorCode } from './errors';
import { appQueue, inferenceService, modelFor, resultFileName, runTool, toolLabel, type ToolRequest } from './inference';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  tool: ToolRequest;
  fileName: string;
  status: JobStatus;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
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

const FINISHED_TTL_MS = 10 * 60_000;
const MAX_FINISHED = 12;

export class JobStore {
  private readonly jobs = new Map<string, Job>();

  /**
   * Starts a job; it runs when the queue reaches it.
   * @throws ApiError 404/503 when no model serves the tool, QueueFullError when the queue is full.
   */
  async create(tool: ToolRequest, bytes: Buffer, baseName: string): Promise<Job> {
    this.evict();
    const service = await inferenceService();
    if (!modelFor(service.models, tool)) {
      throw new ApiError(404, 'model_unavailable', `No model for ${toolLabel(tool)} is installed on this server.`);
    }
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
      signal: job.controller.signal,
      token: job.token,
      onStart: () => {
        if (job.status === 'queued') {
          job.status = 'running';
          job.startedAt = Date.now();
        }
      },
      onProgress: (progress) => {
        job.progress = progress;
      },
    }).then(
      (result) => {
        if (job.status === 'cancelled') return;
        job.status = 'done';
        job.result = result;
        job.finishedAt = Date.now();
      },
      (error: unknown) => {
        job.finishedAt = Date.now();
        if (job.status === 'cancelled') return;
        const described = describeError(error);
        if (described.status >= 500 && described.status !== 503) console.error(`[jobs] ${job.id} failed:`, error);
        job.status = described.code === 'cancelled' ? 'cancelled' : 'failed';
        job.error = { status: described.status, code: described.code, message: described.message };
      },
    );
    return job;
  }

  get(id: string): Job | undefined {
    this.evict();
    return this.jobs.get(id);
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
    if (job.progress) view.progress = job.progress;
    if (job.result) {
      const { png, ...details } = job.result;
      view.result = { ...details, bytes: png.byteLength, fileName: job.fileName };
    }
    if (job.error) view.error = { error: job.error.code, message: job.error.message, status: job.error.status };
    return view;
  }

  /** Drops finished jobs after a while and keeps only the newest few results in memory. */
  private evict(now = Date.now()): void {
    const finished = [...this.jobs.values()].filter((j) => j.finishedAt !== undefined);
    finished.sort((a, b) => b.finishedAt! - a.finishedAt!);
    finished.forEach((job, index) => {
      if (index >= MAX_FINISHED || now - job.finishedAt! > FINISHED_TTL_MS) this.jobs.delete(job.id);
    });
  }
}

const STORE_KEY = Symbol.for('pix2pix-tfjs.app.jobs');

/** The process-wide job store. */
export function jobStore(): JobStore {
  const holder = globalThis as unknown as Record<symbol, JobStore | undefined>;
  holder[STORE_KEY] ??= new JobStore();
  return holder[STORE_KEY];
}
