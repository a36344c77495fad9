// Liveness, readiness, memory and metrics. None of these sit behind the memory guard.
import { Router, type RequestHandler } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { poolStats } from '../db/connect.js';
import { notFound, unauthorized } from '../http/errors.js';
import { checkRedis } from '../redis/client.js';
import type { Runtime } from '../runtime.js';

const startedAt = new Date().toISOString();

/** Readiness answers within this even when a backend hangs. */
const CHECK_TIMEOUT_MS = 2_000;

interface CheckResult<T = unknown> {
  ok: boolean;
  latencyMs: number;
  error?: string;
  value?: T;
}

/** Runs one backend's check within CHECK_TIMEOUT_MS. */
async function check<T>(probe: () => Promise<T>): Promise<CheckResult<T>> {
  const started = performance.now();
  const latencyMs = () => Math.round(performance.now() - started);
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: latencyMs(), value };
  } catch (err) {
    return { ok: false, latencyMs: latencyMs(), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Which backend serves each kind of state: the same names whatever the caller may see. */
function drivers(rt: Runtime) {
  return {
    database: rt.config.database.kind,
    storage: rt.storage.driver,
    sharedState: rt.redis ? 'redis' : 'memory',
    jobs: rt.redis ? 'bullmq' : 'in-process',
    rendering: rt.config.pdf.rendering,
  };
}

/** Whether `header` is `Bearer METRICS_TOKEN` (compared in constant time); false when no token is set. */
function metricsBearer(rt: Runtime): (header: string | undefined) => boolean {
  const expected = rt.config.metricsToken ? Buffer.from(`Bearer ${rt.config.metricsToken}`) : undefined;
  return (header) => {
    const given = Buffer.from(header ?? '');
    return expected !== undefined && given.length === expected.length && timingSafeEqual(given, expected);
  };
}

/** Whether the caller may see the details: the METRICS_TOKEN bearer, or an admin's token. */
function detailsAllowed(rt: Runtime): (header: string | undefined) => Promise<boolean> {
  const isMetricsBearer = metricsBearer(rt);
  return async (header) => {
    if (!header) return false;
    if (isMetricsBearer(header)) return true;
    const bearer = /^Bearer (\S+)$/.exec(header)?.[1];
    if (!bearer) return false;
    const user = await rt.tokens.verify(bearer);
    return 'role' in user && user.role === 'admin';
  };
}

export function healthRoutes(rt: Runtime): Router {
  const router = Router();
  const noStore: RequestHandler = (_req, res, next) => (res.setHeader('Cache-Control', 'no-store'), next());
  router.use(noStore);
  const mayDetail = detailsAllowed(rt);

  // Liveness: 200 whenever the process can answer at all. Anonymous callers get the states only;
  // paths, pids and Chromium's last error go to operators (METRICS_TOKEN or an admin).
  router.get('/', async (req, res) => {
    const disk = await rt.disk.report();
    const pdf = rt.renderer.status();
    if (!(await mayDetail(req.headers.authorization))) {
      res.json({
        status: 'ok',
        drivers: drivers(rt),
        memory: rt.memoryGuard.status,
        disk: disk.status,
        pdf: pdf.state,
      });
      return;
    }
    res.json({
      status: 'ok',
      startedAt,
      uptimeSeconds: Math.round(process.uptime()),
      drivers: drivers(rt),
      memory: rt.memoryGuard.status,
      disk,
      pdf,
    });
  });

  // Readiness: 503 while draining for shutdown or when a configured backend (database, storage,
  // Redis) does not answer. Anonymous callers get the status and the failed checks' names; the
  // backends' error texts are for operators.
  router.get('/ready', async (req, res) => {
    const redis = rt.redis;
    const [database, storage, sharedState, pdfTempFiles, disk] = await Promise.all([
      check(async () => void (await rt.db.raw('select 1'))),
      // Counting unfinished uploads asks the store itself (a folder, or ListMultipartUploads).
      check(() => rt.storage.countPending()),
      redis ? check(() => checkRedis(redis)) : undefined,
      rt.renderer.countTempFiles(),
      rt.disk.report(),
    ]);
    const checks = { database, storage, ...(sharedState ? { redis: sharedState } : {}) };
    const failed = [
      ...Object.entries(checks)
        .filter(([, result]) => !result.ok)
        .map(([name]) => name),
      ...(rt.draining ? ['draining'] : []),
    ];
    const status = failed.length ? 'unavailable' : 'ready';
    res.status(failed.length ? 503 : 200);
    if (!(await mayDetail(req.headers.authorization))) {
      res.json({ status, failed });
      return;
    }
    const { value: uploadsInProgress, ...storageCheck } = storage;
    res.json({
      status,
      failed,
      drivers: drivers(rt),
      checks: { ...checks, storage: storageCheck, draining: rt.draining },
      dbPool: poolStats(rt.db),
      pdf: rt.renderer.status(),
      tempFiles: { pdf: pdfTempFiles, uploadsInProgress: uploadsInProgress ?? null },
      memory: rt.memoryGuard.status,
      disk,
    });
  });

  // The guard's last sample (taken every MEMORY_SAMPLE_INTERVAL_MS): polling this costs no /proc walk.
  // Figures only (no paths, no errors), so anyone may read them. An operator may ask for a reading
  // taken now (`?fresh`), as `npm run verify` does to see memory during a single upload.
  router.get('/memory', async (req, res) => {
    if (req.query.fresh !== undefined && (await mayDetail(req.headers.authorization))) rt.memoryGuard.sample();
    res.json(rt.memoryGuard.report());
  });

  return router;
}

export function metricsRoute(rt: Runtime): RequestHandler {
  const isMetricsBearer = metricsBearer(rt);
  return async (req, res) => {
    // In production the figures are served only to the holder of METRICS_TOKEN.
    if (!rt.config.metricsToken && rt.config.env === 'production') throw notFound('metrics (set METRICS_TOKEN)');
    if (rt.config.metricsToken && !isMetricsBearer(req.headers.authorization))
      throw unauthorized('metrics need the METRICS_TOKEN bearer token');
    res.setHeader('Content-Type', rt.metrics.registry.contentType);
    res.send(await rt.metrics.registry.metrics());
  };
}
