// The GSTR-1 files against hand-made expected files: a fixed set of documents (intra- and inter-state,
// registered and not, one above the B2CL threshold, two credit notes, dates on either side of a month
// end at 23:30 IST), each table as the GST offline tool imports it.
import { expect } from 'chai';
import request from 'supertest';
import { DB_KINDS } from './helpers/databases.js';
import {
  createConfirmedBooking,
  loginAdmin,
  registerCustomer,
  startContext,
  type TestContext,
} from './helpers/context.js';
import { getBinary } from './helpers/pdf.js';
import { unzip } from './helpers/zip.js';

/** The expected files, written by hand from the documents below (amounts worked out on paper). */
const EXPECTED: Record<string, string[]> = {
  'b2b.csv': [
    'GSTIN/UIN of Recipient,Receiver Name,Invoice Number,Invoice date,Invoice Value,Place Of Supply,Reverse Charge,Applicable % of Tax Rate,Invoice Type,E-Commerce GSTIN,Rate,Taxable Value,Cess Amount',
  ],
  'b2cl.csv': [
    'Invoice Number,Invoice date,Invoice Value,Place Of Supply,Applicable % of Tax Rate,Rate,Taxable Value,Cess Amount,E-Commerce GSTIN',
    'INV/26-27/000004,20-Nov-2026,141600.00,07-Delhi,,18,120000.00,,',
  ],
  'b2cs.csv': [
    'Type,Place Of Supply,Applicable % of Tax Rate,Rate,Taxable Value,Cess Amount,E-Commerce GSTIN',
    'OE,07-Delhi,,18,1999.00,,',
    'OE,29-Karnataka,,18,1999.00,,',
  ],
  'cdnr.csv': [
    'GSTIN/UIN of Recipient,Receiver Name,Note Number,Note Date,Note Type,Place Of Supply,Reverse Charge,Note Supply Type,Note Value,Applicable % of Tax Rate,Rate,Taxable Value,Cess Amount',
    '27AAPFU0939F1ZV,Patil Exports,CN/26-27/0000001,25-Nov-2026,C,27-Maharashtra,N,Regular B2B,2358.82,,18,1999.00,',
  ],
  'cdnur.csv': [
    'UR Type,Note Number,Note Date,Note Type,Place Of Supply,Note Value,Applicable % of Tax Rate,Rate,Taxable Value,Cess Amount',
    'B2CL,CN/26-27/0000002,30-Nov-2026,C,07-Delhi,141600.00,,18,120000.00,',
  ],
  'hsn_b2b.csv': [
    'HSN,Description,UQC,Total Quantity,Total Value,Rate,Taxable Value,Integrated Tax Amount,Central Tax Amount,State/UT Tax Amount,Cess Amount',
    '998232,GST returns (monthly),NA,0,-2358.82,18,-1999.00,-359.82,0.00,0.00,',
  ],
  'hsn_b2c.csv': [
    'HSN,Description,UQC,Total Quantity,Total Value,Rate,Taxable Value,Integrated Tax Amount,Central Tax Amount,State/UT Tax Amount,Cess Amount',
    '998231,Annual retainer,NA,0,0.00,18,0.00,0.00,0.00,0.00,',
    '998232,GST returns (monthly),NA,0,4717.64,18,3998.00,359.82,179.91,179.91,',
  ],
  'docs.csv': [
    'Nature of Document,Sr. No. From,Sr. No. To,Total Number,Cancelled',
    'Invoices for outward supply,INV/26-27/000002,INV/26-27/000004,3,0',
    'Credit Note,CN/26-27/0000001,CN/26-27/0000002,2,0',
  ],
};

for (const kind of DB_KINDS) {
  describe(`GSTR-1 files [${kind}]`, () => {
    let ctx: TestContext;
    let admin: string;

    /** Moves a document to a fixed moment (as if issued then): its row's time and its snapshot's date. */
    const dateDocument = async (
      table: 'invoices' | 'credit_notes',
      bookingId: number,
      at: string,
      date: string,
      originalDate?: string,
    ) => {
      const row = await ctx.rt.db(table).where({ booking_id: bookingId }).first();
      const snapshot = JSON.parse(row.snapshot);
      snapshot.issuedAt = at;
      if (table === 'invoices') snapshot.invoiceDate = date;
      else Object.assign(snapshot, { noteDate: date, original: { ...snapshot.original, date: originalDate } });
      await ctx.rt
        .db(table)
        .where({ id: row.id })
        .update({ issued_at: at, snapshot: JSON.stringify(snapshot) });
    };

    before(async () => {
      ctx = await startContext(kind);
      admin = await loginAdmin(ctx.app);
      await ctx.rt.db('services').insert({
        code: 'retainer-annual',
        name: 'Annual retainer',
        description: 'A year of advice',
        sac: '998231',
        price_paise: 12_000_000,
        gst_rate_bp: 1800,
      });
      const { auth } = await registerCustomer(ctx.app);
      const book = async (billing: { state: string; gstin?: string; name: string }, service?: string) => {
        const booking = await createConfirmedBooking(ctx.app, auth, billing);
        if (service) {
          const { id } = await ctx.rt.db('services').where({ code: service }).first();
          const amounts = {
            taxable_paise: 12_000_000,
            cgst_paise: 0,
            sgst_paise: 0,
            igst_paise: 2_160_000,
            total_paise: 14_160_000,
          };
          await ctx.rt
            .db('bookings')
            .where({ id: booking.id })
            .update({ service_id: id, sac: '998231', ...amounts });
        }
        await getBinary(ctx.app, `/api/bookings/${booking.id}/invoice`).set('Authorization', auth).expect(200);
        return booking.id;
      };
      const a = await book({ state: '27', gstin: '27AAPFU0939F1ZV', name: 'Patil Exports' }); // inter-state, registered
      const b = await book({ state: '29', name: 'Sharma Traders' }); // intra-state, unregistered
      const c = await book({ state: '07', name: 'Gupta Stores' }); // inter-state, unregistered, small
      const d = await book({ state: '07', name: 'Mehra Holdings' }, 'retainer-annual'); // inter-state, above ₹1,00,000
      for (const id of [a, d])
        await request(ctx.app)
          .patch(`/api/admin/bookings/${id}`)
          .set('Authorization', admin)
          .send({ status: 'cancelled' })
          .expect(200);
      // 23:30 IST on 31 October: October's. 00:01 IST on 1 November: November's.
      await dateDocument('invoices', a, '2026-10-31T18:00:00.000Z', '2026-10-31');
      await dateDocument('invoices', b, '2026-10-31T18:31:00.000Z', '2026-11-01');
      await dateDocument('invoices', c, '2026-11-15T06:00:00.000Z', '2026-11-15');
      await dateDocument('invoices', d, '2026-11-20T06:00:00.000Z', '2026-11-20');
      await dateDocument('credit_notes', a, '2026-11-25T06:00:00.000Z', '2026-11-25', '2026-10-31');
      await dateDocument('credit_notes', d, '2026-11-30T18:00:00.000Z', '2026-11-30', '2026-11-20');
    });
    after(() => ctx?.close());

    it('GET /api/admin/invoices/gstr1.zip gives every file as expected, by hand', async () => {
      const res = await getBinary(ctx.app, '/api/admin/invoices/gstr1.zip')
        .query({ from: '2026-11-01', to: '2026-11-30' })
        .set('Authorization', admin)
        .expect(200);
      expect(res.headers['content-type']).to.equal('application/zip');
      const files = Object.fromEntries(
        (await unzip(res.body)).map((e) => [e.name, e.data.toString().trimEnd().split('\n')]),
      );
      expect(Object.keys(files)).to.deep.equal(Object.keys(EXPECTED));
      for (const [name, lines] of Object.entries(EXPECTED)) expect(files[name], name).to.deep.equal(lines);
    });

    it('the export ZIP carries the same files under gstr1/, and hsn.csv for a range before 2025-05-01', async () => {
      const res = await getBinary(ctx.app, '/api/admin/invoices/export')
        .query({ from: '2026-11-01', to: '2026-11-30' })
        .set('Authorization', admin)
        .expect(200);
      const entries = await unzip(res.body);
      for (const [name, lines] of Object.entries(EXPECTED))
        expect(
          entries
            .find((e) => e.name === `gstr1/${name}`)
            ?.data.toString()
            .trimEnd()
            .split('\n'),
          name,
        ).to.deep.equal(lines);
      const old = await getBinary(ctx.app, '/api/admin/invoices/gstr1.zip')
        .query({ from: '2025-04-01', to: '2025-04-30' })
        .set('Authorization', admin)
        .expect(200);
      expect((await unzip(old.body)).map((e) => e.name))
        .to.include('hsn.csv')
        .and.not.include('hsn_b2b.csv');
      await request(ctx.app)
        .get('/api/admin/invoices/gstr1.zip')
        .query({ from: 'x' })
        .set('Authorization', admin)
        .expect(400);
    });
  });
}
