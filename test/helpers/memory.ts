// Memory readings made up by the tests, to drive the memory guard by hand.
import type { Clock } from '../../server/health/memory-guard.js';
import type { MemoryReading } from '../../server/health/memory-reading.js';

export const GiB = 1024 ** 3;

/** A fake reading at `percent` of a 1 GiB limit. */
export const readingAt = (percent: number): MemoryReading => ({
  source: 'MEMORY_LIMIT_MB',
  total: GiB,
  used: Math.round((GiB * percent) / 100),
  available: GiB - Math.round((GiB * percent) / 100),
  percent,
  process: { rss: 1, heapUsed: 1, heapTotal: 1, external: 1, arrayBuffers: 1 },
  chromium: { rss: 0, pss: 0, processes: 0 },
});

/** A clock that never fires: the test calls guard.sample() itself. */
export const manualClock: Clock = { every: () => () => {} };
