// The export ZIP, written once here for both ways it leaves the server: streamed to an admin's
// download, or written to the store by an export job. Documents are read in pages; one not yet stored
// is rendered and stored first (through the archive, at most PDF_WORKERS ahead of the ZIP), so the ZIP
// holds the very bytes a download sends. Each PDF goes in uncompressed, read from the store; the
// output's back-pressure reaches the reads and the renders, so memory stays flat at any count.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { ZipFile } from 'yazl';
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import { isDomainError } from '../shared/domain-error.js';
import { DigestStream } from '../storage/digest-stream.js';
import type { DocumentArchive, StoredDocument } from '../invoices/archive.js';
import { countDocumentsInRange, documentsInRange, type IssuedDocument } from '../invoices/documents-query.js';
import { gstr1Files } from '../invoices/gstr1.js';
import { RegisterSummary, registerCsv, type SeriesSummary } from '../invoices/register.js';
import { creditNoteView, invoiceFilename, invoiceView } from '../invoices/view-model.js';
import type { ExportRange } from '../invoices/export-query.js';
import type { ExportKind } from './repository.js';

type Outcome =
  { kind: 'pdf'; doc: IssuedDocument; file: StoredDocument } | { kind: 'failed'; doc: IssuedDocument; reason: string };

interface Manifest {
  generatedAt: string;
  kind: ExportKind;
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

export interface ProducerDeps {
  db: Db;
  config: Config;
  documents: DocumentArchive;
}

export interface ExportRequest {
  range: Pick<ExportRange, 'from' | 'to'>;
  kind: ExportKind;
}

export interface ProducerControl {
  /** Aborting stops the export: no new render starts, and the promise rejects with the signal's reason. */
  signal: AbortSignal;
  /** Documents archived so far, of `total` (counted before the first). */
  onProgress?(done: number, total: number): void;
  /** Awaited before each document's render starts: a job reads its own row here, so a cancel stops renders at once. */
  beforeDocument?(): Promise<void>;
}

export type ExportCounts = Manifest['counts'];

const QUEUE_FULL_RETRIES = 40;

/** credit-notes/CN-26-27-0000001.pdf beside INV-26-27-000001.pdf */
const archiveName = (doc: IssuedDocument) =>
  `${doc.type === 'credit_note' ? 'credit-notes/' : ''}${invoiceFilename(doc.snapshot.number)}`;

export const exportFilename = (request: ExportRequest) =>
  `${request.kind === 'returns' ? 'returns' : 'invoices'}-${request.range.from}_${request.range.to}.zip`;

/** Writes the export ZIP to `out` (ending it) and returns its counts. */
export async function produceExport(
  deps: ProducerDeps,
  request: ExportRequest,
  out: Writable,
  control: ProducerControl,
): Promise<ExportCounts> {
  const { db, config, documents } = deps;
  const { range } = request;
  const { signal } = control;
  const zip = new ZipFile();
  zip.outputStream.pipe(out);
  const manifest: Manifest = {
    generatedAt: new Date().toISOString(),
    kind: request.kind,
    range: { from: range.from, to: range.to },
    counts: { documents: 0, pdfs: 0, failed: 0, registerRows: 0 },
    files: [],
    series: [],
    noSerialMissing: true,
    failed: [],
  };
  let entry: { destroy(): void } | undefined;
  const stopEntry = () => entry?.destroy();
  signal.addEventListener('abort', stopEntry, { once: true });

  async function storedWhenThereIsRoom(doc: IssuedDocument): Promise<StoredDocument> {
    const view = () => (doc.type === 'credit_note' ? creditNoteView(doc.snapshot) : invoiceView(doc.snapshot));
    const table = doc.type === 'credit_note' ? 'credit_notes' : 'invoices';
    for (let attempt = 1; ; attempt++) {
      try {
        return await documents.stored(table, doc.id, view);
      } catch (err) {
        // Single downloads share the queue: wait for room rather than fail a document for it.
        if (!isDomainError(err, 'pdf_queue_full') || attempt >= QUEUE_FULL_RETRIES || signal.aborted) throw err;
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
    if (signal.aborted) return;
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
    if (signal.aborted) return;
    manifest.files.push({ name, ...described, size: outcome.file.size, sha256: outcome.file.sha256 });
  }

  try {
    if (request.kind === 'full') {
      const total = await countDocumentsInRange(db, range.from, range.to);
      control.onProgress?.(0, total);
      const ahead: Promise<Outcome>[] = [];
      const archiveNext = async () => {
        await addToArchive(await ahead.shift()!);
        control.onProgress?.(manifest.files.length + manifest.failed.length, total);
      };
      try {
        for await (const doc of documentsInRange(db, range.from, range.to)) {
          await control.beforeDocument?.();
          if (signal.aborted) break;
          manifest.counts.documents++;
          ahead.push(prepare(doc));
          if (ahead.length >= config.pdf.workers) await archiveNext();
        }
      } finally {
        // Renders already started finish (at most PDF_WORKERS) and are stored for next time.
        while (ahead.length) await archiveNext().catch(() => {});
      }
    }
    signal.throwIfAborted();

    const summary = new RegisterSummary();
    const register = registerCsv(db, range, summary).pipe(new DigestStream());
    zip.addReadStream(register, 'register.csv', { compress: true });
    await once(register, 'end', { signal });
    manifest.register = { name: 'register.csv', size: register.size, sha256: register.sha256 };
    // The GST offline tool's files for the same documents.
    for (const file of await gstr1Files(db, range.from, range.to))
      zip.addBuffer(Buffer.from(file.csv), `gstr1/${file.name}`, { compress: true });
    manifest.series = summary.summaries();
    manifest.noSerialMissing = summary.noSerialMissing;
    manifest.counts = {
      documents: request.kind === 'full' ? manifest.counts.documents : summary.rows,
      pdfs: manifest.files.length,
      failed: manifest.failed.length,
      registerRows: summary.rows,
    };
    zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2)), 'manifest.json');
    zip.end();
    await once(zip.outputStream, 'end', { signal });
    return manifest.counts;
  } finally {
    signal.removeEventListener('abort', stopEntry);
  }
}
