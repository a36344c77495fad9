// Streams a PDF (a rendered temp file or a cached one) to the client and releases it when the
// response finishes or the client goes away, whichever comes first. It never sits in memory whole.
import type { Response } from 'express';
import { sendBuffer, sendStream } from '../http/send-stream.js';
import type { PdfSource } from './renderer.js';

/** `filename` must be a plain ASCII name (invoice numbers are); it is sent quoted as is. */
export async function sendPdf(
  res: Response,
  pdf: PdfSource,
  headers: { filename: string; etag?: string },
): Promise<void> {
  try {
    if (res.destroyed) return; // the client left while it was rendering
    res.status(200);
    res.setHeader('Content-Type', 'application/pdf');
    res.setHeader('Content-Length', pdf.size);
    res.setHeader('Content-Disposition', `attachment; filename="${headers.filename}"`);
    if (headers.etag) res.setHeader('ETag', headers.etag);
    const body = pdf.open();
    await (Buffer.isBuffer(body) ? sendBuffer(res, body) : sendStream(res, body));
  } finally {
    await pdf.done();
  }
}
