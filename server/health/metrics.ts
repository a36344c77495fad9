// Prometheus metrics (prom-client) in a registry of the app's own, so several apps (tests) never clash.
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { poolStats, type Db } from '../db/connect.js';
import type { PdfRenderer } from '../pdf/renderer.js';
import type { DiskMonitor } from './disk.js';
import { PRESSURE_LEVEL, type MemoryGuard } from './memory-guard.js';

export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly renderDuration = new Histogram({
    name: 'pdf_render_duration_seconds',
    help: 'Invoice render time, queue wait included',
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly uploadBytes = new Counter({
    name: 'upload_bytes_total',
    help: 'Bytes stored by successful uploads',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly guardRejections = new Counter({
    name: 'memory_guard_rejections_total',
    help: 'Requests refused with 503 under memory pressure',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const kind of ['image', 'video']) this.uploadBytes.inc({ kind }, 0); // present before the first upload
  }

  /** Gauges read at scrape time from the live objects. */
  observe(deps: { db: Db; renderer: PdfRenderer; guard: MemoryGuard; disk: DiskMonitor }): void {
    const { db, renderer, guard, disk } = deps;
    const registers = [this.registry];
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const s = poolStats(db);
        this.set({ state: 'used' }, s.used);
        this.set({ state: 'free' }, s.free);
        this.set({ state: 'pending_acquire' }, s.pendingAcquires);
      },
    });
    new Gauge({
      name: 'pdf_queue_depth',
      help: 'Invoice renders waiting for a worker',
      registers,
      collect() {
        this.set(renderer.queueSize);
      },
    });
    new Gauge({
      name: 'memory_guard_status',
      help: 'Memory pressure: 0 ok, 1 warning, 2 critical',
      registers,
      collect() {
        this.set(PRESSURE_LEVEL[guard.status]);
      },
    });
    new Gauge({
      name: 'memory_used_percent',
      help: 'Memory in use against the applicable limit',
      registers,
      collect() {
        this.set(guard.reading.percent);
      },
    });
    // One statfs per place for both gauges: the total is collected with the free space.
    let lastDisk: Awaited<ReturnType<DiskMonitor['report']>> | undefined;
    new Gauge({
      name: 'disk_free_bytes',
      help: 'Free space (for the server) on each file system it writes to, by what it keeps there',
      labelNames: ['use'] as const,
      registers,
      async collect() {
        lastDisk = await disk.report();
        for (const f of lastDisk.filesystems) this.set({ use: f.use }, f.freeBytes);
      },
    });
    new Gauge({
      name: 'disk_total_bytes',
      help: 'Size of each file system the server writes to, by what it keeps there',
      labelNames: ['use'] as const,
      registers,
      async collect() {
        for (const f of (lastDisk ?? (await disk.report())).filesystems) this.set({ use: f.use }, f.totalBytes);
      },
    });
    new Gauge({
      name: 'chromium_rss_bytes',
      help: 'RSS of the Chromium process tree',
      registers,
      collect() {
        this.set(guard.reading.chromium.rss);
      },
    });
  }

  /** Times every request; the route label is the matched pattern, never the raw URL (bounded cardinality). */
  readonly timing: RequestHandler = (req, res, next) => {
    const end = this.httpDuration.startTimer();
    res.once('finish', () => {
      const route = req.route
        ? `${req.baseUrl}${req.route.path}`
        : res.statusCode === 404
          ? 'unmatched'
          : req.baseUrl || 'other';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}
