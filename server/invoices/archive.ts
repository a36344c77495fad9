// Issued documents are rendered once and kept: the first request after issue renders the PDF, stores
// it (local folder or S3, the same driver as uploads) and records its SHA-256 on the document's row;
// every later download, and every export, sends those same bytes. A template change therefore alters
// new documents only. Concurrent first requests share one render in this process, and across processes
// the first row update wins (the loser's object is deleted), so each document has one stored PDF.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Db } from '../db/connect.js';
import { nowIso } from '../db/time.js';
import type { PdfRenderer } from '../pdf/renderer.js';
import type { Storage } from '../storage/storage.js';

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

export class DocumentArchive {
  private readonly rendering = new Map<string, Promise<StoredDocument>>();

  constructor(
    private readonly db: Db,
    /** The documents' store. */
    readonly storage: Storage,
    private readonly renderer: PdfRenderer,
    private readonly logger: Logger,
  ) {}

  /** The stored PDF of a document, rendered and stored now if it has none yet. */
  async stored(table: DocumentTable, id: number, view: () => unknown): Promise<StoredDocument> {
    const known = fromRow(await this.columns(table, id));
    if (known) return known;
    const key = `${table}:${id}`;
    let pending = this.rendering.get(key);
    if (!pending) {
      pending = this.renderAndStore(table, id, view()).finally(() => this.rendering.delete(key));
      this.rendering.set(key, pending);
    }
    return pending;
  }

  private columns(table: DocumentTable, id: number): Promise<PdfColumns | undefined> {
    return this.db(table).where({ id }).first('pdf_name', 'pdf_size', 'pdf_sha256', 'pdf_stored_at');
  }

  /**
   * Renders to a temp file, stores it, records it. The temp file is gone afterwards whatever happened.
   * A failure leaves the document issued without a PDF: the next request renders it.
   */
  private async renderAndStore(table: DocumentTable, id: number, view: unknown): Promise<StoredDocument> {
    const file = await this.renderer.render(view);
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
