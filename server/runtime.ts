// Everything the app depends on, opened in order and closed in reverse. index.ts and the tests
// both start the same runtime, so what is tested is what runs.
import type { Logger } from 'pino';
import { ensureAdmin } from './auth/users.js';
import { TokenService } from './auth/tokens.js';
import { seedCatalogue } from './bookings/catalogue.js';
import type { Config } from './config.js';
import { openDb, type Db } from './db/connect.js';
import type { RequestHandler } from 'express';
import { PdfRenderer } from './pdf/renderer.js';
import { LocalStorage } from './storage/local.js';
import type { Storage } from './storage/storage.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  db: Db;
  tokens: TokenService;
  storage: Storage;
  renderer: PdfRenderer;
  /** Put in front of heavy routes (uploads, invoices, exports): answers 503 under memory pressure. */
  heavyGuard: RequestHandler;
  /** True once shutdown has begun: readiness answers 503 so the router stops sending traffic. */
  draining: boolean;
  close(): Promise<void>;
}

export async function startRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const db = await openDb(config);
  await seedCatalogue(db);
  if (config.admin) await ensureAdmin(db, config.admin);
  const tokens = new TokenService(config.auth.jwtSecret, config.auth.jwtTtl);
  const storage = new LocalStorage(config.uploads.dir);
  const swept = await storage.sweepPending();
  if (swept) logger.warn({ files: swept }, 'removed unfinished uploads left by an earlier crash');

  const renderer = await PdfRenderer.start(config, logger);

  const runtime: Runtime = {
    config,
    logger,
    db,
    tokens,
    storage,
    renderer,
    heavyGuard: (_req, _res, next) => next(),
    draining: false,
    async close() {
      await renderer.close();
      await db.destroy();
    },
  };
  return runtime;
}
