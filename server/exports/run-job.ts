// One attempt at an export job, whichever engine runs it: the ZIP is written by the same producer as the
// streamed export, straight into the store (a multipart upload on S3, a temp file on disk), and becomes
// the job's result only once complete. Cancelling, a worker's shutdown or a failure leaves no object,
// no temp file and no incomplete upload behind.
import type { Logger } from 'pino';
import type { Storage } from '../storage/storage.js';
import { DigestStream } from '../storage/digest-stream.js';
import { produceExport, type ProducerDeps } from './producer.js';
import type { ExportJobRepository } from './repository.js';

export interface JobRunnerDeps extends ProducerDeps {
  jobs: ExportJobRepository;
  /** Where results go (the `exports` area). */
  results: Storage;
  logger: Logger;
}

/** How often a running job records its progress (and reads its state, also between documents). */
const CHECK_EVERY_MS = 500;

export class JobCancelled extends Error {
  constructor() {
    super('the export was cancelled');
  }
}

export type AttemptOutcome = 'completed' | 'cancelled' | 'skipped' | 'stopped';

/**
 * Runs job `id` once. `stop` is the engine's own signal (the worker shutting down): the attempt then
 * ends with 'stopped' and the engine hands the job back. Other failures are recorded on the job and
 * rethrown.
 */
export async function runExportJob(deps: JobRunnerDeps, id: number, stop?: AbortSignal): Promise<AttemptOutcome> {
  const { jobs, results, config, logger } = deps;
  const job = await jobs.startAttempt(id);
  if (!job) return 'skipped';
  const log = logger.child({ exportJob: id, attempt: job.attempts });
  log.info({ kind: job.kind, from: job.range_from, to: job.range_to, pid: process.pid }, 'export job started');
  // An earlier attempt that died (SIGKILL) may have left an unfinished write of this very object.
  await results.discardPending(job.result_name);

  const controller = new AbortController();
  const onStop = () => controller.abort(stop!.reason);
  stop?.addEventListener('abort', onStop, { once: true });
  if (stop?.aborted) onStop(); // the stop came while the attempt was starting: no event will follow
  let progress = { done: 0, total: 0 };
  let recorded = { ...progress };
  const stopIfCancelled = async () => {
    if (!controller.signal.aborted && (await jobs.state(id)) !== 'running') controller.abort(new JobCancelled());
  };
  const watch = setInterval(async () => {
    try {
      await stopIfCancelled();
      if (progress.done !== recorded.done || progress.total !== recorded.total) {
        recorded = { ...progress };
        await jobs.progress(id, recorded.done, recorded.total);
      }
    } catch (err) {
      log.warn({ err }, 'could not read or record the export job state; trying again');
    }
  }, CHECK_EVERY_MS);

  const zip = new DigestStream();
  const stored = results.put(job.result_name, zip);
  stored.catch(() => {}); // awaited below; a rejection before then must not count as unhandled
  try {
    const counts = await produceExport(
      deps,
      { kind: job.kind, range: { from: job.range_from, to: job.range_to } },
      zip,
      {
        signal: controller.signal,
        onProgress: (done, total) => (progress = { done, total }),
        // One indexed read per document (well under 1 % of a render): a cancel stops the next render.
        beforeDocument: stopIfCancelled,
      },
    );
    await stored;
    if (
      await jobs.complete(
        id,
        { size: zip.size, sha256: zip.sha256, done: counts.documents },
        config.exports.resultTtlSeconds,
      )
    ) {
      log.info({ size: zip.size, documents: counts.documents, failed: counts.failed }, 'export job completed');
      return 'completed';
    }
    // Cancelled while its last bytes were stored: the result goes too.
    await results.delete(job.result_name);
    return 'cancelled';
  } catch (err) {
    zip.destroy(controller.signal.aborted ? controller.signal.reason : (err as Error));
    await stored.catch(() => {}); // the store removes the unfinished object
    if (controller.signal.reason instanceof JobCancelled) {
      log.info('export job cancelled');
      return 'cancelled';
    }
    if (stop?.aborted) {
      log.info('export job stopped: this process is shutting down');
      return 'stopped';
    }
    log.error({ err }, 'export job failed');
    await jobs.fail(id, (err as Error).message);
    throw err;
  } finally {
    clearInterval(watch);
    stop?.removeEventListener('abort', onStop);
  }
}
