// PDF_RENDERING=worker: a document's first render is a BullMQ job that a worker process runs (rendering
// and storing it as the web process would), so web processes start no Chromium. The web process waits
// for the job's end through QueueEvents and then reads the row the worker recorded.
import { Queue, QueueEvents, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { DomainError } from '../shared/domain-error.js';
import type { DocumentArchive, DocumentTable, RemoteRender } from '../invoices/archive.js';
import { bullConnection, queuePrefix, RENDER_QUEUE } from './engine.js';

interface RenderJob {
  table: DocumentTable;
  id: number;
}

/** Past the renderer's own timeout: queueing and storing take their time too. */
const WAIT_GRACE_MS = 15_000;

export class RemoteRenders {
  private constructor(
    private readonly queue: Queue<RenderJob>,
    private readonly events: QueueEvents,
    private readonly waitMs: number,
  ) {}

  static async open(config: Config, redisUrl: string): Promise<RemoteRenders> {
    const prefix = queuePrefix(config);
    const queue = new Queue<RenderJob>(RENDER_QUEUE, { connection: bullConnection(redisUrl, 'producer'), prefix });
    const events = new QueueEvents(RENDER_QUEUE, { connection: bullConnection(redisUrl), prefix });
    await queue.waitUntilReady();
    await events.waitUntilReady();
    return new RemoteRenders(queue, events, config.pdf.timeoutMs + WAIT_GRACE_MS);
  }

  readonly render: RemoteRender = async (table, id) => {
    // One job per document at a time: concurrent first downloads in any process wait for the same one.
    const job = await this.queue.add(
      'render',
      { table, id },
      { jobId: `${table}-${id}`, removeOnComplete: { age: 60 }, removeOnFail: true },
    );
    try {
      await job.waitUntilFinished(this.events, this.waitMs);
    } catch (err) {
      const timedOut = /timed out/i.test((err as Error).message);
      throw new DomainError(
        'unavailable',
        timedOut ? 'pdf_unavailable' : 'pdf_render_failed',
        timedOut
          ? 'no worker rendered the document in time; try again shortly'
          : 'the document could not be rendered; try again',
        5,
      );
    }
  };

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
  }
}

/** The worker's side: renders and stores documents the web processes ask for. */
export function startRenderWorker(
  config: Config,
  redisUrl: string,
  documents: DocumentArchive,
  logger: Logger,
): Worker<RenderJob> {
  const worker = new Worker<RenderJob>(
    RENDER_QUEUE,
    async (job) => {
      const stored = await documents.storeById(job.data.table, job.data.id);
      return { name: stored.name };
    },
    { connection: bullConnection(redisUrl), prefix: queuePrefix(config), concurrency: config.pdf.workers },
  );
  worker.on('failed', (job, err) => logger.warn({ err, render: job?.id }, 'a render job failed'));
  worker.on('error', (err) => logger.warn({ err: { message: err.message } }, 'render worker: redis error'));
  return worker;
}
