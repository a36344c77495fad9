// Overload protection in the spirit of Fastify's under-pressure: memory (and event-loop delay) are
// sampled on a timer, never per request; heavy routes (uploads, invoices, exports) are refused with
// 503 + Retry-After while memory is critical, so the process sheds load before the kernel kills it.
// Health checks and cheap reads are never refused. MEMORY_GUARD=off keeps the figures, refuses nothing.
import type { RequestHandler } from 'express';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { sendError, unavailable } from '../http/errors.js';
import type { MemoryReading } from './memory-reading.js';

const LOOP_RESOLUTION_MS = 10;

export type PressureStatus = 'ok' | 'warning' | 'critical';
export const PRESSURE_LEVEL: Record<PressureStatus, number> = { ok: 0, warning: 1, critical: 2 };

/** setInterval/clearInterval, injectable so tests drive sampling by hand. */
export interface Clock {
  every(ms: number, fn: () => void): () => void;
}

export const realClock: Clock = {
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export interface EventLoopDelay {
  meanMs: number;
  p99Ms: number;
  maxMs: number;
}

export class MemoryGuard {
  status: PressureStatus = 'ok';
  reading: MemoryReading;
  eventLoop: EventLoopDelay = { meanMs: 0, p99Ms: 0, maxMs: 0 };
  rejected = 0;
  private stopTimer?: () => void;
  private readonly loopDelay: IntervalHistogram;

  constructor(
    readonly options: Config['memory'],
    private readonly sampler: () => MemoryReading,
    private readonly logger: Logger,
    private readonly clock: Clock = realClock,
    private readonly onReject: () => void = () => {},
  ) {
    this.loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.reading = sampler();
    this.status = this.classify(this.reading.percent);
  }

  start(): void {
    this.loopDelay.enable();
    this.stopTimer = this.clock.every(this.options.sampleIntervalMs, () => this.sample());
  }

  stop(): void {
    this.stopTimer?.();
    this.loopDelay.disable();
  }

  private classify(percent: number): PressureStatus {
    if (percent >= this.options.criticalPercent) return 'critical';
    if (percent >= this.options.warningPercent) return 'warning';
    return 'ok';
  }

  /** Takes one reading; a change of status is logged once, here, not per request. */
  sample(): MemoryReading {
    this.reading = this.sampler();
    // The histogram records the timer's whole period; the delay is what exceeds the resolution.
    const ms = (ns: number) => Math.max(0, Math.round((Number.isFinite(ns) ? ns : 0) / 1e4) / 100 - LOOP_RESOLUTION_MS);
    this.eventLoop = {
      meanMs: ms(this.loopDelay.mean),
      p99Ms: ms(this.loopDelay.percentile(99)),
      maxMs: ms(this.loopDelay.max),
    };
    this.loopDelay.reset();
    const next = this.classify(this.reading.percent);
    if (next !== this.status) {
      const level = next === 'ok' ? 'info' : next === 'warning' ? 'warn' : 'error';
      this.logger[level](
        {
          from: this.status,
          to: next,
          percent: this.reading.percent,
          used: this.reading.used,
          total: this.reading.total,
          source: this.reading.source,
        },
        `memory pressure is now ${next}`,
      );
      this.status = next;
    }
    return this.reading;
  }

  /** In front of heavy routes: 503 + Retry-After while critical (unless MEMORY_GUARD=off). */
  readonly heavyRoutes: RequestHandler = (_req, res, next) => {
    if (!this.options.enabled || this.status !== 'critical') return next();
    this.rejected++;
    this.onReject();
    sendError(
      res,
      unavailable('memory_pressure', 'the server is low on memory; try again shortly', this.options.retryAfterSeconds),
    );
  };

  report() {
    const r = this.reading;
    return {
      status: this.status,
      guard: this.options.enabled ? 'on' : 'off',
      limit: { bytes: r.total, source: r.source },
      total: r.total,
      used: r.used,
      available: r.available,
      percent: r.percent,
      process: r.process,
      chromium: r.chromium,
      eventLoopDelay: this.eventLoop,
      thresholds: { warningPercent: this.options.warningPercent, criticalPercent: this.options.criticalPercent },
      rejected: this.rejected,
      sampleIntervalMs: this.options.sampleIntervalMs,
    };
  }
}
