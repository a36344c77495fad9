// Admin bulk export: a ZIP of the stored documents, streamed. Bookings are read in pages; a document
// not yet stored is rendered and stored first (through the same bounded pool as single downloads, at
// most PDF_WORKERS ahead of the archive), so the ZIP holds the very bytes a download sends. Each PDF
// goes in uncompressed, read from the store; the response's back-pressure reaches the reads and the
// renders, so memory stays flat at any count.
import { once } from 'node:events';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ZipFile } from 'yazl';
import type { BookingRow } from '../bookings/repository.js';
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import { DomainError, isDomainError } from '../shared/domain-error.js';
import type { DocumentArchive, StoredDocument } from './archive.js';
import { DigestStream } from '../storage/digest-stream.js';
import { bookingsInRange, parseExportRange, type ExportRange } from './export-query.js';
import { findInvoiceForBooking, issueInvoice, parseSnapshot } from './numbering.js';
import { registerCsv } from './register.js';
import type { InvoiceSnapshot } from './snapshot.js';
import { invoiceFilename, invoiceView } from './view-model.js';

type Outcome =
  | { kind: 'pdf'; booking: BookingRow; snapshot: InvoiceSnapshot; file: StoredDocument }
  | { kind: 'failed'; bookingId: number; invoiceNumber: string | null; reason: string }
  | { kind: 'skipped'; bookingId: number; reason: string }
  | { kind: 'error'; error: unknown };

interface Manifest {
  generatedAt: string;
  range: { from: string; to: string; statuses: string[] };
  counts: { bookings: number; pdfs: number; failed: number; skipped: number; registerRows: number };
  files: { name: string; invoiceNumber: string; bookingId: number; size: number; sha256: string }[];
  register?: { name: string; size: number; sha256: string };
  failed: { bookingId: number; invoiceNumber: string | null; reason: string }[];
  skipped: { bookingId: number; reason: string }[];
}

interface Deps {
  db: Db;
  config: Config;
  documents: DocumentArchive;
  logger: Logger;
}

const QUEUE_FULL_RETRIES = 40;

export async function streamExport(deps: Deps, req: Request, res: Response): Promise<void> {
  const { db, config, documents } = deps;
  const range = parseExportRange(req.query);
  let clientGone = false;
  res.on('close', () => (clientGone = !res.writableFinished));

  // Headers go out at once: a platform router drops a response that sends nothing for 30 s.
  res.status(200);
  res.setHeader('Content-Type', 'application/zip');
  res.setHeader('Content-Disposition', `attachment; filename="invoices-${range.from}_${range.to}.zip"`);
  res.setHeader('Cache-Control', 'no-store');
  res.flushHeaders();

  const zip = new ZipFile();
  zip.outputStream.pipe(res);
  const manifest: Manifest = {
    generatedAt: new Date().toISOString(),
    range: { from: range.from, to: range.to, statuses: range.statuses },
    counts: { bookings: 0, pdfs: 0, failed: 0, skipped: 0, registerRows: 0 },
    files: [],
    failed: [],
    skipped: [],
  };
  let entry: (NodeJS.ReadableStream & { destroy(): void }) | undefined;
  res.on('close', () => entry?.destroy());

  async function storedWhenThereIsRoom(invoiceId: number, snapshot: InvoiceSnapshot): Promise<StoredDocument> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await documents.stored('invoices', invoiceId, () => invoiceView(snapshot));
      } catch (err) {
        // Single downloads share the queue: wait for room rather than fail an invoice for it.
        if (!isDomainError(err, 'pdf_queue_full') || attempt >= QUEUE_FULL_RETRIES || clientGone) throw err;
        await new Promise((r) => setTimeout(r, 100 * Math.min(attempt, 10)));
      }
    }
  }

  /** Never rejects (a rejection waiting in `ahead` would be unhandled): errors become outcomes. */
  async function prepare(booking: BookingRow): Promise<Outcome> {
    let snapshot: InvoiceSnapshot;
    let invoiceId: number;
    try {
      // An export issues nothing: it archives what was issued.
      const invoice = booking.invoice_number ? await findInvoiceForBooking(db, booking.id) : undefined;
      if (!invoice) return { kind: 'skipped', bookingId: booking.id, reason: 'no tax invoice has been issued' };
      snapshot = parseSnapshot(invoice);
      invoiceId = invoice.id;
    } catch (err) {
      return { kind: 'error', error: err };
    }
    try {
      return { kind: 'pdf', booking, snapshot, file: await storedWhenThereIsRoom(invoiceId, snapshot) };
    } catch (err) {
      return { kind: 'failed', bookingId: booking.id, invoiceNumber: snapshot.number, reason: (err as Error).message };
    }
  }

  async function addToArchive(outcome: Outcome): Promise<void> {
    if (outcome.kind === 'error') throw outcome.error;
    if (outcome.kind === 'skipped') {
      manifest.skipped.push({ bookingId: outcome.bookingId, reason: outcome.reason });
      return;
    }
    if (outcome.kind === 'failed') {
      manifest.failed.push({
        bookingId: outcome.bookingId,
        invoiceNumber: outcome.invoiceNumber,
        reason: outcome.reason,
      });
      return;
    }
    const { file, snapshot, booking } = outcome;
    if (clientGone) return;
    const name = invoiceFilename(snapshot.number);
    const stream = await documents.storage.read(file.name);
    entry = stream;
    // PDFs are already compressed: stored as they are.
    zip.addReadStream(stream, name, { compress: false, size: file.size, mtime: new Date(snapshot.issuedAt) });
    await once(stream, 'close');
    if (clientGone) return;
    manifest.files.push({
      name,
      invoiceNumber: snapshot.number,
      bookingId: booking.id,
      size: file.size,
      sha256: file.sha256,
    });
  }

  const ahead: Promise<Outcome>[] = [];
  try {
    for await (const booking of bookingsInRange(db, range)) {
      if (clientGone) break;
      manifest.counts.bookings++;
      ahead.push(prepare(booking));
      if (ahead.length >= config.pdf.workers) await addToArchive(await ahead.shift()!);
    }
  } catch (err) {
    clientGone = true; // stop archiving; what is still rendering is only cleaned up below
    throw err;
  } finally {
    // Renders already started finish (at most PDF_WORKERS); their files are archived or removed.
    while (ahead.length) await addToArchive(await ahead.shift()!).catch(() => {});
  }
  if (clientGone) {
    deps.logger.info({ exported: manifest.files.length }, 'export stopped: the client went away');
    return;
  }

  const counted = { rows: 0 };
  const register = registerCsv(db, range, counted).pipe(new DigestStream());
  zip.addReadStream(register, 'register.csv', { compress: true });
  await once(register, 'end');
  manifest.register = { name: 'register.csv', size: register.size, sha256: register.sha256 };
  manifest.counts = {
    ...manifest.counts,
    pdfs: manifest.files.length,
    failed: manifest.failed.length,
    skipped: manifest.skipped.length,
    registerRows: counted.rows,
  };
  zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2)), 'manifest.json');
  zip.end();
  await once(zip.outputStream, 'end');
}

/**
 * Issues the invoices of the confirmed and completed bookings scheduled in the range that have none
 * (no rendering): the admin's explicit act. Returns the numbers issued, in order.
 */
export async function issueInvoicesInRange(deps: Pick<Deps, 'db' | 'config'>, range: ExportRange): Promise<string[]> {
  const issued: string[] = [];
  for await (const booking of bookingsInRange(deps.db, { ...range, statuses: ['confirmed', 'completed'] })) {
    if (booking.invoice_number) continue;
    try {
      issued.push((await issueInvoice(deps.db, booking, deps.config)).number);
    } catch (err) {
      // Cancelled meanwhile: nothing to issue.
      if (!(err instanceof DomainError && err.kind === 'conflict')) throw err;
    }
  }
  return issued;
}
