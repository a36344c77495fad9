// Export jobs on BullMQ as deployed: compiled web and worker processes sharing MySQL, an S3 bucket (moto)
// and the machine's Redis. Jobs run on workers only; a worker killed mid-job has its job finished by
// another; a worker stopped with SIGTERM hands its job back; a web restart changes nothing; two workers
// never run one job at once; with PDF_RENDERING=worker the web process renders nothing itself.
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import knex, { type Knex } from 'knex';
import request from 'supertest';
import { processTree } from '../server/health/process-tree.js';
import { indianDate } from '../server/invoices/numbering.js';
import { startChildServer, startChildWorker, type ChildServer, type ChildWorker } from './helpers/child-server.js';
import { createConfirmedBooking, loginAdmin, registerCustomer } from './helpers/context.js';
import { freshMysqlDatabase } from './helpers/databases.js';
import { downloadResult, readJob, requestExport, streamedExport, waitForJob, zipContent } from './helpers/exports.js';
import { freshBucket, s3Env } from './helpers/moto.js';
import { isPdf } from './helpers/pdf.js';
import { eventually } from './helpers/server.js';

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const DOCUMENTS = 120;
const today = () => indianDate(new Date()).date;
const range = () => ({ from: today(), to: today() });
/** The last 30 days in India, today included. */
const lastDays = () => ({ from: indianDate(new Date(Date.now() - 29 * 86_400_000)).date, to: today() });

/** The worker's 'export job started' log lines: which job, on which process. */
function startsIn(output: string): { job: number; pid: number; attempt: number }[] {
  return output
    .split('\n')
    .filter((line) => line.includes('"export job started"'))
    .map((line) => JSON.parse(line))
    .map((entry) => ({ job: entry.exportJob, pid: entry.pid, attempt: entry.attempt }));
}

describe('export jobs on worker processes (BullMQ on Redis, MySQL, S3)', function () {
  let db: Knex;
  let dropDatabase: () => Promise<void>;
  let s3: S3Client;
  let bucket: string;
  let env: Record<string, string>;
  let web: ChildServer;
  const workers: ChildWorker[] = [];
  let admin: string;
  const redisPrefix = `booking-test-${randomBytes(4).toString('hex')}:`;

  const worker = async (extra: Record<string, string> = {}, dataDir?: string) => {
    const started = await startChildWorker({ ...env, ...extra }, dataDir, { compiled: true });
    workers.push(started);
    return started;
  };
  /** Every document must be rendered again by the next full export. */
  const unstoreDocuments = () =>
    db('invoices').update({ pdf_name: null, pdf_size: null, pdf_sha256: null, pdf_stored_at: null });
  const storedPdfs = async () => Number((await db('invoices').whereNotNull('pdf_name').count({ n: '*' }).first())!.n);
  /** What is under the bucket's exports/: complete objects and unfinished multipart uploads. */
  const exportsInBucket = async () => {
    const Prefix = 'app/exports/';
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix }));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix }));
    return { objects: (objects.Contents ?? []).map((o) => o.Key!), uploads: (uploads.Uploads ?? []).length };
  };
  const spoolOf = (w: ChildWorker) => readdirSync(join(w.dataDir, 'spool'));
  const jobRow = (id: number) => db('export_jobs').where({ id }).first();

  before(async function () {
    this.timeout(180_000);
    const mysql = await freshMysqlDatabase();
    dropDatabase = mysql.drop;
    db = knex({ client: 'mysql2', connection: mysql.url, pool: { min: 0, max: 2 } });
    const store = await freshBucket();
    s3 = store.client;
    bucket = store.bucket;
    env = {
      ...s3Env(store),
      DATABASE_URL: mysql.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      // A dead worker's job is picked up within about twice this.
      JOB_LOCK_MS: '2000',
      PDF_WORKERS: '1',
      LOG_LEVEL: 'info',
    };
    web = await startChildServer(env, undefined, { compiled: true });
    admin = await loginAdmin(web.url);
    const { auth } = await registerCustomer(web.url);
    for (let i = 0; i < DOCUMENTS; i++)
      await createConfirmedBooking(web.url, auth, {
        scheduledAt: `2037-03-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:00:00Z`,
        state: i % 3 ? '29' : '27',
      });
    await request(web.url)
      .post('/api/admin/invoices/issue')
      .set('Authorization', admin)
      .send({ from: '2037-03-01', to: '2037-03-31' })
      .expect(200);
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await web?.stop();
    await db?.destroy();
    await dropDatabase?.();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('runs a job on the worker, with progress moving, and its ZIP equals the streamed export', async () => {
    const w1 = await worker();
    const health = (await request(web.url).get('/api/health').expect(200)).body;
    expect(health.drivers).to.include({ jobs: 'bullmq', rendering: 'web' });
    const job = await requestExport(web.url, admin, range());
    const seen = new Set<number>();
    const done = await waitForJob(web.url, admin, job.id, undefined, { seen: (j) => seen.add(j.progress.done) });
    expect(done.state, done.error ?? '').to.equal('completed');
    expect(done.progress).to.deep.equal({ done: DOCUMENTS, total: DOCUMENTS });
    expect(
      [...seen].some((n) => n > 0 && n < DOCUMENTS),
      `progress seen: ${[...seen]}`,
    ).to.equal(true);
    expect(startsIn(w1.output()).map((s) => s.job)).to.deep.equal([job.id]);
    expect(web.output()).to.not.include('export job started');

    const content = await zipContent(await downloadResult(web.url, admin, done));
    expect(Object.keys(content).filter((n) => n.endsWith('.pdf'))).to.have.length(DOCUMENTS);
    expect(content).to.deep.equal(await zipContent(await streamedExport(web.url, admin, range())));
  });

  it('cancelling stops the worker’s renders and leaves no object, upload or spooled part', async () => {
    const [w1] = workers;
    await unstoreDocuments();
    const job = await requestExport(web.url, admin, range());
    await waitForJob(web.url, admin, job.id, (j) => j.state === 'running');
    const cancelled = await request(web.url).delete(job.url).set('Authorization', admin).expect(200);
    expect(cancelled.body.state).to.equal('cancelled');
    const atCancel = await storedPdfs();
    await new Promise((r) => setTimeout(r, 1500));
    const settled = await storedPdfs();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await storedPdfs(), 'no render after the cancel settled').to.equal(settled);
    expect(settled).to.be.at.most(atCancel + 2);
    expect(settled).to.be.below(DOCUMENTS);
    await eventually(async () => (await exportsInBucket()).uploads === 0, 10_000);
    const row = await jobRow(job.id);
    expect((await exportsInBucket()).objects).to.not.include(`app/exports/${row.result_name}`);
    expect(spoolOf(w1!)).to.deep.equal([]);
    expect(row.state).to.equal('cancelled');
  });

  it('a worker killed mid-job (SIGKILL): another worker finishes it, complete and correct, nothing left over', async () => {
    const w1 = workers[0]!;
    await unstoreDocuments();
    const before = await exportsInBucket();
    const job = await requestExport(web.url, admin, range());
    await waitForJob(web.url, admin, job.id, (j) => j.state === 'running');
    w1.child.kill('SIGKILL');
    await w1.exited;
    // The machine's next worker, on the same disk (as a restarted dyno would be).
    const w2 = await worker({}, w1.dataDir);
    const done = await waitForJob(web.url, admin, job.id, undefined, { timeoutMs: 90_000 });
    expect(done.state, done.error ?? '').to.equal('completed');
    expect(done.attempts).to.equal(2);
    expect(startsIn(w2.output()).map((s) => s.job)).to.deep.equal([job.id]);

    const zip = await downloadResult(web.url, admin, done);
    const content = await zipContent(zip);
    expect(Object.keys(content).filter((n) => n.endsWith('.pdf'))).to.have.length(DOCUMENTS);
    expect(content).to.deep.equal(await zipContent(await streamedExport(web.url, admin, range())));
    const after = await exportsInBucket();
    expect(after.uploads, 'no incomplete multipart upload').to.equal(0);
    expect(after.objects.length).to.equal(before.objects.length + 1);
    expect(spoolOf(w2), 'the killed worker’s spooled parts are gone').to.deep.equal([]);
  });

  it('a web process restarted while a job runs does not affect the job', async () => {
    await unstoreDocuments();
    const job = await requestExport(web.url, admin, range());
    await waitForJob(web.url, admin, job.id, (j) => j.state === 'running');
    await web.stop();
    web = await startChildServer(env, undefined, { compiled: true });
    const done = await waitForJob(web.url, admin, job.id);
    expect(done.state, done.error ?? '').to.equal('completed');
    expect(done.attempts).to.equal(1);
  });

  it('two workers never run the same job at once: each job starts once, on one of them', async () => {
    const w3 = await worker();
    const requests = [
      { ...range(), kind: 'full' },
      { ...range(), kind: 'returns' },
      { ...lastDays(), kind: 'returns' },
      { ...lastDays(), kind: 'full' },
    ];
    const ids: number[] = [];
    for (const body of requests) ids.push((await requestExport(web.url, admin, body)).id);
    for (const id of ids) expect((await waitForJob(web.url, admin, id)).state).to.equal('completed');
    const starts = workers.slice(1).flatMap((w) => startsIn(w.output()).filter((s) => ids.includes(s.job)));
    expect(starts.map((s) => s.job).sort((a, b) => a - b)).to.deep.equal(ids);
    expect(starts.every((s) => s.attempt === 1)).to.equal(true);
    await w3.stop();
    expect(w3.child.exitCode, 'an idle worker stops cleanly').to.equal(0);
  });

  it('SIGTERM: the worker hands its running job back, and another worker finishes it', async () => {
    // Only this worker takes jobs now. Its shutdown budget leaves no time to finish (5 s are kept for
    // handing back), so the job it runs is handed back at once.
    await Promise.all(workers.map((w) => w.stop()));
    const leaving = await worker({ SHUTDOWN_TIMEOUT_MS: '5000' });
    await unstoreDocuments();
    const job = await requestExport(web.url, admin, range());
    await waitForJob(web.url, admin, job.id, (j) => j.state === 'running');
    const signalled = Date.now();
    leaving.child.kill('SIGTERM');
    const exit = await leaving.exited;
    expect(exit.code).to.equal(0);
    expect(Date.now() - signalled).to.be.below(5000);
    expect((await readJob(web.url, admin, job.id)).state).to.equal('queued');
    expect(leaving.output()).to.include('export job stopped');

    await worker();
    const done = await waitForJob(web.url, admin, job.id);
    expect(done.state, done.error ?? '').to.equal('completed');
    expect(done.attempts).to.equal(2);
    expect((await exportsInBucket()).uploads).to.equal(0);
  });

  it('PDF_RENDERING=worker: a web process starts no Chromium; its first downloads are rendered by the worker', async () => {
    await Promise.all(workers.map((w) => w.stop()));
    const renderingEnv = { ...env, PDF_RENDERING: 'worker' };
    const renderer = await startChildWorker(renderingEnv, undefined, { compiled: true });
    workers.push(renderer);
    const lean = await startChildServer(renderingEnv, undefined, { compiled: true });
    try {
      expect((await request(lean.url).get('/api/health').expect(200)).body.drivers.rendering).to.equal('worker');
      const { auth } = await registerCustomer(lean.url);
      for (let i = 0; i < 3; i++) {
        const booking = await createConfirmedBooking(lean.url, auth);
        const res = await request(lean.url)
          .get(`/api/bookings/${booking.id}/invoice`)
          .set('Authorization', auth)
          .buffer(true)
          .parse((r, cb) => {
            const chunks: Buffer[] = [];
            r.on('data', (c: Buffer) => chunks.push(c));
            r.on('end', () => cb(null, Buffer.concat(chunks)));
          })
          .expect(200);
        expect(isPdf(res.body)).to.equal(true);
      }
      // No process under the web process; the browser runs under the worker.
      const names = (pids: number[]) => pids.map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
      expect(processTree([lean.child.pid!]).filter((pid) => pid !== lean.child.pid)).to.deep.equal([]);
      expect(names(processTree([renderer.child.pid!])).join(' ')).to.match(/chrom|headless/i);
    } finally {
      await lean.stop();
    }
  });
});
