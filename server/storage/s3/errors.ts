// What an S3 failure means for a request: missing (404), unavailable (503, retry), or a bug or a
// misconfiguration (500, logged).
import { MissingObjectError, storageUnavailable } from '../storage.js';

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function statusOf(err: unknown): number | undefined {
  return (err as SdkError)?.$metadata?.httpStatusCode;
}

export const isNotFound = (err: unknown) =>
  statusOf(err) === 404 || ['NoSuchKey', 'NotFound'].includes((err as SdkError)?.name ?? '');

/**
 * No answer at all (refused, reset, timed out) or a 5xx / throttling answer: the store is down or
 * overloaded for now. A 4xx other than 404 is our request's fault (wrong bucket, credentials) and not
 * something a client's retry would fix.
 */
export function isUnavailable(err: unknown): boolean {
  const status = statusOf(err);
  if (status === undefined) return (err as SdkError)?.name !== 'AbortError';
  return status >= 500 || status === 429 || (err as SdkError).name === 'SlowDown';
}

/** The error to throw for a failed call on `object`. */
export function translate(err: unknown, object: string): unknown {
  if (isNotFound(err)) return new MissingObjectError(object);
  if (isUnavailable(err)) return storageUnavailable(err);
  return err;
}
