import { expect } from 'chai';
import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { DB_KINDS } from './helpers/databases.js';
import {
  createConfirmedBooking,
  loginAdmin,
  registerCustomer,
  startContext,
  withContext,
  type TestContext,
} from './helpers/context.js';
import { getBinary, isPdf, readPdf } from './helpers/pdf.js';
import { eventually, filesIn, listen, openDescriptors, processAlive } from './helpers/server.js';
import { readFileSync } from 'node:fs';
import { treeMemory } from '../server/health/process-tree.js';
import { LEAN_ARGS } from '../server/pdf/browser.js';

const download = (ctx: TestContext, path: string, auth: string) => getBinary(ctx.app, path).set('Authorization', auth);
const tempFiles = (ctx: TestContext) => filesIn(ctx.rt.config.pdf.tmpDir);
/** Descriptors this process holds on temp PDFs (a deleted file held open still takes its space). */
const openTempFiles = (ctx: TestContext) => openDescriptors(ctx.rt.config.pdf.tmpDir);
/** The invoice of a new booking: every call renders. */
const downloadNew = async (
  ctx: TestContext,
  auth: string,
  booking: Parameters<typeof createConfirmedBooking>[2] = {},
) => download(ctx, `/api/bookings/${(await createConfirmedBooking(ctx.app, auth, booking)).id}/invoice`, auth);

for (const kind of DB_KINDS) {
  describe(`invoices [${kind}]`, () => {
    let ctx: TestContext;
    let customer: { auth: string; id: number };
    before(async () => {
      ctx = await startContext(kind);
      customer = await registerCustomer(ctx.app, 'Asha Rao');
    });
    after(async () => {
      const pids = ctx.rt.renderer.browsers.pids();
      await ctx?.close();
      // Shutting down leaves no Chromium behind.
      for (const pid of pids) expect(processAlive(pid), `chromium ${pid}`).to.equal(false);
    });

    it('renders an intra-state GST invoice: one page, number, GSTINs, CGST + SGST, total in words', async () => {
      const booking = await createConfirmedBooking(ctx.app, customer.auth, {
        state: '29',
        gstin: '29AAACT1234K1ZC',
        name: 'Tejas Exports',
      });
      const res = await download(ctx, `/api/bookings/${booking.id}/invoice`, customer.auth).expect(200);
      expect(res.headers['content-type']).to.equal('application/pdf');
      expect(Number(res.headers['content-length'])).to.equal(res.body.length);
      expect(isPdf(res.body)).to.equal(true);
      const { pages, text } = await readPdf(res.body);
      expect(pages).to.equal(1);
      const number = text.match(/INV\/\d{2}-\d{2}\/\d{6}/)![0];
      // (A plain token needs no quotes: RFC 6266 reads both forms alike.)
      expect(res.headers['content-disposition']).to.equal(`attachment; filename=${number.replaceAll('/', '-')}.pdf`);
      expect(text).to.match(/tax invoice/i);
      for (const expected of [
        '29ABCDE1234F1ZW',
        '29AAACT1234K1ZC',
        'Tejas Exports',
        'Karnataka (29)',
        '998232',
        'CGST',
        'SGST',
        '₹179.91',
        '₹1,999.00',
        '₹2,358.82',
        'Rupees Two Thousand Three Hundred Fifty Eight and Eighty Two Paise Only',
        'Reverse Charge No',
        'Authorised Signatory',
      ]) {
        expect(text).to.contain(expected);
      }
      expect(text).not.to.contain('IGST');
      const listed = await request(ctx.app)
        .get(`/api/bookings/${booking.id}`)
        .set('Authorization', customer.auth)
        .expect(200);
      expect(listed.body.invoiceNumber).to.equal(number);
    });

    it('renders an inter-state invoice with IGST only and the place of supply', async () => {
      const booking = await createConfirmedBooking(ctx.app, customer.auth, { state: '27', gstin: '27AAPFU0939F1ZV' });
      const res = await download(ctx, `/api/bookings/${booking.id}/invoice`, customer.auth).expect(200);
      const { pages, text } = await readPdf(res.body);
      expect(pages).to.equal(1);
      for (const expected of ['IGST', '₹359.82', '₹2,358.82', 'Maharashtra (27)', '27AAPFU0939F1ZV'])
        expect(text).to.contain(expected);
      expect(text).not.to.contain('CGST');
    });

    it('prints names in Devanagari and Latin Extended with the embedded Noto Sans, not a host font', async () => {
      // No invoice before this one needs these faces. (It passes without the page's font preloading too:
      // it guards what the PDF embeds, not when the fonts load.)
      const name = 'आशा राव, Łódź & Sons';
      const res = await downloadNew(ctx, customer.auth, { name });
      expect(res.status).to.equal(200);
      expect((await readPdf(res.body)).text).to.contain(name);
      const fonts = new Set(res.body.toString('latin1').match(/\/BaseFont\s*\/[\w+-]+/g));
      expect(fonts.size).to.be.greaterThan(0);
      for (const font of fonts) expect(font).to.match(/\+NotoSans-(Regular|Bold)$/);
    });

    it('numbers invoices sequentially and never changes an issued one (snapshot, ETag, 304 without rendering)', async () => {
      const a = await createConfirmedBooking(ctx.app, customer.auth);
      const b = await createConfirmedBooking(ctx.app, customer.auth);
      const first = await download(ctx, `/api/bookings/${a.id}/invoice`, customer.auth).expect(200);
      const second = await download(ctx, `/api/bookings/${b.id}/invoice`, customer.auth).expect(200);
      const serial = async (r: request.Response) =>
        Number((await readPdf(r.body)).text.match(/INV\/\d{2}-\d{2}\/(\d{6})/)![1]);
      expect(await serial(second)).to.equal((await serial(first)) + 1);

      // A later edit of the booking does not reach the issued invoice.
      await ctx.rt.db('bookings').where({ id: a.id }).update({ billing_name: 'Changed Later Pvt Ltd' });
      const again = await download(ctx, `/api/bookings/${a.id}/invoice`, customer.auth).expect(200);
      expect((await readPdf(again.body)).text).not.to.contain('Changed Later');
      expect(again.headers.etag).to.equal(first.headers.etag);

      const rendered = ctx.rt.renderer.stats.rendered;
      const cached = await request(ctx.app)
        .get(`/api/bookings/${a.id}/invoice`)
        .set('Authorization', customer.auth)
        .set('If-None-Match', first.headers.etag!)
        .expect(304);
      expect(cached.headers.etag).to.equal(first.headers.etag);
      expect(ctx.rt.renderer.stats.rendered).to.equal(rendered);
    });

    it('gives concurrent first downloads one invoice number', async () => {
      const booking = await createConfirmedBooking(ctx.app, customer.auth);
      const responses = await Promise.all(
        Array.from({ length: 6 }, () => download(ctx, `/api/bookings/${booking.id}/invoice`, customer.auth)),
      );
      expect(responses.map((r) => r.status)).to.deep.equal(Array(6).fill(200));
      const numbers = new Set(
        await Promise.all(
          responses.map(async (r) => (await readPdf(r.body)).text.match(/INV\/\d{2}-\d{2}\/\d{6}/)![0]),
        ),
      );
      expect(numbers.size).to.equal(1);
      const rows = await ctx.rt.db('invoices').where({ booking_id: booking.id });
      expect(rows).to.have.length(1);
      const serials = (await ctx.rt.db('invoices').select('serial').orderBy('serial')).map((r: { serial: number }) =>
        Number(r.serial),
      );
      expect(serials).to.deep.equal(serials.map((_, i) => serials[0]! + i)); // no gaps, no repeats
    });

    it('prints injected HTML in the billing name literally', async () => {
      const name = '<script>alert("x")</script><b>Bold</b>';
      const booking = await createConfirmedBooking(ctx.app, customer.auth, { name });
      const res = await download(ctx, `/api/bookings/${booking.id}/invoice`, customer.auth).expect(200);
      expect((await readPdf(res.body)).text).to.contain(name);
    });

    it("hides another customer's invoice (404), refuses customers on the admin route (403), serves admins", async () => {
      const booking = await createConfirmedBooking(ctx.app, customer.auth);
      const stranger = await registerCustomer(ctx.app);
      await request(ctx.app).get(`/api/bookings/${booking.id}/invoice`).set('Authorization', stranger.auth).expect(404);
      await request(ctx.app).get(`/api/bookings/${booking.id}/invoice`).expect(401);
      await request(ctx.app)
        .get(`/api/admin/bookings/${booking.id}/invoice`)
        .set('Authorization', customer.auth)
        .expect(403);
      const res = await download(ctx, `/api/admin/bookings/${booking.id}/invoice`, await loginAdmin(ctx.app)).expect(
        200,
      );
      expect((await readPdf(res.body)).pages).to.equal(1);
      await request(ctx.app)
        .get('/api/admin/bookings/999999/invoice')
        .set('Authorization', await loginAdmin(ctx.app))
        .expect(404);
    });

    it('refuses to invoice a cancelled booking that has no invoice (409)', async () => {
      const booking = await createConfirmedBooking(ctx.app, customer.auth);
      await request(ctx.app)
        .patch(`/api/admin/bookings/${booking.id}`)
        .set('Authorization', await loginAdmin(ctx.app))
        .send({ status: 'cancelled' })
        .expect(200);
      const res = await request(ctx.app)
        .get(`/api/bookings/${booking.id}/invoice`)
        .set('Authorization', customer.auth)
        .expect(409);
      expect(res.body.error.code).to.equal('booking_cancelled');
    });

    it('leaves the temp folder empty after downloads, and no temp file open', async () => {
      await eventually(() => tempFiles(ctx).length === 0);
      await eventually(() => openTempFiles(ctx).length === 0);
    });
  });
}

describe('invoice pages in Chromium', () => {
  it('a worker that ends when idle leaves no page open behind it', () =>
    withContext({ PDF_WORKER_IDLE_MS: '1000' }, async (ctx) => {
      const customer = await registerCustomer(ctx.app);
      const browsers = ctx.rt.renderer.browsers;
      await downloadNew(ctx, customer.auth);
      const before = await browsers.openPages(); // the browser's first tab and the worker's page
      await downloadNew(ctx, customer.auth);
      expect(await browsers.openPages()).to.equal(before); // the page is reused
      // Idle for PDF_WORKER_IDLE_MS: piscina ends the thread, and its page goes with it.
      await eventually(async () => (await browsers.openPages()) === before - 1, 10_000);
      const again = await downloadNew(ctx, customer.auth);
      expect(isPdf(again.body)).to.equal(true);
      expect(await browsers.openPages()).to.equal(before);
    }));
});

describe('invoice page recycling', () => {
  it('a page retired after PDF_PAGE_RENDERS is closed, its successor already open', () =>
    withContext({ PDF_PAGE_RENDERS: '2', PDF_WORKERS: '1' }, async (ctx) => {
      const customer = await registerCustomer(ctx.app);
      const browsers = ctx.rt.renderer.browsers;
      expect(isPdf((await downloadNew(ctx, customer.auth)).body)).to.equal(true);
      const open = await browsers.openPages(); // the browser's first tab and the worker's page
      for (let i = 0; i < 7; i++) expect(isPdf((await downloadNew(ctx, customer.auth)).body)).to.equal(true);
      await eventually(async () => (await browsers.openPages()) === open);
    }));
});

describe('invoice renderer robustness', () => {
  let ctx: TestContext;
  let customer: { auth: string };
  before(async () => {
    ctx = await startContext('sqlite', { PDF_BROWSER_RENDERS: '3', PDF_PAGE_RENDERS: '2' });
    customer = await registerCustomer(ctx.app);
  });
  after(() => ctx?.close());

  it('removes the temp file when the client goes away mid-download', async () => {
    const http = await listen(ctx.app);
    try {
      for (const abortAfter of ['request', 'headers'] as const) {
        const booking = await createConfirmedBooking(ctx.app, customer.auth);
        const renders = ctx.rt.renderer.stats.rendered;
        await new Promise<void>((resolve) => {
          const req = httpRequest(`${http.url}/api/bookings/${booking.id}/invoice`, {
            headers: { Authorization: customer.auth },
          });
          req.on('response', (res) => {
            res.destroy();
            resolve();
          });
          req.on('error', () => resolve());
          req.end();
          // Long enough for the server to have the request, too short for the render to finish.
          if (abortAfter === 'request') setTimeout(() => req.destroy(), 30);
        });
        await eventually(() => ctx.rt.renderer.stats.rendered > renders && tempFiles(ctx).length === 0);
        await eventually(() => openTempFiles(ctx).length === 0);
      }
    } finally {
      await http.close();
    }
  });

  it('restarts the browser after PDF_BROWSER_RENDERS renders and closes the old one', async () => {
    const launches = ctx.rt.renderer.browsers.launches;
    const before = ctx.rt.renderer.browsers.pids();
    // The successor is launched while the old browser keeps rendering, so the switch comes a few
    // renders after the third, depending on how long a launch takes: render until two have happened.
    let renders = 0;
    while (ctx.rt.renderer.browsers.launches - launches < 2 && renders < 60) {
      const booking = await createConfirmedBooking(ctx.app, customer.auth);
      await download(ctx, `/api/bookings/${booking.id}/invoice`, customer.auth).expect(200);
      renders++;
    }
    expect(ctx.rt.renderer.browsers.launches - launches).to.be.at.least(2);
    await eventually(() => before.every((pid) => !processAlive(pid)));
    // Each retired browser is closed once its successor is up: one browser, not zero, not two.
    await eventually(() => ctx.rt.renderer.browsers.pids().length === 1 && ctx.rt.renderer.browsers.status().running);
    await eventually(() => tempFiles(ctx).length === 0);
  });
});

describe('invoice renderer: lean Chromium (PDF_LEAN_CHROMIUM)', () => {
  // What the setting promises, for whichever Chromium this machine has (Debian's headless shell or
  // @sparticuz/chromium): its flags reach the browser, invoices still render, and the browser's
  // memory is smaller. How many processes a build starts for those flags differs between builds.
  const browserFlags = (ctx: TestContext) =>
    readFileSync(`/proc/${ctx.rt.renderer.browsers.pids()[0]}/cmdline`, 'utf8').split('\0');
  const pss: Record<string, number> = {};
  for (const lean of [true, false]) {
    it(`${lean ? 'on (default): the lean flags' : 'off: none of them'}, and two invoices render`, async () => {
      await withContext({ PDF_LEAN_CHROMIUM: String(lean) }, async (ctx) => {
        const customer = await registerCustomer(ctx.app);
        for (let i = 0; i < 2; i++) {
          const res = await downloadNew(ctx, customer.auth);
          expect(res.status).to.equal(200);
          expect(isPdf(res.body)).to.equal(true);
        }
        const flags = browserFlags(ctx);
        // @sparticuz/chromium brings some of the same flags itself; the others are ours to give.
        const own = ctx.rt.renderer.browsers.executable!.extraArgs;
        for (const flag of LEAN_ARGS) expect(flags.includes(flag), flag).to.equal(lean || own.includes(flag));
        pss[String(lean)] = treeMemory(ctx.rt.renderer.browsers.pids()).pss;
      });
    });
  }
  it('lean Chromium takes less memory (PSS of its process tree) after the same renders', () => {
    expect(pss.true, 'lean').to.be.greaterThan(0);
    expect(pss.true).to.be.below(pss.false!);
  });
});

describe('invoice renderer limits', () => {
  it('relaunches a crashed Chromium and still answers', async () => {
    await withContext({}, async (ctx) => {
      const customer = await registerCustomer(ctx.app);
      const booking = await createConfirmedBooking(ctx.app, customer.auth);
      await download(ctx, `/api/bookings/${booking.id}/invoice`, customer.auth).expect(200);
      const crashed = ctx.rt.renderer.browsers.pids()[0]!;
      ctx.rt.renderer.browsers.crashForTest();
      await eventually(() => !processAlive(crashed));
      const next = await createConfirmedBooking(ctx.app, customer.auth);
      const res = await download(ctx, `/api/bookings/${next.id}/invoice`, customer.auth).expect(200);
      expect(isPdf(res.body)).to.equal(true);
      expect(ctx.rt.renderer.browsers.crashes).to.equal(1);
    });
  });

  it('answers 504 when a render exceeds PDF_TIMEOUT_MS, leaving no temp file', async () => {
    await withContext({ PDF_TIMEOUT_MS: '1' }, async (ctx) => {
      const { auth } = await registerCustomer(ctx.app);
      const booking = await createConfirmedBooking(ctx.app, auth);
      const res = await request(ctx.app)
        .get(`/api/bookings/${booking.id}/invoice`)
        .set('Authorization', auth)
        .expect(504);
      expect(res.body.error.code).to.equal('pdf_timeout');
      await eventually(() => tempFiles(ctx).length === 0);
    });
  });

  it('answers 503 with Retry-After at once when the queue is full', async () => {
    await withContext({ PDF_WORKERS: '1', PDF_QUEUE_MAX: '1' }, async (ctx) => {
      const { auth } = await registerCustomer(ctx.app);
      const ids = [];
      for (let i = 0; i < 10; i++) ids.push((await createConfirmedBooking(ctx.app, auth)).id);
      // Start the (lazily started) worker first, so the requests below meet a running renderer.
      await request(ctx.app).get(`/api/bookings/${ids[0]}/invoice`).set('Authorization', auth).expect(200);
      const responses = await Promise.all(
        ids.map((id) => request(ctx.app).get(`/api/bookings/${id}/invoice`).set('Authorization', auth)),
      );
      const refused = responses.filter((r) => r.status === 503);
      expect(refused.length).to.be.at.least(1);
      expect(responses.filter((r) => r.status === 200).length).to.be.at.least(2);
      for (const r of refused) {
        expect(r.body.error.code).to.equal('pdf_queue_full');
        expect(Number(r.headers['retry-after'])).to.be.greaterThan(0);
      }
      await eventually(() => tempFiles(ctx).length === 0);
    });
  });

  it('starts without a browser and answers invoices with 503 and how to install one', async () => {
    await withContext({ CHROME_PATH: '/nonexistent/chromium' }, async (ctx) => {
      const { auth } = await registerCustomer(ctx.app);
      const booking = await createConfirmedBooking(ctx.app, auth);
      const res = await request(ctx.app)
        .get(`/api/bookings/${booking.id}/invoice`)
        .set('Authorization', auth)
        .expect(503);
      expect(res.body.error.code).to.equal('pdf_unavailable');
      expect(res.body.error.message).to.contain('apt-get install chromium-headless-shell');
    });
  });
});
