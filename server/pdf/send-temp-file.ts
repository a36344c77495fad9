// Streams a rendered temp file to the client and deletes it when the response finishes or the client
// goes away, whichever comes first. The file never passes through memory as a whole.
import type { Response } from 'express';
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { sendStream } from '../http/send-stream.js';
import type { RenderResult } from './renderer.js';

/** `filename` must be a plain ASCII name (invoice numbers are); it is sent quoted as is. */
export async function sendTempFile(
  res: Response,
  file: RenderResult,
  headers: { filename: string; contentType: string; etag?: string },
): Promise<void> {
  try {
    if (res.destroyed) return; // the client left while it was rendering
    res.status(200);
    res.setHeader('Content-Type', headers.contentType);
    res.setHeader('Content-Length', file.size);
    res.setHeader('Content-Disposition', `attachment; filename="${headers.filename}"`);
    if (headers.etag) res.setHeader('ETag', headers.etag);
    await sendStream(res, createReadStream(file.path, { start: 0, end: Math.max(0, file.size - 1) }));
  } finally {
    await unlink(file.path).catch(() => {});
  }
}
