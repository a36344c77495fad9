import { Router } from 'express';
import { authenticate, currentUser, requireRole } from '../auth/middleware.js';
import type { TokenService } from '../auth/tokens.js';
import type { Config } from '../config.js';
import { isMysql, type Db } from '../db/connect.js';
import { creditInvoice, prepareCreditNote } from '../invoices/credit-notes.js';
import { findInvoiceForBooking } from '../invoices/numbering.js';
import { nowIso } from '../db/time.js';
import { badRequest, conflict, notFound, parseInput } from '../http/errors.js';
import { findServiceByCode, listServices, publicService } from './catalogue.js';
import {
  bookingsQuery,
  createBooking,
  findBooking,
  NEXT_STATUSES,
  publicBooking,
  type BookingRow,
} from './repository.js';
import { pageByIdDesc, type Page } from '../shared/pagination.js';
import { adminListQuery, adminPatchBody, createBookingBody, dayBound, listQuery, parseId } from './schemas.js';

interface Deps {
  db: Db;
  tokens: TokenService;
  config: Config;
}

export function catalogueRoutes({ db }: Pick<Deps, 'db'>): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    res.json({ items: (await listServices(db)).map(publicService) });
  });
  return router;
}

const presentPage = (page: Page<BookingRow>, supplierState: string) => ({
  items: page.items.map((b) => publicBooking(b, supplierState)),
  nextCursor: page.nextCursor,
});

export function bookingRoutes({ db, tokens, config }: Deps): Router {
  const router = Router();
  router.use(authenticate(tokens));

  router.post('/', async (req, res) => {
    const body = parseInput(createBookingBody, req.body);
    const service = await findServiceByCode(db, body.serviceCode);
    if (!service) throw badRequest(`serviceCode: no service "${body.serviceCode}"`, 'validation_failed');
    const id = await createBooking(db, {
      userId: currentUser(req).id,
      service,
      scheduledAt: body.scheduledAt,
      notes: body.notes,
      billing: body.billing,
      supplierState: config.supplier.state,
    });
    const booking = (await findBooking(db, id))!;
    res.status(201).location(`/api/bookings/${id}`).json(publicBooking(booking, config.supplier.state));
  });

  router.get('/', async (req, res) => {
    const q = parseInput(listQuery, req.query);
    const query = bookingsQuery(db).where('b.user_id', currentUser(req).id);
    res.json(presentPage(await pageByIdDesc<BookingRow>(query, 'b.id', q.limit, q.cursor), config.supplier.state));
  });

  router.get('/:id', async (req, res) => {
    const id = parseId(req.params.id);
    // Someone else's booking answers exactly like a missing one: ids are not to be probed.
    const booking = id && (await findBooking(db, id, currentUser(req).id));
    if (!booking) throw notFound('booking');
    res.json(publicBooking(booking, config.supplier.state));
  });

  return router;
}

export function adminBookingRoutes({ db, tokens, config }: Deps): Router {
  const router = Router();
  router.use(authenticate(tokens), requireRole('admin'));

  router.get('/', async (req, res) => {
    const q = parseInput(adminListQuery, req.query);
    const query = bookingsQuery(db);
    if (q.status) query.where('b.status', q.status);
    if (q.from) query.where('b.scheduled_at', '>=', dayBound(q.from, 'start'));
    if (q.to) query.where('b.scheduled_at', '<', dayBound(q.to, 'end'));
    res.json(presentPage(await pageByIdDesc<BookingRow>(query, 'b.id', q.limit, q.cursor), config.supplier.state));
  });

  router.patch('/:id', async (req, res) => {
    const id = parseId(req.params.id);
    const body = parseInput(adminPatchBody, req.body);
    const booking = id && (await findBooking(db, id));
    if (!booking) throw notFound('booking');
    if (booking.status !== body.status) {
      if (!NEXT_STATUSES[booking.status].includes(body.status)) {
        throw conflict('invalid_transition', `a ${booking.status} booking cannot become ${body.status}`);
      }
      const creditNote = body.status === 'cancelled' ? await prepareCreditNote(db, config) : undefined;
      await db.transaction(async (trx) => {
        // Under the booking's row lock, the one invoicing takes: a status change and an invoice being
        // issued for the same booking happen one after the other, never half-way through each other.
        const locked = trx('bookings').where({ id: booking.id }).first('status');
        const { status } = (await (isMysql(db) ? locked.forUpdate() : locked)) as { status: string };
        // The status read at the start makes a concurrent change lose cleanly instead of skipping a step.
        if (status !== booking.status)
          throw conflict('concurrent_update', 'the booking changed meanwhile; reload and retry');
        await trx('bookings').where({ id: booking.id }).update({ status: body.status, updated_at: nowIso() });
        // Cancelling an invoiced booking credits its invoice in full, in this same transaction.
        const invoice = creditNote && (await findInvoiceForBooking(trx, booking.id));
        if (invoice) await creditInvoice(trx, invoice, body.reason ?? null, creditNote!);
      });
    }
    res.json(publicBooking((await findBooking(db, booking.id))!, config.supplier.state));
  });

  return router;
}
