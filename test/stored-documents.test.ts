// Issued documents are rendered once and kept: the stored PDF (its SHA-256 on the row) is what every
// later download and export sends, on either storage driver; a template change alters new documents
// only; concurrent first downloads store one PDF; a failed render leaves the number issued.
import { checkedApp } from './helpers/contract.js';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/http/logging.js';
import { startRuntime } from '../server/runtime.js';
import {
  createConfirmedBooking,
  loginAdmin,
  registerCustomer,
  startContext,
  testEnv,
  type TestContext,
} from './helpers/context.js';
import { getBinary } from './helpers/pdf.js';
import { eventually, filesIn } from './helpers/server.js';
import { STORE_KINDS, storeEnv } from './helpers/stores.js';
import { unzip } from './helpers/zip.js';
import { indianDate } from '../server/invoices/numbering.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const storedNames = async (ctx: TestContext) => {
  const names: string[] = [];
  for await (const object of ctx.rt.documents.storage.list()) names.push(object.name);
  return names;
};

for (const store of STORE_KINDS) {
  describe(`issued documents are stored (${store} storage)`, () => {
    let ctx: TestContext;
    let customer: { auth: string };
    before(async () => {
      ctx = await startContext('sqlite', await storeEnv(store));
      customer = await registerCustomer(ctx.app);
    });
    after(() => ctx?.close());

    it('renders once; later downloads send the stored bytes with Range, HEAD, 304 and the SHA-256 as ETag', async () => {
      const booking = await createConfirmedBooking(ctx.app, customer.auth);
      const path = `/api/bookings/${booking.id}/invoice`;
      const first = await getBinary(ctx.app, path).set('Authorization', customer.auth).expect(200);
      const row = await ctx.rt.db('invoices').where({ booking_id: booking.id }).first();
      expect(row.pdf_sha256).to.equal(sha256(first.body));
      expect(Number(row.pdf_size)).to.equal(first.body.length);
      expect(first.headers.etag).to.equal(`"${row.pdf_sha256}"`);
      expect(await storedNames(ctx)).to.include(row.pdf_name);
      await eventually(() => filesIn(ctx.rt.config.pdf.tmpDir).length === 0);

      const rendered = ctx.rt.renderer.stats.rendered;
      const again = await getBinary(ctx.app, path).set('Authorization', customer.auth).expect(200);
      expect(Buffer.compare(again.body, first.body)).to.equal(0);
      const part = await getBinary(ctx.app, path)
        .set('Authorization', customer.auth)
        .set('Range', 'bytes=0-99')
        .expect(206);
      expect(part.headers['content-range']).to.equal(`bytes 0-99/${first.body.length}`);
      expect(Buffer.compare(part.body, first.body.subarray(0, 100))).to.equal(0);
      const head = await request(ctx.app).head(path).set('Authorization', customer.auth).expect(200);
      expect(head.headers['content-length']).to.equal(String(first.body.length));
      expect(head.headers['accept-ranges']).to.equal('bytes');
      await request(ctx.app)
        .get(path)
        .set('Authorization', customer.auth)
        .set('If-None-Match', first.headers.etag!)
        .expect(304);
      await request(ctx.app).get(path).set('Authorization', customer.auth).set('If-Match', '"other"').expect(412);
      expect(ctx.rt.renderer.stats.rendered, 'no render after the first').to.equal(rendered);
    });

    it('concurrent first downloads store one PDF', async () => {
      const booking = await createConfirmedBooking(ctx.app, customer.auth);
      const before = (await storedNames(ctx)).length;
      const rendered = ctx.rt.renderer.stats.rendered;
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          getBinary(ctx.app, `/api/bookings/${booking.id}/invoice`).set('Authorization', customer.auth),
        ),
      );
      expect(answers.map((a) => a.status)).to.deep.equal(Array(6).fill(200));
      expect(new Set(answers.map((a) => sha256(a.body))).size).to.equal(1);
      expect((await storedNames(ctx)).length).to.equal(before + 1);
      expect(ctx.rt.renderer.stats.rendered).to.equal(rendered + 1);
    });

    it('a render that fails after the number was taken leaves it issued; the next request renders it', async () => {
      const booking = await createConfirmedBooking(ctx.app, customer.auth);
      // Taken: the number is issued (the register shows it) before any PDF exists.
      const admin = await loginAdmin(ctx.app);
      const day = new Date(booking.scheduledAt as string).toISOString().slice(0, 10);
      await request(ctx.app)
        .post('/api/admin/invoices/issue')
        .send({ from: day, to: day })
        .set('Authorization', admin)
        .expect(200);
      const issued = await ctx.rt.db('invoices').where({ booking_id: booking.id }).first();
      // The template cannot render this snapshot: 503, the number stays, no PDF is stored.
      const broken = JSON.parse(issued.snapshot);
      broken.recipient = {};
      await ctx.rt
        .db('invoices')
        .where({ id: issued.id })
        .update({ snapshot: JSON.stringify(broken) });
      const failed = await request(ctx.app)
        .get(`/api/bookings/${booking.id}/invoice`)
        .set('Authorization', customer.auth);
      expect(failed.status).to.equal(503);
      expect(failed.headers['retry-after']).to.be.a('string');
      const after = await ctx.rt.db('invoices').where({ booking_id: booking.id }).first();
      expect([after.number, after.pdf_name]).to.deep.equal([issued.number, null]);
      await eventually(() => filesIn(ctx.rt.config.pdf.tmpDir).length === 0);

      await ctx.rt.db('invoices').where({ id: issued.id }).update({ snapshot: issued.snapshot });
      const res = await getBinary(ctx.app, `/api/bookings/${booking.id}/invoice`)
        .set('Authorization', customer.auth)
        .expect(200);
      expect(res.headers['content-disposition']).to.include(issued.number.replaceAll('/', '-'));
    });

    it('the export ZIP holds the very bytes a download sends', async () => {
      const booking = await createConfirmedBooking(ctx.app, customer.auth);
      const download = await getBinary(ctx.app, `/api/bookings/${booking.id}/invoice`)
        .set('Authorization', customer.auth)
        .expect(200);
      const admin = await loginAdmin(ctx.app);
      const today = indianDate(new Date()).date;
      const zip = await getBinary(ctx.app, '/api/admin/invoices/export')
        .query({ from: today, to: today })
        .set('Authorization', admin)
        .expect(200);
      const number = (await ctx.rt.db('invoices').where({ booking_id: booking.id }).first()).number as string;
      const pdf = (await unzip(zip.body)).find((e) => e.name === `${number.replaceAll('/', '-')}.pdf`)!;
      expect(sha256(pdf.data)).to.equal(sha256(download.body));
    });
  });
}

describe('a template change alters new documents only', () => {
  it('an invoice issued before the change keeps its bytes; one issued after shows the change', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'booking-templates-'));
    const templatesDir = join(dataDir, 'templates');
    cpSync('templates', templatesDir, { recursive: true });
    const start = async () => {
      const config = loadConfig(testEnv(dataDir, { PDF_TEMPLATES_DIR: templatesDir }));
      const rt = await startRuntime(config, createLogger(config.logLevel));
      return { rt, app: checkedApp(createApp(rt)) };
    };
    try {
      let server = await start();
      const customer = await registerCustomer(server.app);
      const old = await createConfirmedBooking(server.app, customer.auth);
      const before = await getBinary(server.app, `/api/bookings/${old.id}/invoice`)
        .set('Authorization', customer.auth)
        .expect(200);
      await server.rt.close();

      // A new letterhead line and a new colour, as a practice would change its template.
      const hbs = join(templatesDir, 'invoice.hbs');
      writeFileSync(hbs, readFileSync(hbs, 'utf8').replace('<footer>', '<footer><p>New letterhead line 2027</p>'));
      writeFileSync(
        join(templatesDir, 'invoice.css'),
        `${readFileSync(join(templatesDir, 'invoice.css'), 'utf8')}\nh1 { color: #a00; }\n`,
      );
      server = await start();
      try {
        const after = await getBinary(server.app, `/api/bookings/${old.id}/invoice`)
          .set('Authorization', customer.auth)
          .expect(200);
        expect(sha256(after.body), 'the issued invoice is unchanged').to.equal(sha256(before.body));
        const fresh = await createConfirmedBooking(server.app, customer.auth);
        const next = await getBinary(server.app, `/api/bookings/${fresh.id}/invoice`)
          .set('Authorization', customer.auth)
          .expect(200);
        const { readPdf } = await import('./helpers/pdf.js');
        expect((await readPdf(next.body)).text).to.contain('New letterhead line 2027');
        expect((await readPdf(after.body)).text).not.to.contain('New letterhead line 2027');
      } finally {
        await server.rt.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
