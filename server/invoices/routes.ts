import { Router, type Request, type RequestHandler, type Response } from 'express';
import { authenticate, currentUser, requireRole } from '../auth/middleware.js';
import type { TokenService } from '../auth/tokens.js';
import { findBooking } from '../bookings/repository.js';
import { parseId } from '../bookings/schemas.js';
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import { notFound } from '../http/errors.js';
import { findInvoiceForBooking, issueInvoice, parseSnapshot } from './numbering.js';
import { findCreditNoteForBooking, parseCreditNote } from './credit-notes.js';
import type { DocumentArchive, DocumentTable } from './archive.js';
import { creditNoteView, invoiceFilename, invoiceView } from './view-model.js';
import { servedObject, serveObject } from '../files/serve.js';

interface Deps {
  db: Db;
  tokens: TokenService;
  config: Config;
  documents: DocumentArchive;
  heavyGuard: RequestHandler;
}

/**
 * GET /api/bookings/:id/invoice and /credit-note (own bookings), and the same under
 * /api/admin/bookings (any booking). Each document is rendered once, on its first request, and its
 * stored PDF is served from then on, send-style: Range, HEAD, ETag (its SHA-256), 304 and 412.
 */
export function invoiceRoutes(deps: Deps): { customer: Router; admin: Router } {
  const { db, tokens, config, documents } = deps;

  const sendDocument = async (
    req: Request,
    res: Response,
    document: { table: DocumentTable; id: number; number: string; view: () => unknown },
  ) => {
    const stored = await documents.stored(document.table, document.id, document.view);
    await serveObject(
      req,
      res,
      documents.storage,
      servedObject({
        name: stored.name,
        size: stored.size,
        etag: `"${stored.sha256}"`,
        lastModified: new Date(stored.storedAt),
        contentType: 'application/pdf',
        downloadName: invoiceFilename(document.number),
        inline: false,
        cacheControl: 'private, no-cache',
      }),
    );
  };

  const bookingFor = async (req: Request, scope: 'own' | 'any') => {
    const id = parseId(String(req.params.id));
    const owner = scope === 'own' ? currentUser(req).id : undefined;
    const booking = id ? await findBooking(db, id, owner) : undefined;
    if (!booking) throw notFound('booking');
    return booking;
  };

  const invoice = (scope: 'own' | 'any') => async (req: Request, res: Response) => {
    const booking = await bookingFor(req, scope);
    // Issued on the first request of a confirmed booking (409 before that).
    if (!booking.invoice_number) await issueInvoice(db, booking, config);
    const row = (await findInvoiceForBooking(db, booking.id))!;
    const snapshot = parseSnapshot(row);
    await sendDocument(req, res, {
      table: 'invoices',
      id: row.id,
      number: row.number,
      view: () => invoiceView(snapshot),
    });
  };

  const creditNote = (scope: 'own' | 'any') => async (req: Request, res: Response) => {
    const booking = await bookingFor(req, scope);
    const row = await findCreditNoteForBooking(db, booking.id);
    if (!row) throw notFound('credit note (one is issued when an invoiced booking is cancelled)');
    const snapshot = parseCreditNote(row);
    await sendDocument(req, res, {
      table: 'credit_notes',
      id: row.id,
      number: row.number,
      view: () => creditNoteView(snapshot),
    });
  };

  const customer = Router();
  const admin = Router();
  const adminOnly = [authenticate(tokens), requireRole('admin'), deps.heavyGuard];
  customer.get('/:id/invoice', authenticate(tokens), deps.heavyGuard, invoice('own'));
  customer.get('/:id/credit-note', authenticate(tokens), deps.heavyGuard, creditNote('own'));
  admin.get('/:id/invoice', ...adminOnly, invoice('any'));
  admin.get('/:id/credit-note', ...adminOnly, creditNote('any'));
  return { customer, admin };
}
