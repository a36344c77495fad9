// Several real server processes, as deployed on an ephemeral disk: two compiled servers sharing MySQL,
// an S3 bucket (moto) and Redis. Whatever one process does, the other sees at once; limits hold across
// both; invoices are numbered once; a process that stops finishes its downloads while the other serves.
// And the set-up that is not supported (two servers on one SQLite file) fails clearly at start-up.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { get as httpGet } from 'node:http';
import knex from 'knex';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mediaChunks } from '../tools/media.js';
import { upload } from '../tools/multipart.js';
import { startChildServer, type ChildServer } from './helpers/child-server.js';
import { ADMIN, bookingBody } from './helpers/context.js';
import { freshMysqlDatabase } from './helpers/databases.js';
import { freshBucket, s3Env } from './helpers/moto.js';

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const MiB = 1024 * 1024;

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

async function call(base: string, path: string, init: RequestInit & { auth?: string } = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  if (init.auth) headers.set('Authorization', init.auth);
  if (typeof init.body === 'string') headers.set('Content-Type', 'application/json');
  const res = await fetch(base + path, { ...init, headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}
const json = (answer: Answer) => JSON.parse(answer.body.toString());
const post = (base: string, path: string, body: unknown, auth?: string) =>
  call(base, path, { method: 'POST', body: JSON.stringify(body), auth });

/** The headers a file answer carries, which both processes must agree on. */
const FILE_HEADERS = [
  'etag',
  'last-modified',
  'content-type',
  'content-length',
  'content-disposition',
  'accept-ranges',
  'content-range',
];
const fileHeaders = (answer: Answer) => Object.fromEntries(FILE_HEADERS.map((h) => [h, answer.headers.get(h)]));

describe('two server processes on MySQL, S3 and Redis', function () {
  let a: ChildServer;
  let b: ChildServer;
  let dropDatabase: () => Promise<void>;
  let databaseUrl: string;
  let customer: string;
  let admin: string;
  const redisPrefix = `booking-test-${randomBytes(4).toString('hex')}:`;

  before(async () => {
    const mysql = await freshMysqlDatabase();
    dropDatabase = mysql.drop;
    databaseUrl = mysql.url;
    const env = {
      ...s3Env(await freshBucket()),
      DATABASE_URL: mysql.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      LOGIN_RATE_LIMIT: '10',
      UPLOADS_AT_ONCE: '5',
      LOG_LEVEL: 'warn',
    };
    // One after the other: both run the migrations, the second finds them done.
    a = await startChildServer(env, undefined, { compiled: true });
    b = await startChildServer(env, undefined, { compiled: true });
    const registered = await post(a.url, '/api/auth/register', {
      email: 'two-processes@example.test',
      password: 'customer-pass-1',
      name: 'Two Processes',
    });
    expect(registered.status).to.equal(201);
    customer = `Bearer ${json(registered).token}`;
    admin = `Bearer ${json(await post(b.url, '/api/auth/login', ADMIN)).token}`;
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await dropDatabase?.();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('health names the drivers, and readiness checks all three backends', async () => {
    expect(json(await call(a.url, '/api/health')).drivers).to.deep.equal({
      database: 'mysql',
      storage: 's3',
      sharedState: 'redis',
      jobs: 'bullmq',
      rendering: 'web',
    });
    const ready = await call(b.url, '/api/health/ready', { auth: admin });
    expect(ready.status).to.equal(200);
    expect(Object.keys(json(ready).checks)).to.include.members(['database', 'storage', 'redis']);
  });

  it('a file uploaded through A reads the same through B (GET, Range, HEAD, 304); deleted through B, A answers 404 at once', async () => {
    for (const size of [3 * MiB + 7, 16 * 1024]) {
      const stored = await upload(
        `${a.url}/api/uploads/image`,
        [{ filename: 'pan.jpg', content: mediaChunks('jpeg', size) }],
        {
          headers: { Authorization: customer },
        },
      );
      expect(stored.status).to.equal(201);
      const path = `/api/uploads/${stored.body.name}`;
      const read = (server: ChildServer, headers: Record<string, string> = {}) =>
        call(server.url, path, { auth: customer, headers });

      const [fromA, fromB] = [await read(a), await read(b)];
      expect([fromA.status, fromB.status]).to.deep.equal([200, 200]);
      expect(createHash('sha256').update(fromB.body).digest('hex')).to.equal(stored.body.sha256);
      expect(fileHeaders(fromB)).to.deep.equal(fileHeaders(fromA));
      const range = { Range: 'bytes=100-4195' };
      const [partA, partB] = [await read(a, range), await read(b, range)];
      expect([partA.status, partB.status]).to.deep.equal([206, 206]);
      expect(Buffer.compare(partA.body, partB.body)).to.equal(0);
      expect(fileHeaders(partB)).to.deep.equal(fileHeaders(partA));
      const headB = await call(b.url, path, { method: 'HEAD', auth: customer });
      expect(headB.headers.get('etag')).to.equal(`"${stored.body.sha256}"`);
      // (fetch adds Cache-Control: no-cache to a conditional request unless it has one: a browser's
      // revalidation sends max-age=0.)
      const revalidate = { 'If-None-Match': `"${stored.body.sha256}"`, 'Cache-Control': 'max-age=0' };
      expect((await read(b, revalidate)).status).to.equal(304);

      // A has the row (and, for the small file, its bytes) cached now; B deletes.
      expect((await call(b.url, path, { method: 'DELETE', auth: customer })).status).to.equal(204);
      expect((await read(a)).status, `${size} bytes, read through A after B deleted it`).to.equal(404);
      expect((await read(b)).status).to.equal(404);
    }
  });

  it('20 wrong logins spread over A and B: the limit (10) is counted once, and both answer 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const server = i % 2 ? b : a;
      statuses.push(
        (await post(server.url, '/api/auth/login', { email: 'nobody@example.test', password: 'wrong-password' }))
          .status,
      );
    }
    // The admin's login (through B, in before) was the first of this address's ten.
    expect(statuses.slice(0, 9)).to.deep.equal(Array(9).fill(401));
    expect(statuses.slice(9)).to.deep.equal(Array(11).fill(429));
    // Counted per process, each would have allowed all ten of its own.
  });

  it('40 concurrent first downloads of 10 bookings\u2019 invoices over A and B: 10 numbers, consecutive serials, no 5xx', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) {
      const created = await post(i % 2 ? a.url : b.url, '/api/bookings', bookingBody(), customer);
      expect(created.status).to.equal(201);
      ids.push(json(created).id);
      const confirmed = await call(i % 2 ? b.url : a.url, `/api/admin/bookings/${json(created).id}`, {
        method: 'PATCH',
        body: JSON.stringify({ status: 'confirmed' }),
        auth: admin,
      });
      expect(confirmed.status).to.equal(200);
    }
    const downloads = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const id = ids[i % 10]!;
        return call(i % 2 ? a.url : b.url, `/api/bookings/${id}/invoice`, { auth: customer }).then((answer) => ({
          id,
          answer,
        }));
      }),
    );
    const statuses = downloads.map((d) => d.answer.status);
    expect(
      statuses.filter((s) => s >= 500),
      'no 5xx',
    ).to.deep.equal([]);
    expect(statuses.every((s) => s === 200)).to.equal(true);
    const numberOf = new Map<number, Set<string>>();
    for (const { id, answer } of downloads) {
      const name = answer.headers.get('content-disposition')!;
      numberOf.set(id, (numberOf.get(id) ?? new Set()).add(name));
    }
    expect(
      [...numberOf.values()].every((names) => names.size === 1),
      'one number per booking',
    ).to.equal(true);

    const db = knex({ client: 'mysql2', connection: databaseUrl });
    try {
      const rows = await db('invoices').select('booking_id', 'serial').orderBy('serial');
      expect(rows.map((r) => r.booking_id).sort()).to.deep.equal([...ids].sort());
      const serials = rows.map((r) => Number(r.serial));
      expect(serials).to.deep.equal(serials.map((_, i) => serials[0]! + i));
    } finally {
      await db.destroy();
    }
  });

  it('SIGTERM to A during a slow download: the download completes, and B keeps serving', async () => {
    const size = 12 * MiB;
    const stored = await upload(
      `${b.url}/api/uploads/video`,
      [{ filename: 'tour.mp4', content: mediaChunks('mp4', size) }],
      {
        headers: { Authorization: customer },
      },
    );
    expect(stored.status).to.equal(201);
    const path = `/api/uploads/${stored.body.name}`;
    const download = new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
      httpGet(`${a.url}${path}`, { headers: { Authorization: customer } }, (res) => {
        expect(res.statusCode).to.equal(200);
        const hash = createHash('sha256');
        let bytes = 0;
        let signalled = false;
        // About 4 MiB/s: three seconds of download, with A told to stop after the first chunk.
        res.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          bytes += chunk.length;
          res.pause();
          setTimeout(() => res.resume(), 15);
          if (!signalled) {
            signalled = true;
            a.child.kill('SIGTERM');
          }
        });
        res.on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
        res.on('error', reject);
      }).on('error', reject);
    });
    // While A drains, B answers.
    await new Promise((r) => setTimeout(r, 500));
    expect((await call(b.url, '/api/health/ready')).status).to.equal(200);
    expect((await call(b.url, path, { auth: customer, headers: { Range: 'bytes=0-99' } })).status).to.equal(206);
    const done = await download;
    expect(done).to.deep.equal({ bytes: size, sha256: stored.body.sha256 });
    expect(await a.exited).to.deep.equal({ code: 0, signal: null });
    expect((await call(b.url, path, { auth: customer })).status).to.equal(200);
  });
});

describe('two servers on one SQLite file (not supported)', () => {
  it('the second fails at start-up, saying why and what to do', async () => {
    const first = await startChildServer({ LOG_LEVEL: 'warn' });
    try {
      const second = await startChildServer({ LOG_LEVEL: 'warn' }, first.dataDir).catch((err: Error) => err);
      expect(second).to.be.instanceOf(Error);
      expect((second as Error).message)
        .to.match(/is in use by another process/)
        .and.match(/DATABASE_URL/);
      // The first is unaffected.
      expect((await fetch(`${first.url}/api/health/ready`)).status).to.equal(200);
    } finally {
      await first.stop();
    }
  });
});
