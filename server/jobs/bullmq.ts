// Export jobs on BullMQ (REDIS_URL). Web processes only add jobs (BullJobs); worker processes run them
// (startExportWorker). BullMQ's lock makes sure two workers never run one job at once, and its stalled
// check hands the job of a worker that died (SIGKILL) to another within about 2 × JOB_LOCK_MS.
import { Queue, WaitingError, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { DomainError } from '../shared/domain-error.js';
import type { ExportJobRepository } from '../exports/repository.js';
import type { AttemptOutcome } from '../exports/run-job.js';
import { bullConnection, EXPORT_QUEUE, exportJobId, queuePrefix, type JobEngine } from './engine.js';

interface ExportJobData {
  id: number;
}

const queueUnavailable = (cause: unknown) => {
  const err = new DomainError(
    'unavailable',
    'queue_unavailable',
    'the job queue is not answering; try again shortly',
    5,
  );
  err.cause = cause;
  return err;
};

export class BullJobs implements JobEngine {
  readonly kind = 'bullmq';

  private constructor(private readonly queue: Queue<ExportJobData>) {}

  static async open(config: Config, redisUrl: string): Promise<BullJobs> {
    const queue = new Queue<ExportJobData>(EXPORT_QUEUE, {
      connection: bullConnection(redisUrl, 'producer'),
      prefix: queuePrefix(config),
    });
    await queue.waitUntilReady();
    return new BullJobs(queue);
  }

  async enqueue(id: number): Promise<void> {
    await this.queue
      .add(
        'export',
        { id },
        {
          jobId: exportJobId(id),
          // A failure is recorded on the row and final: the admin asks again. A stall (dead worker) is
          // retried by BullMQ's stalled check, once (maxStalledCount).
          attempts: 1,
          removeOnComplete: { age: 86_400 },
          removeOnFail: { age: 7 * 86_400 },
        },
      )
      .catch((err) => {
        throw queueUnavailable(err);
      });
  }

  async dequeue(id: number): Promise<void> {
    // Removes a waiting job; an active one is locked and stays (it stops itself: its row is cancelled).
    await this.queue.remove(exportJobId(id)).catch(() => 0);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export interface ExportWorker {
  /**
   * Stops taking jobs and waits for the running ones; after `graceMs` they are stopped and handed back
   * (queued again for another worker).
   */
  close(graceMs: number): Promise<void>;
}

export function startExportWorker(
  config: Config,
  redisUrl: string,
  jobs: ExportJobRepository,
  run: (id: number, stop: AbortSignal) => Promise<AttemptOutcome>,
  logger: Logger,
): ExportWorker {
  const stopping = new AbortController();
  const worker = new Worker<ExportJobData>(
    EXPORT_QUEUE,
    async (job, token) => {
      const outcome = await run(job.data.id, stopping.signal);
      if (outcome !== 'stopped') return outcome;
      await jobs.handBack(job.data.id);
      await job.moveToWait(token);
      throw new WaitingError();
    },
    {
      connection: bullConnection(redisUrl),
      prefix: queuePrefix(config),
      concurrency: config.exports.concurrency,
      lockDuration: config.exports.lockMs,
      stalledInterval: config.exports.lockMs,
      maxStalledCount: 1,
    },
  );
  // Also reached when BullMQ fails a job that stalled twice: its row must say so.
  worker.on('failed', (job, err) => {
    if (job) void jobs.fail(job.data.id, err.message).catch(() => {});
  });
  worker.on('stalled', (jobId) => logger.warn({ job: jobId }, 'an export job stalled (its worker died): queued again'));
  worker.on('error', (err) => logger.warn({ err: { message: err.message } }, 'export worker: redis error'));
  return {
    async close(graceMs) {
      const handBack = setTimeout(() => stopping.abort(new Error('the worker is stopping')), graceMs);
      try {
        await worker.close();
      } finally {
        clearTimeout(handBack);
      }
    },
  };
}
