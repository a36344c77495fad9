import { Router, type Request, type RequestHandler, type Response } from 'express';
import { authenticate, currentUser, requireRole } from '../auth/middleware.js';
import type { TokenService } from '../auth/tokens.js';
import { findBookingWithInvoice } from '../bookings/repository.js';
import { parseId } from '../bookings/schemas.js';
import type { Config } from '../config.js';
import type { Db } from '../db/connect.js';
import { notFound } from '../http/errors.js';
import type { PdfRenderer } from '../pdf/renderer.js';
import { sendPdf } from '../pdf/send-pdf.js';
import { issueInvoice, parseSnapshot } from './numbering.js';
import { findCreditNoteForBooking, parseCreditNote, type CreditNoteSnapshot } from './credit-notes.js';
import type { InvoiceSnapshot } from './snapshot.js';
import { creditNoteView, invoiceEtag, invoiceFilename, invoiceKey, invoiceView } from './view-model.js';

interface Deps {
  db: Db;
  tokens: TokenService;
  config: Config;
  renderer: PdfRenderer;
  heavyGuard: RequestHandler;
}

/**
 * GET /api/bookings/:id/invoice and /credit-note (own bookings), and the same under
 * /api/admin/bookings (any booking).
 */
export function invoiceRoutes(deps: Deps): { customer: Router; admin: Router } {
  const { db, tokens, config, renderer } = deps;

  /** Sends a document's PDF: a strong ETag known without rendering (the snapshot never changes). */
  const sendDocument = async (req: Request, res: Response, snapshot: InvoiceSnapshot | CreditNoteSnapshot) => {
    const etag = invoiceEtag(snapshot);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'private, no-cache');
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    const view = 'kind' in snapshot ? creditNoteView(snapshot) : invoiceView(snapshot);
    const pdf = await renderer.pdf(invoiceKey(snapshot), view);
    await sendPdf(res, pdf, { filename: invoiceFilename(snapshot.number), etag });
  };

  const bookingFor = async (req: Request, scope: 'own' | 'any') => {
    const id = parseId(String(req.params.id));
    const owner = scope === 'own' ? currentUser(req).id : undefined;
    const booking = id ? await findBookingWithInvoice(db, id, owner) : undefined;
    if (!booking) throw notFound('booking');
    return booking;
  };

  const invoice = (scope: 'own' | 'any') => async (req: Request, res: Response) => {
    const booking = await bookingFor(req, scope);
    const snapshot = booking.invoice_snapshot
      ? parseSnapshot({ snapshot: booking.invoice_snapshot })
      : await issueInvoice(db, booking, config);
    await sendDocument(req, res, snapshot);
  };

  const creditNote = (scope: 'own' | 'any') => async (req: Request, res: Response) => {
    const booking = await bookingFor(req, scope);
    const row = await findCreditNoteForBooking(db, booking.id);
    if (!row) throw notFound('credit note (one is issued when an invoiced booking is cancelled)');
    await sendDocument(req, res, parseCreditNote(row));
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
