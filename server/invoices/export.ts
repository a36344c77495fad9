// Admin bulk export: a ZIP of the documents dated in the range (tax invoices, credit notes), streamed.
// Documents are read in pages; one not yet stored is rendered and stored first (through the same bounded pool as single downloads, at
// most PDF_WORKERS ahead of the archive), so the ZIP holds the very bytes a download sends. Each PDF
// goes in uncompressed, read from the store; the response's back-pressure reaches the reads and the
// renders, so memory stays flat at any count.
import { once } from 'node:events';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ZipFile } from 'yazl';
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import { DomainError, isDomainError } from '../shared/domain-error.js';
import type { DocumentArchive, StoredDocument } from './archive.js';
import { DigestStream } from '../storage/digest-stream.js';
import { documentsInRange, type IssuedDocument } from './documents-query.js';
import { bookingsInRange, parseExportRange, type ExportRange } from './export-query.js';
import { issueInvoice } from './numbering.js';
import { gstr1Files } from './gstr1.js';
import { RegisterSummary, registerCsv, type SeriesSummary } from './register.js';
import { creditNoteView, invoiceFilename, invoiceView } from './view-model.js';

type Outcome =
  { kind: 'pdf'; doc: IssuedDocument; file: StoredDocument } | { kind: 'failed'; doc: IssuedDocument; reason: string };

interface Manifest {
  generatedAt: string;
  /** Indian calendar dates: documents dated from..to in India. */
  range: { from: string; to: string };
  counts: { documents: number; pdfs: number; failed: number; registerRows: number };
  files: {
    name: string;
    documentType: IssuedDocument['type'];
    number: string;
    bookingId: number;
    size: number;
    sha256: string;
  }[];
  register?: { name: string; size: number; sha256: string };
  /** Per series: count, first and last number, totals, and any serial missing in the range. */
  series: SeriesSummary[];
  noSerialMissing: boolean;
  failed: { documentType: IssuedDocument['type']; number: string; bookingId: number; reason: string }[];
}

interface Deps {
  db: Db;
  config: Config;
  documents: DocumentArchive;
  logger: Logger;
}

const QUEUE_FULL_RETRIES = 40;

/** credit_notes/CN-26-27-0000001.pdf beside INV-26-27-000001.pdf */
const archiveName = (doc: IssuedDocument) =>
  `${doc.type === 'credit_note' ? 'credit-notes/' : ''}${invoiceFilename(doc.snapshot.number)}`;

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
    range: { from: range.from, to: range.to },
    counts: { documents: 0, pdfs: 0, failed: 0, registerRows: 0 },
    files: [],
    series: [],
    noSerialMissing: true,
    failed: [],
  };
  let entry: (NodeJS.ReadableStream & { destroy(): void }) | undefined;
  res.on('close', () => entry?.destroy());

  async function storedWhenThereIsRoom(doc: IssuedDocument): Promise<StoredDocument> {
    const view = () => (doc.type === 'credit_note' ? creditNoteView(doc.snapshot) : invoiceView(doc.snapshot));
    const table = doc.type === 'credit_note' ? 'credit_notes' : 'invoices';
    for (let attempt = 1; ; attempt++) {
      try {
        return await documents.stored(table, doc.id, view);
      } catch (err) {
        // Single downloads share the queue: wait for room rather than fail a document for it.
        if (!isDomainError(err, 'pdf_queue_full') || attempt >= QUEUE_FULL_RETRIES || clientGone) throw err;
        await new Promise((r) => setTimeout(r, 100 * Math.min(attempt, 10)));
      }
    }
  }

  /** Never rejects (a rejection waiting in `ahead` would be unhandled): failures become outcomes. */
  async function prepare(doc: IssuedDocument): Promise<Outcome> {
    try {
      return { kind: 'pdf', doc, file: await storedWhenThereIsRoom(doc) };
    } catch (err) {
      return { kind: 'failed', doc, reason: (err as Error).message };
    }
  }

  async function addToArchive(outcome: Outcome): Promise<void> {
    const { doc } = outcome;
    const described = { documentType: doc.type, number: doc.snapshot.number, bookingId: doc.snapshot.bookingId };
    if (outcome.kind === 'failed') {
      manifest.failed.push({ ...described, reason: outcome.reason });
      return;
    }
    if (clientGone) return;
    const name = archiveName(doc);
    const stream = await documents.storage.read(outcome.file.name);
    entry = stream;
    // PDFs are already compressed: stored as they are.
    zip.addReadStream(stream, name, {
      compress: false,
      size: outcome.file.size,
      mtime: new Date(doc.snapshot.issuedAt),
    });
    await once(stream, 'close');
    if (clientGone) return;
    manifest.files.push({ name, ...described, size: outcome.file.size, sha256: outcome.file.sha256 });
  }

  const ahead: Promise<Outcome>[] = [];
  try {
    for await (const doc of documentsInRange(db, range.from, range.to)) {
      if (clientGone) break;
      manifest.counts.documents++;
      ahead.push(prepare(doc));
      if (ahead.length >= config.pdf.workers) await addToArchive(await ahead.shift()!);
    }
  } catch (err) {
    clientGone = true; // stop archiving; what is still rendering is only cleaned up below
    throw err;
  } finally {
    // Renders already started finish (at most PDF_WORKERS) and are stored for next time.
    while (ahead.length) await addToArchive(await ahead.shift()!).catch(() => {});
  }
  if (clientGone) {
    deps.logger.info({ exported: manifest.files.length }, 'export stopped: the client went away');
    return;
  }

  const summary = new RegisterSummary();
  const register = registerCsv(db, range, summary).pipe(new DigestStream());
  zip.addReadStream(register, 'register.csv', { compress: true });
  await once(register, 'end');
  manifest.register = { name: 'register.csv', size: register.size, sha256: register.sha256 };
  // The GST offline tool's files for the same documents.
  for (const file of await gstr1Files(db, range.from, range.to))
    zip.addBuffer(Buffer.from(file.csv), `gstr1/${file.name}`, { compress: true });
  manifest.series = summary.summaries();
  manifest.noSerialMissing = summary.noSerialMissing;
  manifest.counts = {
    ...manifest.counts,
    pdfs: manifest.files.length,
    failed: manifest.failed.length,
    registerRows: summary.rows,
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
