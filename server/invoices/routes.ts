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
import { invoiceEtag, invoiceFilename, invoiceKey, invoiceView } from './view-model.js';

interface Deps {
  db: Db;
  tokens: TokenService;
  config: Config;
  renderer: PdfRenderer;
  heavyGuard: RequestHandler;
}

/** GET /api/bookings/:id/invoice (own bookings) and GET /api/admin/bookings/:id/invoice (any). */
export function invoiceRoutes(deps: Deps): { customer: Router; admin: Router } {
  const { db, tokens, config, renderer } = deps;

  const download = (scope: 'own' | 'any') => async (req: Request, res: Response) => {
    const id = parseId(String(req.params.id));
    const owner = scope === 'own' ? currentUser(req).id : undefined;
    const booking = id ? await findBookingWithInvoice(db, id, owner) : undefined;
    if (!booking) throw notFound('booking');
    const snapshot = booking.invoice_snapshot
      ? parseSnapshot({ snapshot: booking.invoice_snapshot })
      : await issueInvoice(db, booking, config);
    const etag = invoiceEtag(snapshot);
    // An issued invoice never changes: a client holding it gets 304 without a render.
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'private, no-cache');
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    const pdf = await renderer.pdf(invoiceKey(snapshot), invoiceView(snapshot));
    await sendPdf(res, pdf, { filename: invoiceFilename(snapshot.number), etag });
  };

  const customer = Router();
  customer.get('/:id/invoice', authenticate(tokens), deps.heavyGuard, download('own'));
  const admin = Router();
  admin.get('/:id/invoice', authenticate(tokens), requireRole('admin'), deps.heavyGuard, download('any'));
  return { customer, admin };
}
