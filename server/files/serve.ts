// send-style serving of a stored object: Range (206/416), strong ETag, conditional requests (304/412),
// HEAD, Accept-Ranges. The same rules as the `send` package, with its own building blocks (range-parser,
// fresh), but reading through the Storage interface (or memory, for small objects) so any backend serves
// the same way.
import type { Request, Response } from 'express';
import type { Readable } from 'node:stream';
import { create as contentDisposition } from 'content-disposition';
import fresh from 'fresh';
import parseRange from 'range-parser';
import { notFound } from '../http/errors.js';
import { sendStream } from '../http/send-stream.js';
import { isMissingObject, wholeFile, type ByteRange } from '../storage/storage.js';

/** Where served bytes come from: a stream from storage, or the whole object from memory when held. */
export interface ObjectBytes {
  read(name: string, range?: ByteRange): Promise<Readable>;
  whole?(object: { name: string; size: number }): Promise<Buffer | undefined>;
}

export interface ObjectDescription {
  name: string;
  size: number;
  /** Strong validator, quoted. */
  etag: string;
  lastModified: Date;
  contentType: string;
  /** Shown to the user when saving; inline objects are displayed by the browser. */
  downloadName: string;
  inline: boolean;
  cacheControl: string;
}

/** An object with its header values worked out once: callers cache it for objects that never change. */
export interface ServedObject extends ObjectDescription {
  lastModifiedHeader: string;
  contentDisposition: string;
}

export function servedObject(description: ObjectDescription): ServedObject {
  return {
    ...description,
    lastModifiedHeader: description.lastModified.toUTCString(),
    contentDisposition: contentDisposition(description.downloadName, {
      type: description.inline ? 'inline' : 'attachment',
    }),
  };
}

const OBJECT_HEADERS = [
  'Accept-Ranges',
  'ETag',
  'Last-Modified',
  'Cache-Control',
  'Content-Type',
  'Content-Disposition',
  'Content-Range',
  'Content-Length',
];

function etagMatches(header: string, etag: string): boolean {
  return header.trim() === '*' || header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** RFC 9110 13.2.2: If-Match, then If-Unmodified-Since; a failure is 412. */
function preconditionFailed(req: Request, object: ServedObject): boolean {
  const ifMatch = req.headers['if-match'];
  if (ifMatch) return !etagMatches(ifMatch, object.etag);
  const since = Date.parse(req.headers['if-unmodified-since'] ?? '');
  return !Number.isNaN(since) && Math.floor(object.lastModified.getTime() / 1000) > Math.floor(since / 1000);
}

/** If-Range lets a range through only while the representation is unchanged. */
function rangeStillValid(req: Request, object: ServedObject): boolean {
  const ifRange = req.get('If-Range');
  if (!ifRange) return true;
  if (ifRange.includes('"')) return ifRange.trim() === object.etag;
  const date = Date.parse(ifRange);
  return !Number.isNaN(date) && Math.floor(object.lastModified.getTime() / 1000) <= Math.floor(date / 1000);
}

type RangeDecision = { kind: 'whole' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

function decideRange(req: Request, object: ServedObject): RangeDecision {
  const header = req.headers.range;
  if (!header || !rangeStillValid(req, object)) return { kind: 'whole' };
  const ranges = parseRange(object.size, header, { combine: true });
  if (ranges === -1) return { kind: 'unsatisfiable' };
  // Malformed (-2), another unit, or several ranges: answering with the whole file is allowed.
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return { kind: 'whole' };
  return { kind: 'partial', range: { start: ranges[0]!.start, end: ranges[0]!.end } };
}

export async function serveObject(
  req: Request,
  res: Response,
  bytes: ObjectBytes,
  object: ServedObject,
): Promise<void> {
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('ETag', object.etag);
  res.setHeader('Last-Modified', object.lastModifiedHeader);
  res.setHeader('Cache-Control', object.cacheControl);

  if (preconditionFailed(req, object)) {
    res.status(412).json({
      error: { code: 'precondition_failed', message: 'the file does not match If-Match / If-Unmodified-Since' },
    });
    return;
  }
  if (fresh(req.headers, { etag: object.etag, 'last-modified': object.lastModifiedHeader })) {
    res.status(304).end();
    return;
  }

  const decision = decideRange(req, object);
  if (decision.kind === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${object.size}`);
    res.status(416).json({ error: { code: 'range_not_satisfiable', message: `the file has ${object.size} bytes` } });
    return;
  }
  res.setHeader('Content-Type', object.contentType);
  res.setHeader('Content-Disposition', object.contentDisposition);
  let range: ByteRange | undefined;
  if (decision.kind === 'partial') {
    range = decision.range;
    res.status(206).setHeader('Content-Range', `bytes ${range.start}-${range.end}/${object.size}`);
  }
  res.setHeader('Content-Length', range ? range.end - range.start + 1 : object.size);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  try {
    const held = await bytes.whole?.(object);
    if (held) res.end(range ? held.subarray(range.start, range.end + 1) : held);
    else await sendStream(res, await bytes.read(object.name, range ?? wholeFile(object.size)));
  } catch (err) {
    // Nothing sent yet: the error handler answers instead (404, or 503 when the store is down).
    if (!res.headersSent) for (const name of OBJECT_HEADERS) res.removeHeader(name);
    if (isMissingObject(err)) {
      // The row outlived its bytes: the client sees a missing file, the log names the object.
      const missing = notFound('file');
      missing.cause = err;
      throw missing;
    }
    throw err;
  }
}
