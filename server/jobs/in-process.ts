// Without Redis (one machine, embedded defaults): export jobs run inside the web process, at most
// EXPORT_CONCURRENCY at once (p-limit). A restart requeues what it interrupted: on shutdown a running
// job is handed back, and at start-up every queued or running job is queued again, except one that was
// already interrupted once while running, which is marked failed (it may be what brought the process
// down, as BullMQ treats a job that stalls twice).
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { ExportJobRepository } from '../exports/repository.js';
import type { AttemptOutcome } from '../exports/run-job.js';
import type { JobEngine } from './engine.js';

type Run = (id: number, stop: AbortSignal) => Promise<AttemptOutcome>;

export class InProcessJobs implements JobEngine {
  readonly kind = 'in-process';
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly jobs: ExportJobRepository,
    private readonly run: Run,
    concurrency: number,
    private readonly logger: Logger,
  ) {
    this.limit = pLimit(concurrency);
  }

  /** Picks up the jobs an earlier process left queued or running. */
  async recover(): Promise<number> {
    let requeued = 0;
    for (const job of await this.jobs.live()) {
      if (job.state === 'running' && job.attempts >= 2) {
        await this.jobs.fail(job.id, 'interrupted twice while running (the process stopped); request it again');
        continue;
      }
      await this.enqueue(job.id);
      requeued++;
    }
    if (requeued) this.logger.info({ jobs: requeued }, 'export jobs left by the previous process are queued again');
    return requeued;
  }

  async enqueue(id: number): Promise<void> {
    const task = this.limit(async () => {
      if (this.stopping.signal.aborted) return;
      const outcome = await this.run(id, this.stopping.signal);
      if (outcome === 'stopped') await this.jobs.handBack(id);
    }).catch((err) => this.logger.debug({ err, exportJob: id }, 'export job ended with an error'));
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }

  async dequeue(): Promise<void> {
    // A queued job that was cancelled is skipped when its turn comes (its row is no longer live).
  }

  /** Stops running jobs (handed back, to run again after the restart); queued ones stay queued. */
  async close(): Promise<void> {
    this.stopping.abort(new Error('the server is stopping'));
    await Promise.allSettled([...this.running]);
  }
}
