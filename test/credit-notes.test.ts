// Credit notes (CGST Act s.34, rule 53): cancelling an invoiced booking credits its invoice in full,
// in the same transaction, in a series of its own; the invoice stays as it was.
import { expect } from 'chai';
import request from 'supertest';
import { DB_KINDS } from './helpers/databases.js';
import {
  createBooking,
  createConfirmedBooking,
  loginAdmin,
  registerCustomer,
  startContext,
  type TestContext,
} from './helpers/context.js';
import { getBinary, readPdf } from './helpers/pdf.js';

for (const kind of DB_KINDS) {
  describe(`credit notes [${kind}]`, () => {
    let ctx: TestContext;
    let customer: { auth: string };
    let admin: string;
    const cancel = (id: number, reason?: string) =>
      request(ctx.app)
        .patch(`/api/admin/bookings/${id}`)
        .set('Authorization', admin)
        .send({ status: 'cancelled', ...(reason ? { reason } : {}) })
        .expect(200);

    before(async () => {
      ctx = await startContext(kind);
      customer = await registerCustomer(ctx.app, 'Rukmini Iyer');
      admin = await loginAdmin(ctx.app);
    });
    after(() => ctx?.close());

    it('cancelling an invoiced booking issues a credit note for its full value, with what rule 53 asks', async () => {
      const booking = await createConfirmedBooking(ctx.app, customer.auth, { state: '27', gstin: '27AAPFU0939F1ZV' });
      const invoicePdf = await getBinary(ctx.app, `/api/bookings/${booking.id}/invoice`)
        .set('Authorization', customer.auth)
        .expect(200);
      const invoice = await ctx.rt.db('invoices').where({ booking_id: booking.id }).first();
      await cancel(booking.id, 'Client withdrew the engagement');

      const note = await ctx.rt.db('credit_notes').where({ booking_id: booking.id }).first();
      expect(note.number).to.match(/^CN\/\d\d-\d\d\/\d{7}$/);
      expect(note.number.length).to.be.at.most(16);
      expect(note.invoice_id).to.equal(invoice.id);
      expect(note.reason).to.equal('Client withdrew the engagement');
      for (const key of ['taxable_paise', 'cgst_paise', 'sgst_paise', 'igst_paise', 'total_paise'])
        expect(Number(note[key]), key).to.equal(Number(invoice[key]));

      const pdf = await getBinary(ctx.app, `/api/bookings/${booking.id}/credit-note`)
        .set('Authorization', customer.auth)
        .expect(200);
      expect(pdf.headers['content-type']).to.equal('application/pdf');
      expect(pdf.headers['content-disposition']).to.include(note.number.replaceAll('/', '-'));
      const { pages, text } = await readPdf(pdf.body);
      expect(pages).to.equal(1);
      const snapshot = JSON.parse(invoice.snapshot);
      for (const expected of [
        'Credit Note', // nature of the document
        note.number,
        'Against Invoice No.',
        invoice.number, // the original tax invoice's number ...
        ctx.rt.config.supplier.gstin,
        ctx.rt.config.supplier.name,
        'Sharma Traders', // the recipient (the booking's billing name)
        '27AAPFU0939F1ZV', // the recipient's GSTIN (registered)
        'IGST', // each tax head credited (inter-state)
        'Total Credited',
        'Rupees', // total in words
        'Client withdrew the engagement',
        'Authorised Signatory',
      ])
        expect(text, expected).to.contain(expected);
      // ... and its date, as the invoice prints it.
      const invoiceText = (await readPdf(invoicePdf.body)).text;
      const printedDate = /Invoice Date\s*(\d\d \w{3} \d{4})/.exec(invoiceText)?.[1];
      expect(printedDate, 'the invoice prints its date').to.be.a('string');
      expect(text).to.contain(printedDate!);
      expect(snapshot.number).to.equal(invoice.number);

      // The admin reads it too; another customer gets 404.
      await getBinary(ctx.app, `/api/admin/bookings/${booking.id}/credit-note`).set('Authorization', admin).expect(200);
      const other = await registerCustomer(ctx.app);
      await request(ctx.app)
        .get(`/api/bookings/${booking.id}/credit-note`)
        .set('Authorization', other.auth)
        .expect(404);

      // The original invoice is unchanged and still downloadable.
      expect(await ctx.rt.db('invoices').where({ id: invoice.id }).first()).to.deep.equal(invoice);
      await getBinary(ctx.app, `/api/bookings/${booking.id}/invoice`).set('Authorization', customer.auth).expect(200);
    });

    it('a booking cancelled before any invoice gets no credit note', async () => {
      for (const booking of [
        await createBooking(ctx.app, customer.auth),
        await createConfirmedBooking(ctx.app, customer.auth),
      ]) {
        await cancel(booking.id);
        expect(await ctx.rt.db('credit_notes').where({ booking_id: booking.id }).first()).to.equal(undefined);
        const res = await request(ctx.app)
          .get(`/api/bookings/${booking.id}/credit-note`)
          .set('Authorization', customer.auth)
          .expect(404);
        expect(res.body.error.code).to.equal('not_found');
      }
    });

    it('numbers credit notes in their own gapless series', async () => {
      const before = await ctx.rt.db('credit_notes').max({ s: 'serial' });
      const invoicesBefore = await ctx.rt.db('invoices').max({ s: 'serial' });
      for (let i = 0; i < 3; i++) {
        const booking = await createConfirmedBooking(ctx.app, customer.auth);
        await request(ctx.app)
          .get(`/api/bookings/${booking.id}/invoice`)
          .set('Authorization', customer.auth)
          .expect(200);
        await cancel(booking.id);
      }
      const serials = (await ctx.rt.db('credit_notes').orderBy('serial').select('serial')).map(
        (r: { serial: number }) => Number(r.serial),
      );
      expect(serials).to.deep.equal(serials.map((_, i) => i + 1));
      expect(serials.length).to.equal(Number(before[0]?.s ?? 0) + 3);
      // Invoices kept their own count: three more, one per booking.
      expect(Number((await ctx.rt.db('invoices').max({ s: 'serial' }))[0]!.s)).to.equal(
        Number(invoicesBefore[0]?.s ?? 0) + 3,
      );
    });

    it('a reason that is too long is a 400, and nothing changes', async () => {
      const booking = await createConfirmedBooking(ctx.app, customer.auth);
      await request(ctx.app).get(`/api/bookings/${booking.id}/invoice`).set('Authorization', customer.auth).expect(200);
      const res = await request(ctx.app)
        .patch(`/api/admin/bookings/${booking.id}`)
        .set('Authorization', admin)
        .send({ status: 'cancelled', reason: 'x'.repeat(201) })
        .expect(400);
      expect(res.body.error.code).to.equal('validation_failed');
      expect((await ctx.rt.db('bookings').where({ id: booking.id }).first()).status).to.equal('confirmed');
      expect(await ctx.rt.db('credit_notes').where({ booking_id: booking.id }).first()).to.equal(undefined);
    });
  });
}
