// Exports at scale, as several processes run them: a web process and a worker process sharing MySQL,
// Redis and one local data folder. 5,000 stored invoices (500 dated one day, 4,500 the next): the
// streamed export and the export job over 500 and 5,000, with the worker's RSS growth; then the web
// process's memory and first-download p95 with rendering in the web process (today's) and on the worker.
//
// Set-up shortcut, said here so it is not mistaken for a measured path: one invoice is rendered, and
// the other 4,999 rows are given copies of its PDF (each its own stored object), and their issue dates
// are moved to the two days. The export reads every object from the store as it would in production.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import knex from 'knex';
import { Redis } from 'ioredis';
import {
  adminToken,
  benchDatabase,
  booking,
  customer,
  fmt,
  get,
  json,
  load,
  MiB,
  peakRss,
  resetPeakRss,
  serverMemory,
  sleep,
  startServer,
  table,
  verdict,
  ADMIN,
  SERVER_NODE_FLAGS,
} from './lib.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOTAL = 5_000;
const SMALL = 500;
const DAY_SMALL = '2031-06-01';
const DAY_REST = '2031-06-02';

function drain(url: string, auth: string): Promise<{ seconds: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let bytes = 0;
    httpGet(url, { headers: { Authorization: auth } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ seconds: (performance.now() - started) / 1000, bytes }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** The compiled worker process, sharing the web process's settings and data folder. */
async function startWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, 'dist/server/worker.js'], {
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  while (!output.includes('booking-core worker running')) {
    if (child.exitCode !== null) throw new Error(`worker exited: ${output}`);
    await sleep(50);
  }
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function runJob(url: string, auth: string, from: string, to: string) {
  const started = performance.now();
  const job = await json(`${url}/api/admin/exports`, { method: 'POST', auth, body: { from, to } });
  for (;;) {
    const state = await json(`${url}/api/admin/exports/${job.id}`, { auth });
    if (state.state === 'completed') return { seconds: (performance.now() - started) / 1000, size: state.result.size };
    if (!['queued', 'running'].includes(state.state)) throw new Error(`export job ${state.state}: ${state.error}`);
    await sleep(100);
  }
}

export async function benchExport(): Promise<void> {
  const database = await benchDatabase('booking_bench_export');
  const dataDir = mkdtempSync(join(tmpdir(), 'booking-bench-export-'));
  const prefix = `booking-bench-${randomBytes(3).toString('hex')}:`;
  const shared = {
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    DATA_DIR: dataDir,
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
  };
  const db = knex({ client: 'mysql2', connection: database.url, pool: { min: 0, max: 2 } });
  let web = await startServer(shared);
  const worker = await startWorker(shared);
  try {
    const auth = await customer(web.url);
    const admin = await adminToken(web.url);
    const ids: number[] = [];
    await load(8, TOTAL, async (i) => {
      ids.push(
        await booking(web.url, auth, `2031-05-${String(1 + (i % 28)).padStart(2, '0')}T06:00:00Z`, i % 3 ? '29' : '27'),
      );
      return 200;
    });
    await json(`${web.url}/api/admin/invoices/issue`, {
      method: 'POST',
      auth: admin,
      body: { from: '2031-05-01', to: '2031-05-31' },
    });
    // One real render, then copies (see the top of this file).
    const first = await db('invoices').orderBy('id').first();
    await get(`${web.url}/api/admin/bookings/${first.booking_id}/invoice`, { Authorization: admin });
    const stored = await db('invoices').where({ id: first.id }).first();
    const documentsDir = join(dataDir, 'documents');
    const rows = await db('invoices').orderBy('id').select('id');
    for (const [n, row] of rows.entries()) {
      const day = n < SMALL ? DAY_SMALL : DAY_REST;
      const update: Record<string, unknown> = { issued_at: `${day}T06:00:00.000Z` };
      if (row.id !== first.id) {
        const name = `${randomBytes(16).toString('hex')}.pdf`;
        copyFileSync(join(documentsDir, stored.pdf_name), join(documentsDir, name));
        Object.assign(update, {
          pdf_name: name,
          pdf_size: stored.pdf_size,
          pdf_sha256: stored.pdf_sha256,
          pdf_stored_at: stored.pdf_stored_at,
        });
      }
      await db('invoices').where({ id: row.id }).update(update);
    }

    const rowsOut = [];
    const figures: Record<string, { rate: number; growth?: number }> = {};
    for (const [count, to] of [
      [SMALL, DAY_SMALL],
      [TOTAL, DAY_REST],
    ] as const) {
      const streamed = await drain(`${web.url}/api/admin/invoices/export?from=${DAY_SMALL}&to=${to}`, admin);
      const before = serverMemory(worker.pid).nodeRss;
      resetPeakRss(worker.pid);
      const job = await runJob(web.url, admin, DAY_SMALL, to);
      const growth = peakRss(worker.pid) - before;
      figures[`job ${count}`] = { rate: count / job.seconds, growth };
      figures[`streamed ${count}`] = { rate: count / streamed.seconds };
      rowsOut.push(
        {
          export: `streamed, ${count}`,
          'total time': `${fmt.n(streamed.seconds)} s`,
          'documents/s': fmt.n(count / streamed.seconds),
          'worker RSS peak over start': '-',
          size: fmt.mib(streamed.bytes),
        },
        {
          export: `job, ${count}`,
          'total time': `${fmt.n(job.seconds)} s`,
          'documents/s': fmt.n(count / job.seconds),
          'worker RSS peak over start': fmt.deltaMib(growth),
          size: fmt.mib(job.size),
        },
      );
    }
    table('Export of stored invoices: streamed (web) and as a job (worker)', rowsOut);
    const jobVsStreamed = (n: number) => fmt.ratio(figures[`job ${n}`]!.rate / figures[`streamed ${n}`]!.rate);
    console.log(
      `job rate / streamed rate: ${jobVsStreamed(SMALL)} (500), ${jobVsStreamed(TOTAL)} (5,000); the job also writes ` +
        'the ZIP durably to the store (fsync) and is seen through 100 ms polling',
    );

    // Rendering in the web process (today's) or on the worker: first downloads of fresh invoices, each
    // side on a freshly started web process (the exports above would otherwise count in its memory).
    const fresh = async (server: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(await booking(server, auth, '2031-07-01T06:00:00Z'));
      return out;
    };
    const firstDownloads = async (server: string, bookings: number[]) =>
      load(2, bookings.length, (i) => get(`${server}/api/bookings/${bookings[i]}/invoice`, { Authorization: auth }));
    const DOWNLOADS = 200;
    await web.stop();
    web = await startServer(shared);
    await firstDownloads(web.url, await fresh(web.url, 10)); // warms this process's browser
    const inWeb = await firstDownloads(web.url, await fresh(web.url, DOWNLOADS));
    const webMemory = serverMemory(web.pid);
    await web.stop();
    await worker.stop();
    const renderingWorker = await startWorker({ ...shared, PDF_RENDERING: 'worker' });
    web = await startServer({ ...shared, PDF_RENDERING: 'worker' });
    await firstDownloads(web.url, await fresh(web.url, 10)); // warms the worker's browser
    const onWorker = await firstDownloads(web.url, await fresh(web.url, DOWNLOADS));
    const leanMemory = serverMemory(web.pid);
    const workerMemory = serverMemory(renderingWorker.pid);
    await renderingWorker.stop();
    const total = (m: typeof webMemory) => m.nodeRss + m.chromeRss;
    table(`First invoice downloads (${DOWNLOADS}, concurrency 2): rendering in the web process vs on the worker`, [
      {
        rendering: 'web process (today)',
        p50: fmt.ms(inWeb.p50),
        p95: fmt.ms(inWeb.p95),
        'invoices/s': fmt.n(inWeb.rps),
        errors: inWeb.errors,
        'web node RSS': fmt.mib(webMemory.nodeRss),
        'web Chromium RSS': fmt.mib(webMemory.chromeRss),
        'web total': fmt.mib(total(webMemory)),
      },
      {
        rendering: 'worker',
        p50: fmt.ms(onWorker.p50),
        p95: fmt.ms(onWorker.p95),
        'invoices/s': fmt.n(onWorker.rps),
        errors: onWorker.errors,
        'web node RSS': fmt.mib(leanMemory.nodeRss),
        'web Chromium RSS': fmt.mib(leanMemory.chromeRss),
        'web total': `${fmt.mib(total(leanMemory))} (worker: ${fmt.mib(total(workerMemory))})`,
      },
    ]);
    const webTotal = total;

    const job500 = figures[`job ${SMALL}`]!;
    const job5000 = figures[`job ${TOTAL}`]!;
    table('Export targets', [
      verdict(
        'job worker RSS peak < +50 MiB, flat (within 10 MiB) from 500 to 5,000',
        job5000.growth! < 50 * MiB && job5000.growth! - job500.growth! < 10 * MiB,
        `${fmt.deltaMib(job500.growth!)} (500), ${fmt.deltaMib(job5000.growth!)} (5,000)`,
      ),
      verdict(
        'first-download p95 with the worker rendering within today’s (<= 1.1x)',
        onWorker.p95 <= inWeb.p95 * 1.1,
        `${fmt.ms(onWorker.p95)} vs ${fmt.ms(inWeb.p95)} (${fmt.ratio(onWorker.p95 / inWeb.p95)})`,
      ),
      verdict(
        'web process without Chromium: no browser, total below today’s',
        leanMemory.chromeRss === 0 && webTotal(leanMemory) < webTotal(webMemory),
        `${fmt.mib(webTotal(leanMemory))} vs ${fmt.mib(webTotal(webMemory))}`,
      ),
    ]);
  } finally {
    await web.stop().catch(() => {});
    await worker.stop().catch(() => {});
    await db.destroy();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  }
}
