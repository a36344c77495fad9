// The Redis connection shared state goes through (REDIS_URL): the login and registration limits now,
// counted once for every process.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** How long a request waits for Redis before its command fails (and the request gets 503). */
const COMMAND_TIMEOUT_MS = 2_000;

/**
 * Connected and answering before it is returned: a configured Redis that is down stops start-up, as a
 * database that is down does, rather than running with limits that silently do not hold.
 */
export async function openRedis(url: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3_000,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // A request retries its command once after a reconnect; it never queues for long.
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let lastLogged = 0;
  redis.on('error', (err: Error) => {
    // The client reconnects by itself; one line every 10 s says it is trying (never the URL).
    if (Date.now() - lastLogged < 10_000) return;
    lastLogged = Date.now();
    logger.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'redis unavailable');
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`REDIS_URL does not answer: ${(err as Error).message}`);
  }
  return redis;
}

export async function checkRedis(redis: Redis): Promise<void> {
  const answer = await redis.ping();
  if (answer !== 'PONG') throw new Error(`PING answered ${answer}`);
}
