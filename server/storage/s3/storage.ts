// The S3-compatible driver: one bucket, objects under `<S3_PREFIX><area>/`. Uploads go as multipart
// uploads from spooled part files (part-spool.ts), so memory stays flat whatever the file's size; a
// failure aborts the multipart upload, so neither an object nor an incomplete upload is left.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createReadStream, mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { countFiles, sweepStale } from '../../shared/temp-files.js';
import type { Scavenger } from '../scavenger.js';
import {
  isMissingObject,
  OBJECT_NAME,
  type ByteRange,
  type ListedObject,
  type Storage,
  type StoredObject,
} from '../storage.js';
import { createS3Client, type S3Settings } from './client.js';
import { isUnavailable, translate } from './errors.js';
import { SPOOL_PREFIX, spoolParts, type SpooledPart } from './part-spool.js';

/**
 * CompleteMultipartUpload assembles the object before it answers: S3 may take minutes for a large one
 * (it sends whitespace meanwhile; moto and others send nothing). Its silence is allowed this long.
 */
const COMPLETE_IDLE_TIMEOUT_MS = 120_000;

export interface S3StorageOptions {
  settings: S3Settings;
  /** The folder under the prefix: uploads, documents, exports. */
  area: string;
  spoolDir: string;
  logger: Logger;
  scavenger?: Scavenger;
}

export class S3Storage implements Storage {
  readonly driver = 's3';
  readonly bucket: string;
  /** Every key of this store starts with this. */
  readonly keyPrefix: string;
  /**
   * The SDK never retries a request whose body is a stream (it cannot rewind one): part uploads are
   * retried here with a fresh stream from the part file (withRetries); everything else by the SDK.
   */
  private readonly client: S3Client;
  /** For CompleteMultipartUpload: one attempt, a long silence allowed (see COMPLETE_IDLE_TIMEOUT_MS). */
  private readonly completeClient: S3Client;

  constructor(private readonly options: S3StorageOptions) {
    this.bucket = options.settings.bucket;
    this.keyPrefix = `${options.settings.prefix}${options.area}/`;
    const { settings, logger } = options;
    this.client = createS3Client(settings, { logger });
    this.completeClient = createS3Client(settings, {
      maxAttempts: 1,
      idleTimeoutMs: Math.max(settings.timeoutMs, COMPLETE_IDLE_TIMEOUT_MS),
      logger,
    });
    mkdirSync(options.spoolDir, { recursive: true });
  }

  private key(name: string): string {
    if (!OBJECT_NAME.test(name)) throw new Error(`invalid object name: ${name}`);
    return this.keyPrefix + name;
  }

  async put(name: string, source: Readable): Promise<StoredObject> {
    const Key = this.key(name);
    const { partBytes } = this.options.settings;
    const parts = spoolParts(source, this.options.spoolDir, partBytes, this.options.scavenger);
    const spooled = new Set<string>();
    let uploadId: string | undefined;
    let size = 0;
    try {
      const first = (await parts.next()).value as SpooledPart;
      spooled.add(first.path);
      if (first.last) {
        size = first.size;
        await this.call(Key, () =>
          this.withRetries(() =>
            this.client.send(
              new PutObjectCommand({ Bucket: this.bucket, Key, Body: partBody(first), ContentLength: first.size }),
            ),
          ),
        );
      } else {
        uploadId = await this.createUpload(Key);
        const completed = await this.sendParts(Key, uploadId, first, parts, spooled);
        size = completed.size;
        await this.complete(Key, uploadId, completed);
        uploadId = undefined; // complete: nothing to abort any more
      }
    } catch (err) {
      // The request's own errors (413, the client gone) pass through as they are; the store's were
      // translated where they happened.
      source.destroy();
      await parts.return(undefined).catch(() => {});
      if (uploadId) await this.abort(Key, uploadId);
      throw err;
    } finally {
      await Promise.all([...spooled].filter(Boolean).map((path) => unlink(path).catch(() => {})));
    }
    return { size, modifiedAt: new Date() };
  }

  /**
   * One attempt, never retried blindly: a retry of a completion that did succeed would find the upload
   * gone. A failure is checked against the object itself (there with the size sent: it completed).
   */
  private async complete(Key: string, UploadId: string, sent: { parts: CompletedPart[]; size: number }) {
    try {
      await this.completeClient.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: sent.parts },
        }),
      );
    } catch (err) {
      const object = await this.stat(Key.slice(this.keyPrefix.length)).catch(() => undefined);
      if (object?.size === sent.size) return;
      throw translate(err, Key);
    }
  }

  /** Runs one call to the store, its failure translated for the caller (missing, unavailable). */
  private async call<T>(object: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw translate(err, object);
    }
  }

  private async createUpload(Key: string): Promise<string> {
    const created = await this.call(Key, () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key })),
    );
    if (!created.UploadId) throw new Error('CreateMultipartUpload answered without an UploadId');
    return created.UploadId;
  }

  /** Sends `first` and every later part, S3_PARTS_IN_FLIGHT at a time, each file removed once sent. */
  private async sendParts(
    Key: string,
    UploadId: string,
    first: SpooledPart,
    rest: AsyncGenerator<SpooledPart>,
    spooled: Set<string>,
  ): Promise<{ parts: CompletedPart[]; size: number }> {
    const completed: CompletedPart[] = [];
    let size = 0;
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    const send = (part: SpooledPart, PartNumber: number) => {
      size += part.size;
      const sending = this.call(Key, () =>
        this.withRetries(() =>
          this.client.send(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key,
              UploadId,
              PartNumber,
              Body: partBody(part),
              ContentLength: part.size,
            }),
          ),
        ),
      )
        .then(async (answer) => {
          completed.push({ PartNumber, ETag: answer.ETag });
          spooled.delete(part.path);
          await unlink(part.path).catch(() => {});
        })
        .catch((err) => void (failure ??= err))
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    };
    let number = 1;
    send(first, number);
    try {
      for (let next = await rest.next(); !next.done; next = await rest.next()) {
        const part = next.value;
        spooled.add(part.path);
        if (part.size > 0) send(part, ++number);
        while (inFlight.size >= this.options.settings.partsInFlight && !failure) await Promise.race(inFlight);
        if (failure) break;
      }
    } finally {
      // Settled before anyone aborts: a part still arriving after the abort could outlive it.
      await Promise.all(inFlight);
    }
    if (failure) throw failure;
    return { parts: completed.sort((a, b) => a.PartNumber! - b.PartNumber!), size };
  }

  /** Stream-body requests, each attempt with a fresh stream from the part file. */
  private async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    const attempts = this.options.settings.maxAttempts;
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (n >= attempts || !isUnavailable(err)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** n));
      }
    }
  }

  private async abort(Key: string, UploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }));
    } catch (err) {
      // Left for the start-up sweep (S3_ABANDONED_UPLOAD_AGE_S) to abort.
      this.options.logger.warn({ err, object: Key }, 'could not abort a failed multipart upload');
    }
  }

  async read(name: string, range?: ByteRange): Promise<Readable> {
    const Key = this.key(name);
    const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
    const answer = await this.call(Key, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range })),
    );
    const body = answer.Body as IncomingMessage;
    // The idle timeout guarded the wait for an answer. From here the client sets the pace: a paused
    // download must not be cut because the store's socket went quiet, and a client that leaves
    // destroys this body (and its socket) through sendStream.
    body.socket?.setTimeout(0);
    return body;
  }

  async stat(name: string): Promise<StoredObject | undefined> {
    const Key = this.key(name);
    try {
      const head = await this.call(Key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })));
      return { size: Number(head.ContentLength ?? 0), modifiedAt: head.LastModified ?? new Date(0) };
    } catch (err) {
      if (isMissingObject(err)) return undefined;
      throw err;
    }
  }

  async delete(name: string): Promise<void> {
    const Key = this.key(name);
    await this.call(Key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })));
  }

  async *list(): AsyncIterable<ListedObject> {
    let ContinuationToken: string | undefined;
    do {
      const page = await this.call(this.keyPrefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keyPrefix, ContinuationToken })),
      );
      for (const object of page.Contents ?? []) {
        const name = object.Key!.slice(this.keyPrefix.length);
        if (OBJECT_NAME.test(name)) {
          yield { name, size: Number(object.Size ?? 0), modifiedAt: object.LastModified ?? new Date(0) };
        }
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  /** Multipart uploads under this store's prefix, with when each began. */
  private async *multipartUploads(
    Prefix = this.keyPrefix,
  ): AsyncIterable<{ Key: string; UploadId: string; initiated: Date }> {
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    do {
      const page = await this.call(this.keyPrefix, () =>
        this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix, KeyMarker, UploadIdMarker })),
      );
      for (const upload of page.Uploads ?? []) {
        yield { Key: upload.Key!, UploadId: upload.UploadId!, initiated: upload.Initiated ?? new Date(0) };
      }
      [KeyMarker, UploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [];
    } while (KeyMarker);
  }

  /** Unfinished uploads now: this process's spooled parts plus every multipart upload in the bucket. */
  async countPending(): Promise<number> {
    let count = await countFiles(this.options.spoolDir, SPOOL_PREFIX);
    for await (const _ of this.multipartUploads()) count++;
    return count;
  }

  /**
   * At start-up: part files of dead processes, and multipart uploads older than the configured age
   * (other processes may be uploading right now; theirs are younger).
   */
  async sweepPending(): Promise<number> {
    let removed = sweepStale(this.options.spoolDir, SPOOL_PREFIX);
    const before = Date.now() - this.options.settings.abandonedUploadAgeSeconds * 1000;
    for await (const upload of this.multipartUploads()) {
      if (upload.initiated.getTime() > before) continue;
      await this.abort(upload.Key, upload.UploadId);
      removed++;
    }
    return removed;
  }

  async discardPending(name: string): Promise<void> {
    sweepStale(this.options.spoolDir, SPOOL_PREFIX);
    const Key = this.key(name);
    for await (const upload of this.multipartUploads(Key))
      if (upload.Key === Key) await this.abort(Key, upload.UploadId);
  }

  close(): void {
    for (const client of [this.client, this.completeClient]) client.destroy();
  }
}

/** A part's bytes, read from its spool file (or nothing, for an empty object). */
function partBody(part: SpooledPart): Readable | string {
  return part.size > 0 ? createReadStream(part.path, { highWaterMark: 64 * 1024 }) : '';
}
