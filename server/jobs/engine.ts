// How export jobs reach whatever runs them. With REDIS_URL: a BullMQ queue, drained by worker processes
// (npm run worker). Without: the web process runs them itself. Either way the job's record is its row
// in export_jobs; the engine carries only ids.
import type { RedisOptions } from 'bullmq';
import type { Config } from '../config.js';

export interface JobEngine {
  readonly kind: 'bullmq' | 'in-process';
  enqueue(id: number): Promise<void>;
  /** Takes a queued job out of the queue (a running one stops by itself: it watches its row). */
  dequeue(id: number): Promise<void>;
  close(): Promise<void>;
}

export const EXPORT_QUEUE = 'exports';
export const RENDER_QUEUE = 'renders';

/** BullMQ's key prefix, under the app's own (REDIS_KEY_PREFIX), so the queues share Redis with others. */
export const queuePrefix = (config: Config) => `${config.redisKeyPrefix}jobs`;

/** BullMQ job ids must not be bare integers. */
export const exportJobId = (id: number) => `export-${id}`;

/**
 * REDIS_URL as BullMQ's connection options: each queue, worker and event reader opens (and closes) its
 * own connections, with `maxRetriesPerRequest: null` so a worker's commands wait through a reconnect
 * rather than fail (BullMQ's production notes).
 */
export function bullConnection(url: string, use: 'worker' | 'producer' = 'worker'): RedisOptions {
  // A web process adding a job answers a request: with Redis gone it fails fast (503) rather than wait.
  return use === 'producer'
    ? { url, enableOfflineQueue: false, maxRetriesPerRequest: 1 }
    : { url, maxRetriesPerRequest: null };
}
