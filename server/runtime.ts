// Everything the app depends on, opened in order and closed in reverse. index.ts and the tests
// both start the same runtime, so what is tested is what runs.
import type { Logger } from 'pino';
import { ensureAdmin, tokenHolder } from './auth/users.js';
import { TokenService } from './auth/tokens.js';
import { seedCatalogue } from './bookings/catalogue.js';
import type { Config } from './config.js';
import { openDb, type Db } from './db/connect.js';
import { DiskMonitor } from './health/disk.js';
import { MemoryGuard, realClock, type Clock } from './health/memory-guard.js';
import { createMemorySampler, type MemoryReading } from './health/memory-reading.js';
import { Metrics } from './health/metrics.js';
import { PdfRenderer } from './pdf/renderer.js';
import { openRedis } from './redis/client.js';
import { limiterStores, type LimiterStoreFactory } from './redis/rate-limit-store.js';
import { openStorage } from './storage/open.js';
import { sweepOrphans } from './storage/orphans.js';
import type { Storage } from './storage/storage.js';
import { knownUploadNames } from './uploads/repository.js';
import { DocumentArchive } from './invoices/archive.js';
import type { Redis } from 'ioredis';
import { ExportJobRepository } from './exports/repository.js';
import { runExportJob } from './exports/run-job.js';
import { ExportJobs, scheduleExpirySweep } from './exports/service.js';
import { BullJobs, startExportWorker } from './jobs/bullmq.js';
import type { JobEngine } from './jobs/engine.js';
import { InProcessJobs } from './jobs/in-process.js';
import { RemoteRenders, startRenderWorker } from './jobs/renders.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  db: Db;
  tokens: TokenService;
  /** Uploaded files. */
  storage: Storage;
  /** Issued documents' PDFs, rendered once and stored (the same driver as uploads). */
  documents: DocumentArchive;
  /** Shared state for several processes (REDIS_URL); undefined on one machine. */
  redis?: Redis;
  limiterStore: LimiterStoreFactory;
  renderer: PdfRenderer;
  /** Export jobs: requests, state, results. */
  exports: ExportJobs;
  role: RuntimeRole;
  memoryGuard: MemoryGuard;
  disk: DiskMonitor;
  metrics: Metrics;
  /** True once shutdown has begun: readiness answers 503 so the router stops sending traffic. */
  draining: boolean;
  /** Removes stored objects without a row (crash leftovers); index.ts runs it once after listen. */
  sweepOrphans(): Promise<number>;
  close(): Promise<void>;
}

/**
 * web: answers HTTP; adds export jobs to the queue with REDIS_URL, runs them itself without.
 * worker (npm run worker, REDIS_URL required): runs export jobs and, with PDF_RENDERING=worker, renders.
 */
export type RuntimeRole = 'web' | 'worker';

/** Replaceable parts, for tests that drive the memory guard by hand or need a failing disk. */
export interface RuntimeOverrides {
  memorySampler?: () => MemoryReading;
  clock?: Clock;
  storage?: Storage;
  role?: RuntimeRole;
}

/** The worker keeps this much of SHUTDOWN_TIMEOUT_MS for handing its jobs back and closing. */
const HAND_BACK_MS = 5_000;

export async function startRuntime(config: Config, logger: Logger, overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const role = overrides.role ?? 'web';
  if (role === 'worker' && !config.redisUrl) throw new Error('a worker process needs REDIS_URL (its queue is there)');
  // Redis first: a start-up that fails there has opened nothing else.
  const redis = config.redisUrl ? await openRedis(config.redisUrl, logger) : undefined;
  const db = await openDb(config).catch(async (err) => {
    await redis?.quit();
    throw err;
  });
  await seedCatalogue(db);
  if (config.admin) await ensureAdmin(db, config.admin);
  const tokens = new TokenService(config.auth.jwtSecret, config.auth.jwtTtl, (id) => tokenHolder(db, id));
  const metrics = new Metrics();
  const storage = overrides.storage ?? openStorage(config, 'uploads', logger);
  // A store that is down at start-up is reported by readiness; the server still starts.
  const swept = await storage.sweepPending().catch((err) => {
    logger.warn({ err }, 'could not sweep unfinished uploads: the store does not answer');
    return 0;
  });
  if (swept)
    logger.warn({ uploads: swept, driver: storage.driver }, 'removed unfinished uploads left by an earlier crash');

  const renderer = await PdfRenderer.start(config, logger, { onRendered: (s) => metrics.renderDuration.observe(s) });
  const documentStore = openStorage(config, 'documents', logger);
  // PDF_RENDERING=worker: this web process starts no Chromium; its first renders are workers' jobs.
  const remoteRenders =
    role === 'web' && config.pdf.rendering === 'worker'
      ? await RemoteRenders.open(config, config.redisUrl!)
      : undefined;
  const documents = new DocumentArchive(
    db,
    documentStore,
    remoteRenders ? { remote: remoteRenders.render } : { local: renderer },
    logger,
  );
  const renderWorker =
    role === 'worker' && config.pdf.rendering === 'worker'
      ? startRenderWorker(config, config.redisUrl!, documents, logger)
      : undefined;

  const exportStore = openStorage(config, 'exports', logger);
  const jobRows = new ExportJobRepository(db);
  const runJob = (id: number, stop: AbortSignal) =>
    runExportJob({ db, config, documents, jobs: jobRows, results: exportStore, logger }, id, stop);
  let engine: JobEngine | undefined;
  let exportWorker: ReturnType<typeof startExportWorker> | undefined;
  if (role === 'worker') exportWorker = startExportWorker(config, config.redisUrl!, jobRows, runJob, logger);
  else if (config.redisUrl) engine = await BullJobs.open(config, config.redisUrl);
  else engine = new InProcessJobs(jobRows, runJob, config.exports.concurrency, logger);
  const exports = new ExportJobs(jobRows, engine, exportStore, logger);
  if (engine instanceof InProcessJobs) await engine.recover();
  // Results expire where jobs run: in the workers, or in this process without Redis.
  const stopExpirySweep =
    role === 'worker' || engine instanceof InProcessJobs
      ? scheduleExpirySweep(exports, config.exports.sweepIntervalSeconds, logger)
      : () => {};
  const sampler =
    overrides.memorySampler ??
    createMemorySampler({ limitBytes: config.memory.limitBytes, chromiumPids: () => renderer.browsers.pids() });
  const memoryGuard = new MemoryGuard(config.memory, sampler, logger, overrides.clock ?? realClock, () =>
    metrics.guardRejections.inc(),
  );
  memoryGuard.start();
  const disk = new DiskMonitor(
    { data: config.dataDir, uploads: config.uploads.dir, pdfTmp: config.pdf.tmpDir },
    config.diskFreeFloorBytes,
  );
  metrics.observe({ db, renderer, guard: memoryGuard, disk });

  const runtime: Runtime = {
    config,
    logger,
    db,
    tokens,
    storage,
    documents,
    redis,
    limiterStore: limiterStores(redis, `${config.redisKeyPrefix}rl:`),
    renderer,
    exports,
    role,
    memoryGuard,
    disk,
    metrics,
    draining: false,
    sweepOrphans: async () =>
      (await sweepOrphans(storage, (names) => knownUploadNames(db, names), config.orphanSweepAgeSeconds, logger)) +
      (await sweepOrphans(
        documentStore,
        (names) => documents.knownNames(names),
        config.orphanSweepAgeSeconds,
        logger,
      )) +
      (await sweepOrphans(exportStore, (names) => jobRows.knownNames(names), config.orphanSweepAgeSeconds, logger)),
    async close() {
      memoryGuard.stop();
      stopExpirySweep();
      // Running jobs first: they hold renders, the store and the database.
      await exportWorker?.close(Math.max(0, config.shutdownTimeoutMs - HAND_BACK_MS));
      await engine?.close();
      await renderWorker?.close();
      await remoteRenders?.close();
      await renderer.close();
      storage.close?.();
      documentStore.close?.();
      exportStore.close?.();
      await redis?.quit().catch(() => redis.disconnect());
      await db.destroy();
    },
  };
  return runtime;
}
