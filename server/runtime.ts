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
import { LocalStorage } from './storage/local.js';
import { Scavenger } from './storage/scavenger.js';
import type { Storage } from './storage/storage.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  db: Db;
  tokens: TokenService;
  storage: Storage;
  renderer: PdfRenderer;
  memoryGuard: MemoryGuard;
  disk: DiskMonitor;
  metrics: Metrics;
  /** True once shutdown has begun: readiness answers 503 so the router stops sending traffic. */
  draining: boolean;
  close(): Promise<void>;
}

/** Replaceable parts, for tests that drive the memory guard by hand or need a failing disk. */
export interface RuntimeOverrides {
  memorySampler?: () => MemoryReading;
  clock?: Clock;
  storage?: Storage;
}

export async function startRuntime(config: Config, logger: Logger, overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const db = await openDb(config);
  await seedCatalogue(db);
  if (config.admin) await ensureAdmin(db, config.admin);
  const tokens = new TokenService(config.auth.jwtSecret, config.auth.jwtTtl, (id) => tokenHolder(db, id));
  const metrics = new Metrics();
  const storage =
    overrides.storage ??
    new LocalStorage(config.uploads.dir, { scavenger: new Scavenger(config.uploads.gcEveryBytes) });
  const swept = await storage.sweepPending();
  if (swept) logger.warn({ files: swept }, 'removed unfinished uploads left by an earlier crash');

  const renderer = await PdfRenderer.start(config, logger, { onRendered: (s) => metrics.renderDuration.observe(s) });
  const sampler =
    overrides.memorySampler ??
    createMemorySampler({ limitBytes: config.memory.limitBytes, chromiumPids: () => renderer.browsers.pids() });
  const memoryGuard = new MemoryGuard(config.memory, sampler, logger, overrides.clock ?? realClock, () =>
    metrics.guardRejections.inc(),
  );
  memoryGuard.start();
  const disk = new DiskMonitor(
    { data: config.dataDir, uploads: config.uploads.dir, pdfTmp: config.pdf.tmpDir, pdfCache: config.pdf.cacheDir },
    config.diskFreeFloorBytes,
  );
  metrics.observe({ db, renderer, guard: memoryGuard, disk });

  const runtime: Runtime = {
    config,
    logger,
    db,
    tokens,
    storage,
    renderer,
    memoryGuard,
    disk,
    metrics,
    draining: false,
    async close() {
      memoryGuard.stop();
      await renderer.close();
      await db.destroy();
    },
  };
  return runtime;
}
