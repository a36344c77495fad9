// One configured S3 client for the server, the tests and the benches alike.
import { S3Client } from '@aws-sdk/client-s3';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Logger } from 'pino';
import type { StorageConfig } from '../../config.js';

export type S3Settings = Extract<StorageConfig, { driver: 's3' }>;

/**
 * `idleTimeoutMs` is how long a socket may stay silent: S3_TIMEOUT_MS, but longer for calls that
 * legitimately think for a while (CompleteMultipartUpload).
 */
export function createS3Client(
  settings: S3Settings,
  options: { maxAttempts?: number; idleTimeoutMs?: number; logger?: Logger } = {},
): S3Client {
  const { maxAttempts = settings.maxAttempts, idleTimeoutMs = settings.timeoutMs, logger } = options;
  /** What the SDK passes its logger: strings, or errors and objects (of which the message is enough). */
  const text = (args: unknown[]) =>
    args.map((a) => (typeof a === 'string' ? a : ((a as Error)?.message ?? (a as Error)?.name ?? typeof a))).join(' ');
  const agent = { keepAlive: true, maxSockets: 64 };
  return new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    maxAttempts,
    // The SDK's own notes (it will not retry a stream body: we do) are debug lines in our log, not
    // console output.
    logger: logger && {
      trace: () => {},
      debug: () => {},
      info: () => {},
      warn: (...args: unknown[]) => logger.debug({ s3: text(args) }, 'S3 client note'),
      error: (...args: unknown[]) => logger.warn({ s3: text(args) }, 'S3 client error'),
    },
    // Since early 2025 the SDK frames every upload with CRC32 trailers, which many S3-compatible
    // servers refuse; AWS itself accepts requests without them. Checksums only where an API needs one.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      // A store that does not accept the connection, or goes silent, fails the attempt in bounded time.
      connectionTimeout: settings.timeoutMs,
      socketTimeout: idleTimeoutMs,
      httpAgent: new Agent(agent),
      httpsAgent: new HttpsAgent(agent),
    },
  });
}
