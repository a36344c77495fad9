// Issued documents are rendered once and kept: the first request after issue renders the PDF, stores
// it (local folder or S3, the same driver as uploads) and records its SHA-256 on the document's row;
// every later download, and every export, sends those same bytes. A template change therefore alters
// new documents only. Concurrent first requests share one render in this process, and across processes
// the first row update wins (the loser's object is deleted), so each document has one stored PDF.
// With PDF_RENDERING=worker the web process renders nothing: a first render is a job for a worker
// process (jobs/renders.ts), and the archive reads the row the worker recorded.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Db } from '../db/connect.js';
import { nowIso } from '../db/time.js';
import type { RenderResult } from '../pdf/renderer.js';
import type { Storage } from '../storage/storage.js';
import { parseCreditNote } from './credit-notes.js';
import { parseSnapshot } from './numbering.js';
import { creditNoteView, invoiceView } from './view-model.js';

/** Which table a document lives in: its own row carries the stored PDF's name, size and hash. */
export type DocumentTable = 'invoices' | 'credit_notes';

export interface StoredDocument {
  name: string;
  size: number;
  sha256: string;
  storedAt: string;
}

interface PdfColumns {
  pdf_name: string | null;
  pdf_size: number | null;
  pdf_sha256: string | null;
  pdf_stored_at: string | null;
}

const fromRow = (row: PdfColumns | undefined): StoredDocument | undefined =>
  row?.pdf_name
    ? { name: row.pdf_name, size: Number(row.pdf_size), sha256: row.pdf_sha256!, storedAt: row.pdf_stored_at! }
    : undefined;

/** Renders a view to a temp file (the PdfRenderer). */
export interface ViewRenderer {
  render(view: unknown): Promise<RenderResult>;
}

/** Has another process render and store a document, resolving once its row names the stored PDF. */
export type RemoteRender = (table: DocumentTable, id: number) => Promise<void>;

export class DocumentArchive {
  private readonly rendering = new Map<string, Promise<StoredDocument>>();

  constructor(
    private readonly db: Db,
    /** The documents' store. */
    readonly storage: Storage,
    /** Renders here, or in a worker process. */
    private readonly renderer: { local: ViewRenderer } | { remote: RemoteRender },
    private readonly logger: Logger,
  ) {}

  /** The stored PDF of a document, rendered and stored now if it has none yet. */
  async stored(table: DocumentTable, id: number, view: () => unknown): Promise<StoredDocument> {
    const known = fromRow(await this.columns(table, id));
    if (known) return known;
    const key = `${table}:${id}`;
    let pending = this.rendering.get(key);
    if (!pending) {
      pending = (
        'remote' in this.renderer
          ? this.storedElsewhere(this.renderer.remote, table, id)
          : this.renderAndStore(this.renderer.local, table, id, view())
      ).finally(() => this.rendering.delete(key));
      this.rendering.set(key, pending);
    }
    return pending;
  }

  /** A worker process's render job: the document's view is built from its row. */
  async storeById(table: DocumentTable, id: number): Promise<StoredDocument> {
    const row = await this.db(table).where({ id }).first('snapshot');
    if (!row) throw new Error(`no ${table} row ${id}`);
    const view = () => (table === 'invoices' ? invoiceView(parseSnapshot(row)) : creditNoteView(parseCreditNote(row)));
    return this.stored(table, id, view);
  }

  private async storedElsewhere(remote: RemoteRender, table: DocumentTable, id: number): Promise<StoredDocument> {
    await remote(table, id);
    const stored = fromRow(await this.columns(table, id));
    if (!stored) throw new Error(`the worker rendered ${table} ${id} but its row names no PDF`);
    return stored;
  }

  private columns(table: DocumentTable, id: number): Promise<PdfColumns | undefined> {
    return this.db(table).where({ id }).first('pdf_name', 'pdf_size', 'pdf_sha256', 'pdf_stored_at');
  }

  /**
   * Renders to a temp file, stores it, records it. The temp file is gone afterwards whatever happened.
   * A failure leaves the document issued without a PDF: the next request renders it.
   */
  private async renderAndStore(
    renderer: ViewRenderer,
    table: DocumentTable,
    id: number,
    view: unknown,
  ): Promise<StoredDocument> {
    const file = await renderer.render(view);
    try {
      const name = `${randomBytes(16).toString('hex')}.pdf`;
      await this.storage.put(name, createReadStream(file.path));
      const stored = { name, size: file.size, sha256: file.sha256, storedAt: nowIso() };
      const recorded = await this.db(table)
        .where({ id })
        .whereNull('pdf_name')
        .update({ pdf_name: name, pdf_size: file.size, pdf_sha256: file.sha256, pdf_stored_at: stored.storedAt });
      if (recorded) return stored;
      // Another process stored it first: theirs is the document; ours goes.
      await this.storage
        .delete(name)
        .catch((err) => this.logger.warn({ err, object: name }, 'could not remove a duplicate PDF'));
      return fromRow(await this.columns(table, id))!;
    } finally {
      await unlink(file.path).catch(() => {});
    }
  }

  /** Which of `names` belong to a document (the orphan sweep keeps those). */
  async knownNames(names: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const table of ['invoices', 'credit_notes'] as const) {
      for (const row of await this.db(table).whereIn('pdf_name', names).select('pdf_name')) found.add(row.pdf_name);
    }
    return found;
  }
}
