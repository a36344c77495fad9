// When a tax invoice is issued: for a confirmed or completed booking only, never by an export or the
// register, explicitly by the admin for a date range, and with the status checked in the same
// transaction that takes the number.
import { expect } from 'chai';
import request from 'supertest';
import { DB_KINDS } from './helpers/databases.js';
import {
  confirmBooking,
  createBooking,
  createConfirmedBooking,
  loginAdmin,
  registerCustomer,
  startContext,
  type TestContext,
} from './helpers/context.js';
import { parse } from 'csv-parse/sync';

for (const kind of DB_KINDS) {
  describe(`issuing tax invoices [${kind}]`, () => {
    let ctx: TestContext;
    let customer: { auth: string };
    let admin: string;
    const invoiceCount = async () => Number((await ctx.rt.db('invoices').count({ n: '*' }))[0]!.n);
    const lastSerial = async () => Number((await ctx.rt.db('invoice_sequences').max({ s: 'last_serial' }))[0]?.s ?? 0);

    before(async () => {
      ctx = await startContext(kind);
      customer = await registerCustomer(ctx.app);
      admin = await loginAdmin(ctx.app);
    });
    after(() => ctx?.close());

    it('a pending booking gets 409 booking_not_confirmed, as often as asked, and no serial is used', async () => {
      const booking = await createBooking(ctx.app, customer.auth);
      const [before, serialBefore] = [await invoiceCount(), await lastSerial()];
      for (const path of [`/api/bookings/${booking.id}/invoice`, `/api/admin/bookings/${booking.id}/invoice`]) {
        for (let i = 0; i < 3; i++) {
          const res = await request(ctx.app)
            .get(path)
            .set('Authorization', path.startsWith('/api/admin') ? admin : customer.auth)
            .expect(409);
          expect(res.body.error.code).to.equal('booking_not_confirmed');
          expect(res.body.error.message).to.match(/confirm/);
        }
      }
      expect([await invoiceCount(), await lastSerial()]).to.deep.equal([before, serialBefore]);
      // Once confirmed, the first download issues it.
      await confirmBooking(ctx.app, booking.id);
      await request(ctx.app).get(`/api/bookings/${booking.id}/invoice`).set('Authorization', customer.auth).expect(200);
      expect(await invoiceCount()).to.equal(before + 1);
    });

    it('the register and the export issue nothing; POST /api/admin/invoices/issue issues the range once', async () => {
      const range = { from: '2035-06-01', to: '2035-06-30' };
      const confirmed = [];
      for (const day of ['03', '17']) {
        confirmed.push(
          await createConfirmedBooking(ctx.app, customer.auth, { scheduledAt: `2035-06-${day}T05:00:00Z` }),
        );
      }
      await createBooking(ctx.app, customer.auth, { scheduledAt: '2035-06-10T05:00:00Z' }); // pending
      const before = await invoiceCount();

      const register = await request(ctx.app)
        .get('/api/admin/invoices/register.csv')
        .query(range)
        .set('Authorization', admin)
        .expect(200);
      expect(parse(register.text, { columns: true })).to.deep.equal([]);
      await request(ctx.app).get('/api/admin/invoices/export').query(range).set('Authorization', admin).expect(200);
      expect(await invoiceCount()).to.equal(before);

      const issued = await request(ctx.app)
        .post('/api/admin/invoices/issue')
        .send(range)
        .set('Authorization', admin)
        .expect(200);
      expect(issued.body.issued).to.equal(2);
      expect(issued.body.numbers).to.have.length(2);
      expect(await invoiceCount()).to.equal(before + 2);
      const again = await request(ctx.app)
        .post('/api/admin/invoices/issue')
        .send(range)
        .set('Authorization', admin)
        .expect(200);
      expect(again.body).to.deep.equal({ issued: 0, numbers: [] });

      await request(ctx.app)
        .post('/api/admin/invoices/issue')
        .send(range)
        .set('Authorization', customer.auth)
        .expect(403);
      const bad = await request(ctx.app)
        .post('/api/admin/invoices/issue')
        .send({ from: 'June' })
        .set('Authorization', admin)
        .expect(400);
      expect(bad.body.error.code).to.equal('validation_failed');
    });

    it('a cancellation racing the first download: either invoiced and credited, or never invoiced', async () => {
      for (let round = 0; round < 5; round++) {
        const booking = await createConfirmedBooking(ctx.app, customer.auth);
        const [download, cancel] = await Promise.all([
          request(ctx.app).get(`/api/bookings/${booking.id}/invoice`).set('Authorization', customer.auth),
          request(ctx.app)
            .patch(`/api/admin/bookings/${booking.id}`)
            .set('Authorization', admin)
            .send({ status: 'cancelled' }),
        ]);
        expect(cancel.status).to.equal(200);
        const invoice = await ctx.rt.db('invoices').where({ booking_id: booking.id }).first();
        const row = await ctx.rt.db('bookings').where({ id: booking.id }).first();
        expect(row.status).to.equal('cancelled');
        const note = await ctx.rt.db('credit_notes').where({ booking_id: booking.id }).first();
        // Invoiced first: the download succeeded and the cancellation credited it. Cancelled first: 409,
        // no number taken, nothing to credit.
        if (invoice) {
          expect(download.status).to.equal(200);
          expect(note?.invoice_id, 'the cancelled invoice is credited').to.equal(invoice.id);
        } else {
          expect(download.status, JSON.stringify(download.body)).to.equal(409);
          expect(note).to.equal(undefined);
        }
      }
    });
  });
}
