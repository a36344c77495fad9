// Where durable bytes live. Routes talk to this interface only: the local folder (one machine) and an
// S3-compatible bucket (several processes on an ephemeral disk) answer the same way.
import type { Readable } from 'node:stream';
import { DomainError } from '../shared/domain-error.js';

export interface ByteRange {
  start: number;
  /** Inclusive, as in HTTP Content-Range. */
  end: number;
}

export interface StoredObject {
  size: number;
  modifiedAt: Date;
}

export interface ListedObject extends StoredObject {
  name: string;
}

export interface Storage {
  readonly driver: 'local' | 's3';
  /** Stores the stream under `name`; the object appears only once complete. On error nothing is left. */
  put(name: string, source: Readable): Promise<StoredObject>;
  /**
   * A stream of the object's bytes, or of one inclusive byte range. Rejects before any byte with a
   * MissingObjectError when there is no such object, so the caller can still answer 404.
   */
  read(name: string, range?: ByteRange): Promise<Readable>;
  stat(name: string): Promise<StoredObject | undefined>;
  delete(name: string): Promise<void>;
  /** Every stored object (paged underneath): for the orphan sweep. */
  list(): AsyncIterable<ListedObject>;
  /** Unfinished writes present now (a health figure; zero when idle). Fails when the store is unreachable. */
  countPending(): Promise<number>;
  /** Removes unfinished writes left by a process that died; run at start-up. */
  sweepPending(): Promise<number>;
  /**
   * Removes unfinished writes of `name` (S3: its incomplete multipart uploads, whatever their age), for
   * a caller that knows no live process is writing it: a job's new attempt after a dead one.
   */
  discardPending(name: string): Promise<void>;
  /** Lets go of connections (S3's sockets). */
  close?(): void;
}

/** A row names an object the store does not have (deleted by hand, or a lost write). */
export class MissingObjectError extends Error {
  readonly code = 'ENOENT';
  constructor(readonly object: string) {
    super(`stored object ${object} is missing`);
  }
}

export const isMissingObject = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === 'ENOENT';

/** The store does not answer (down, frozen, 5xx): the client may retry shortly. */
export const storageUnavailable = (cause: unknown) => {
  const err = new DomainError(
    'unavailable',
    'storage_unavailable',
    'the file store is not answering; try again shortly',
    5,
  );
  err.cause = cause;
  return err;
};

/**
 * The whole of a `size`-byte file as a range. A read stream that knows where it ends sizes its buffers
 * to fit (a 4 KiB file no longer costs a 64 KiB buffer, and V8 the collections that triggers).
 */
export function wholeFile(size: number): ByteRange | undefined {
  return size > 0 ? { start: 0, end: size - 1 } : undefined;
}

/** Server-chosen object names: 128 random bits in hex plus a lowercase extension. Nothing else is valid. */
export const OBJECT_NAME = /^[0-9a-f]{32}\.[a-z0-9]{2,5}$/;
