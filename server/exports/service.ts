// Export jobs as the API sees them: request (or find the live twin), read, list, cancel or remove, and
// the sweep that removes expired results. Which engine runs them is not this module's business.
import type { Logger } from 'pino';
import { DomainError } from '../shared/domain-error.js';
import { notFound } from '../http/errors.js';
import type { JobEngine } from '../jobs/engine.js';
import type { Storage } from '../storage/storage.js';
import type { ExportJobRepository, ExportJobRow, JobRequest } from './repository.js';

export class ExportJobs {
  constructor(
    readonly repository: ExportJobRepository,
    /** Undefined in a worker process, which runs jobs but never adds them. */
    private readonly engine: JobEngine | undefined,
    /** Where results are stored. */
    readonly results: Storage,
    private readonly logger: Logger,
  ) {}

  async request(request: JobRequest): Promise<{ job: ExportJobRow; created: boolean }> {
    if (!this.engine) throw new Error('this process does not take export requests');
    const found = await this.repository.createOrFind(request);
    if (!found.created) return found;
    try {
      await this.engine.enqueue(found.job.id);
    } catch (err) {
      // Not queued: the row must not stay live, or every identical request would be answered with it.
      await this.repository.fail(found.job.id, 'the job queue did not answer');
      throw err;
    }
    return found;
  }

  async get(id: number): Promise<ExportJobRow> {
    const job = await this.repository.find(id);
    if (!job) throw notFound('export job');
    return job;
  }

  /** A live job is cancelled (its renders stop, its partial result goes); a finished one is removed. */
  async cancelOrRemove(id: number): Promise<'cancelled' | 'removed'> {
    if (await this.repository.cancel(id)) {
      await this.engine?.dequeue(id);
      return 'cancelled';
    }
    const job = await this.get(id);
    if (!(await this.repository.remove(id))) {
      throw new DomainError('conflict', 'export_changed', 'the job changed state meanwhile; try again');
    }
    if (job.state === 'completed') await this.deleteResult(job.result_name);
    return 'removed';
  }

  /** Removes results past EXPORT_RESULT_TTL_S; their jobs stay listed as expired. */
  async sweepExpired(): Promise<number> {
    const names = await this.repository.expire();
    for (const name of names) await this.deleteResult(name);
    if (names.length) this.logger.info({ results: names.length }, 'expired export results removed');
    return names.length;
  }

  private async deleteResult(name: string): Promise<void> {
    // A result left behind is found by the orphan sweep at the next start.
    await this.results
      .delete(name)
      .catch((err) => this.logger.warn({ err, object: name }, 'could not remove an export result'));
  }
}

/** Runs the expiry sweep now and then every `seconds` (in the processes that run jobs). */
export function scheduleExpirySweep(jobs: ExportJobs, seconds: number, logger: Logger): () => void {
  const sweep = () =>
    void jobs.sweepExpired().catch((err) => logger.warn({ err }, 'the export expiry sweep failed; it runs again'));
  sweep();
  const timer = setInterval(sweep, seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
