// Liveness, readiness, memory and metrics. None of these sit behind the memory guard.
import { Router, type RequestHandler } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { poolStats } from '../db/connect.js';
import { unauthorized } from '../http/errors.js';
import type { Runtime } from '../runtime.js';

const startedAt = new Date().toISOString();

/** Readiness answers within this even when the database hangs. */
const DB_CHECK_TIMEOUT_MS = 2_000;

async function checkDatabase(rt: Runtime): Promise<{ ok: boolean; latencyMs: number; error?: string }> {
  const started = performance.now();
  try {
    await Promise.race([
      rt.db.raw('select 1'),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer in ${DB_CHECK_TIMEOUT_MS} ms`)), DB_CHECK_TIMEOUT_MS).unref(),
      ),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  }
}

export function healthRoutes(rt: Runtime): Router {
  const router = Router();
  const noStore: RequestHandler = (_req, res, next) => (res.setHeader('Cache-Control', 'no-store'), next());
  router.use(noStore);

  // Liveness: 200 whenever the process can answer at all.
  router.get('/', async (_req, res) => {
    res.json({
      status: 'ok',
      startedAt,
      uptimeSeconds: Math.round(process.uptime()),
      database: rt.config.database.kind,
      memory: rt.memoryGuard.status,
      disk: await rt.disk.report(),
      pdf: rt.renderer.status(),
    });
  });

  // Readiness: 503 while draining for shutdown or when the database does not answer.
  router.get('/ready', async (_req, res) => {
    const [database, pdfTempFiles, pendingUploads, disk] = await Promise.all([
      checkDatabase(rt),
      rt.renderer.countTempFiles(),
      rt.storage.countPending(),
      rt.disk.report(),
    ]);
    const failed = [...(database.ok ? [] : ['database']), ...(rt.draining ? ['draining'] : [])];
    res.status(failed.length ? 503 : 200).json({
      status: failed.length ? 'unavailable' : 'ready',
      failed,
      checks: { database, draining: rt.draining },
      dbPool: poolStats(rt.db),
      pdf: rt.renderer.status(),
      tempFiles: { pdf: pdfTempFiles, uploadsInProgress: pendingUploads },
      memory: rt.memoryGuard.status,
      disk,
    });
  });

  // A fresh reading (a few /proc reads), so operators and `npm run verify` see the figures of now.
  router.get('/memory', (_req, res) => {
    rt.memoryGuard.sample();
    res.json(rt.memoryGuard.report());
  });

  return router;
}

export function metricsRoute(rt: Runtime): RequestHandler {
  const expected = rt.config.metricsToken ? Buffer.from(`Bearer ${rt.config.metricsToken}`) : undefined;
  return async (req, res) => {
    if (expected) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        throw unauthorized('metrics need the METRICS_TOKEN bearer token');
    }
    res.setHeader('Content-Type', rt.metrics.registry.contentType);
    res.send(await rt.metrics.registry.metrics());
  };
}
