// express-rate-limit counters in Redis, so N processes enforce one limit. Each limiter needs its own
// prefix (express-rate-limit refuses one store for two limiters).
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { DomainError } from '../shared/domain-error.js';

export type LimiterStoreFactory = (name: string) => RedisStore | undefined;

/** Without Redis, undefined: each limiter counts in this process's memory. */
export function limiterStores(redis: Redis | undefined, keyPrefix: string): LimiterStoreFactory {
  return (name) =>
    redis &&
    new RedisStore({
      prefix: `${keyPrefix}${name}:`,
      // A limit that cannot be counted is not waived: the request gets 503 and may retry.
      sendCommand: (command: string, ...args: string[]) =>
        (redis.call(command, ...args) as Promise<RedisReply>).catch((err: Error) => {
          if (/^NOSCRIPT/.test(err.message)) throw err; // the store reloads its script itself
          throw Object.assign(
            new DomainError(
              'unavailable',
              'rate_limit_unavailable',
              'the rate limiter is not answering; try again shortly',
              5,
            ),
            { cause: err },
          );
        }),
    });
}
