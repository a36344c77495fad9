// Where uploaded bytes live. Routes talk to this interface only, so the local folder used now can be
// swapped for an S3-compatible store (Heroku's filesystem is wiped on every restart) without touching them.
import type { Readable } from 'node:stream';

export interface ByteRange {
  start: number;
  /** Inclusive, as in HTTP Content-Range. */
  end: number;
}

export interface StoredObject {
  size: number;
  modifiedAt: Date;
}

export interface Storage {
  /** Stores the stream under `name`; the object appears only once complete. On error nothing is left. */
  put(name: string, source: Readable): Promise<StoredObject>;
  /** A stream of the object's bytes, or of one inclusive byte range. */
  read(name: string, range?: ByteRange): Readable;
  stat(name: string): Promise<StoredObject | undefined>;
  delete(name: string): Promise<void>;
  /** Unfinished writes present now (a health figure; zero when idle). */
  countPending(): Promise<number>;
  /** Removes unfinished writes left by a process that died; run at start-up. */
  sweepPending(): Promise<number>;
}

/**
 * The whole of a `size`-byte file as a range. A read stream that knows where it ends sizes its buffers
 * to fit (a 4 KiB file no longer costs a 64 KiB buffer, and V8 the collections that triggers).
 */
export function wholeFile(size: number): ByteRange | undefined {
  return size > 0 ? { start: 0, end: size - 1 } : undefined;
}

/** Server-chosen object names: 128 random bits in hex plus a lowercase extension. Nothing else is valid. */
export const OBJECT_NAME = /^[0-9a-f]{32}\.[a-z0-9]{2,5}$/;
