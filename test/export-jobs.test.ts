// Export jobs on one machine (no REDIS_URL): the same API as with workers, run inside the web process.
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
import {
  downloadResult,
  readJob,
  requestExport,
  streamedExport,
  waitForJob,
  zipContent,
  type JobView,
} from './helpers/exports.js';
import { getBinary } from './helpers/pdf.js';
import { eventually, filesIn } from './helpers/server.js';
import { STORE_KINDS, storeEnv, storeProbe } from './helpers/stores.js';
import { unzip } from './helpers/zip.js';
import { indianDate } from '../server/invoices/numbering.js';
import type { Db } from '../server/db/connect.js';
import { join } from 'node:path';
import knex from 'knex';
import { startChildServer, type ChildServer } from './helpers/child-server.js';

const knexSqlite = (filename: string) =>
  knex({ client: 'better-sqlite3', connection: { filename }, useNullAsDefault: true }) as unknown as Db;

const today = () => indianDate(new Date()).date;
const issueRange = (ctx: TestContext, admin: string, from: string, to: string) =>
  request(ctx.app).post('/api/admin/invoices/issue').send({ from, to }).set('Authorization', admin).expect(200);

/** `count` confirmed bookings in `month` (YYYY-MM) with their invoices issued (none rendered yet). */
async function issuedInvoices(ctx: TestContext, admin: string, month: string, count: number): Promise<void> {
  const { auth } = await registerCustomer(ctx.app);
  for (let i = 0; i < count; i++)
    await createConfirmedBooking(ctx.app, auth, {
      scheduledAt: `${month}-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:00:00Z`,
      state: i % 2 ? '29' : '27',
    });
  await issueRange(ctx, admin, `${month}-01`, `${month}-28`);
}

/** Forgets every stored PDF, so the next export renders each document again. */
const unstoreDocuments = async (db: Db) => {
  for (const table of ['invoices', 'credit_notes'])
    await db(table).update({ pdf_name: null, pdf_size: null, pdf_sha256: null, pdf_stored_at: null });
};
const storedPdfs = async (db: Db) =>
  Number((await db('invoices').whereNotNull('pdf_name').count({ n: '*' }).first())!.n);

for (const kind of DB_KINDS) {
  describe(`export jobs in the web process [${kind}]`, () => {
    let ctx: TestContext;
    let admin: string;
    const range = () => ({ from: today(), to: today() });
    before(async () => {
      ctx = await startContext(kind);
      admin = await loginAdmin(ctx.app);
      await issuedInvoices(ctx, admin, '2036-01', 6);
    });
    after(() => ctx?.close());

    it('runs a job whose ZIP has the streamed export’s files and hashes, with progress to the end', async () => {
      const job = await requestExport(ctx.app, admin, range());
      expect(job).to.include({ state: 'queued', kind: 'full' });
      expect(job.url).to.equal(`/api/admin/exports/${job.id}`);
      const done = await waitForJob(ctx.app, admin, job.id);
      expect(done.state).to.equal('completed');
      expect(done.progress).to.deep.equal({ done: 6, total: 6 });
      expect(done.attempts).to.equal(1);
      const zip = await downloadResult(ctx.app, admin, done);
      expect(done.result!.size).to.equal(zip.length);
      const streamed = await streamedExport(ctx.app, admin, range());
      const content = await zipContent(zip);
      expect(Object.keys(content).filter((n) => n.endsWith('.pdf'))).to.have.length(6);
      expect(content).to.deep.equal(await zipContent(streamed));
    });

    it('answers an identical request with the live job, and lists jobs newest first', async () => {
      await unstoreDocuments(ctx.rt.db);
      const first = await requestExport(ctx.app, admin, { ...range(), kind: 'full' }, 202);
      const twin = await requestExport(ctx.app, admin, range(), 200);
      expect(twin.id).to.equal(first.id);
      const other = await requestExport(ctx.app, admin, { ...range(), kind: 'returns' }, 202);
      expect(other.id).to.not.equal(first.id);
      await waitForJob(ctx.app, admin, first.id);
      await waitForJob(ctx.app, admin, other.id);
      // Once finished, the same request makes a new job.
      const again = await requestExport(ctx.app, admin, range(), 202);
      expect(again.id).to.be.above(other.id);
      await waitForJob(ctx.app, admin, again.id);

      const list = await request(ctx.app).get('/api/admin/exports?limit=2').set('Authorization', admin).expect(200);
      expect(list.body.items.map((j: JobView) => j.id)).to.deep.equal([again.id, other.id]);
      const next = await request(ctx.app)
        .get(`/api/admin/exports?limit=2&cursor=${list.body.nextCursor}`)
        .set('Authorization', admin)
        .expect(200);
      expect(next.body.items[0].id).to.equal(first.id);
    });

    it('a returns job holds the register and GSTR-1 files but no PDF', async () => {
      const job = await waitForJob(
        ctx.app,
        admin,
        (await requestExport(ctx.app, admin, { ...range(), kind: 'returns' })).id,
      );
      expect(job.state).to.equal('completed');
      const names = (await unzip(await downloadResult(ctx.app, admin, job))).map((e) => e.name);
      expect(names.filter((n) => n.endsWith('.pdf'))).to.deep.equal([]);
      expect(names).to.include.members(['register.csv', 'gstr1/b2b.csv', 'gstr1/docs.csv', 'manifest.json']);
    });

    it('serves the result send-style: Range, HEAD, ETag and 304', async () => {
      const job = await waitForJob(ctx.app, admin, (await requestExport(ctx.app, admin, range())).id);
      const whole = await downloadResult(ctx.app, admin, job);
      const part = await getBinary(ctx.app, job.result!.url)
        .set('Authorization', admin)
        .set('Range', 'bytes=100-199')
        .expect(206);
      expect(part.headers['content-range']).to.equal(`bytes 100-199/${whole.length}`);
      expect(part.body.equals(whole.subarray(100, 200))).to.equal(true);
      const head = await request(ctx.app).head(job.result!.url).set('Authorization', admin).expect(200);
      expect(head.headers['content-length']).to.equal(String(whole.length));
      expect(head.headers['accept-ranges']).to.equal('bytes');
      expect(head.headers.etag).to.equal(`"${job.result!.sha256}"`);
      await request(ctx.app)
        .get(job.result!.url)
        .set('Authorization', admin)
        .set('If-None-Match', head.headers.etag!)
        .expect(304);
      await request(ctx.app)
        .get(job.result!.url)
        .set('Authorization', admin)
        .set('Range', `bytes=${whole.length}-`)
        .expect(416);
    });

    it('removes a finished job and its result; refuses what is not there or not ready', async () => {
      const job = await waitForJob(ctx.app, admin, (await requestExport(ctx.app, admin, range())).id);
      const results = storeProbe(ctx.rt, ctx.rt.exports.results);
      const name = (await ctx.rt.db('export_jobs').where({ id: job.id }).first()).result_name;
      expect(await results.names()).to.include(name);
      await request(ctx.app).delete(job.url).set('Authorization', admin).expect(204);
      expect(await results.names()).to.not.include(name);
      const gone = await request(ctx.app).get(job.url).set('Authorization', admin).expect(404);
      expect(gone.body.error.code).to.equal('not_found');
      await request(ctx.app).get(job.result!.url).set('Authorization', admin).expect(404);
      await request(ctx.app).get('/api/admin/exports/abc').set('Authorization', admin).expect(404);

      // Not ready: 409 with its state.
      await unstoreDocuments(ctx.rt.db);
      const live = await requestExport(ctx.app, admin, range());
      const early = await request(ctx.app).get(`${live.url}/download`).set('Authorization', admin);
      if (early.status !== 200) {
        expect(early.status).to.equal(409);
        expect(early.body.error.code).to.equal('export_not_ready');
      }
      await waitForJob(ctx.app, admin, live.id);
    });

    it('refuses bad requests with 400 and anyone but an admin', async () => {
      for (const [body, code] of [
        [{}, 'validation_failed'],
        [{ from: '2036-01-31', to: '2036-01-01' }, 'validation_failed'],
        [{ from: '2030-01-01', to: '2036-01-01' }, 'range_too_long'],
        [{ ...range(), kind: 'everything' }, 'validation_failed'],
      ] as const) {
        const res = await request(ctx.app)
          .post('/api/admin/exports')
          .set('Authorization', admin)
          .send(body)
          .expect(400);
        expect(res.body.error.code, JSON.stringify(body)).to.equal(code);
      }
      const customer = await registerCustomer(ctx.app);
      await request(ctx.app).post('/api/admin/exports').set('Authorization', customer.auth).send(range()).expect(403);
      await request(ctx.app).get('/api/admin/exports').set('Authorization', customer.auth).expect(403);
      await request(ctx.app).get('/api/admin/exports').expect(401);
    });
  });
}

for (const store of STORE_KINDS) {
  describe(`export job cancel and expiry [${store} storage]`, () => {
    let ctx: TestContext;
    let admin: string;
    before(async () => {
      ctx = await startContext('sqlite', { ...(await storeEnv(store)), EXPORT_RESULT_TTL_S: '1', PDF_WORKERS: '1' });
      admin = await loginAdmin(ctx.app);
      await issuedInvoices(ctx, admin, '2036-02', 90);
    });
    after(() => ctx?.close());

    it('cancelling a running job stops its renders and leaves no result, temp file or unfinished upload', async () => {
      await unstoreDocuments(ctx.rt.db);
      const job = await requestExport(ctx.app, admin, { from: today(), to: today() });
      // As soon as it runs: a warm browser renders these 90 in a couple of seconds.
      await waitForJob(ctx.app, admin, job.id, (j) => j.state === 'running');
      const cancelled = await request(ctx.app).delete(job.url).set('Authorization', admin).expect(200);
      expect(cancelled.body.state).to.equal('cancelled');
      const atCancel = await storedPdfs(ctx.rt.db);
      // The renders already started finish (at most PDF_WORKERS), then none.
      await new Promise((r) => setTimeout(r, 1500));
      const settled = await storedPdfs(ctx.rt.db);
      await new Promise((r) => setTimeout(r, 1000));
      expect(await storedPdfs(ctx.rt.db), 'no render after the cancel settled').to.equal(settled);
      expect(settled).to.be.at.most(atCancel + ctx.rt.config.pdf.workers + 1);
      expect(settled).to.be.below(90);
      const results = storeProbe(ctx.rt, ctx.rt.exports.results);
      await eventually(async () => (await results.pending()) === 0);
      expect(await results.names()).to.deep.equal([]);
      await eventually(() => filesIn(ctx.rt.config.pdf.tmpDir).length === 0);
      expect((await readJob(ctx.app, admin, job.id)).state).to.equal('cancelled');
      // Cancelled is final: a second DELETE removes it.
      await request(ctx.app).delete(job.url).set('Authorization', admin).expect(204);
    });

    it('removes expired results with the sweep; the job stays listed as expired', async () => {
      const job = await waitForJob(
        ctx.app,
        admin,
        (await requestExport(ctx.app, admin, { from: today(), to: today(), kind: 'returns' })).id,
      );
      expect(job.state).to.equal('completed');
      const results = storeProbe(ctx.rt, ctx.rt.exports.results);
      expect(await results.names()).to.have.length(1);
      await new Promise((r) => setTimeout(r, 1100));
      expect(await ctx.rt.exports.sweepExpired()).to.equal(1);
      expect(await results.names()).to.deep.equal([]);
      const expired = await readJob(ctx.app, admin, job.id);
      expect(expired).to.include({ state: 'expired', result: null });
      const res = await request(ctx.app).get(`${job.url}/download`).set('Authorization', admin).expect(409);
      expect(res.body.error.code).to.equal('export_not_ready');
    });
  });
}

describe('export jobs across a restart of the one web process (no Redis)', () => {
  let server: ChildServer;
  let admin: string;
  before(async () => {
    server = await startChildServer({ PDF_WORKERS: '1', LOG_LEVEL: 'info' }, undefined, { compiled: true });
    admin = await loginAdmin(server.url);
    const { auth } = await registerCustomer(server.url);
    for (let i = 0; i < 90; i++)
      await createConfirmedBooking(server.url, auth, {
        scheduledAt: `2036-03-${String(1 + (i % 28)).padStart(2, '0')}T06:00:00Z`,
      });
    await request(server.url)
      .post('/api/admin/invoices/issue')
      .set('Authorization', admin)
      .send({ from: '2036-03-01', to: '2036-03-31' })
      .expect(200);
  });
  after(() => server?.stop());

  /** Stops the server with `signal` mid-job and starts it again on the same data folder. */
  async function restartMidJob(signal: NodeJS.Signals): Promise<JobView> {
    const job = await requestExport(server.url, admin, { from: today(), to: today() });
    await waitForJob(server.url, admin, job.id, (j) => j.state === 'running');
    server.child.kill(signal);
    await server.exited;
    server = await startChildServer({ PDF_WORKERS: '1', LOG_LEVEL: 'info' }, server.dataDir, { compiled: true });
    return waitForJob(server.url, admin, job.id);
  }

  it('SIGTERM hands the running job back; after the restart it runs again and completes', async () => {
    const done = await restartMidJob('SIGTERM');
    expect(done.state, done.error ?? '').to.equal('completed');
    expect(done.attempts).to.equal(2);
    expect(server.output()).to.include('export jobs left by the previous process are queued again');
  });

  it('a crash (SIGKILL) requeues the job once; the result is complete', async () => {
    // Stored documents would make the job too quick to interrupt: forget them.
    const forget = { pdf_name: null, pdf_size: null, pdf_sha256: null, pdf_stored_at: null };
    await stopAndEdit(async (db) => void (await db('invoices').update(forget)));
    const done = await restartMidJob('SIGKILL');
    expect(done.state, done.error ?? '').to.equal('completed');
    expect(done.attempts).to.equal(2);
    const names = (await unzip(await downloadResult(server.url, admin, done))).map((e) => e.name);
    expect(names.filter((n) => n.endsWith('.pdf'))).to.have.length(90);
  });

  /** SQLite is held by the server: edit it with the server stopped, then start it again. */
  async function stopAndEdit(edit: (db: Db) => Promise<void>): Promise<void> {
    await new Promise<void>((resolve) => {
      server.child.once('exit', () => resolve());
      server.child.kill('SIGTERM');
    });
    const db = knexSqlite(join(server.dataDir, 'booking-core.sqlite'));
    try {
      await edit(db);
    } finally {
      await db.destroy();
    }
    server = await startChildServer({ PDF_WORKERS: '1', LOG_LEVEL: 'info' }, server.dataDir, { compiled: true });
  }
});
