// The S3 driver's own promises, on moto: reads go to the store only for bytes (conditional requests are
// decided from the row), ranges are asked of S3, a client that leaves closes the store's socket, faults
// become 503 storage_unavailable in bounded time, and the start-up sweeps remove crash leftovers.
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { createServer, get as httpGet, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import request from 'supertest';
import type { ByteRange } from '../server/storage/storage.js';
import { SPOOL_PREFIX } from '../server/storage/s3/part-spool.js';
import { mediaChunks } from '../tools/media.js';
import { upload } from '../tools/multipart.js';
import { capturedLogger, registerCustomer, startContext, type TestContext } from './helpers/context.js';
import { freezableProxy } from './helpers/freezable-proxy.js';
import { freshBucket, motoEndpoint, s3Env } from './helpers/moto.js';
import { eventually, listen } from './helpers/server.js';
import { STORE_KINDS, storeEnv, storeProbe } from './helpers/stores.js';

const MiB = 1024 * 1024;

async function uploadImage(ctx: TestContext, auth: string, size: number) {
  const http = await listen(ctx.app);
  try {
    return await upload(
      `${http.url}/api/uploads/image`,
      [{ filename: 'scan.jpg', content: mediaChunks('jpeg', size) }],
      {
        headers: { Authorization: auth },
      },
    );
  } finally {
    await http.close();
  }
}

describe('S3 storage: reading', () => {
  let ctx: TestContext;
  let auth: string;
  const reads: (ByteRange | undefined)[] = [];
  const bodies: Readable[] = [];
  let stats = 0;

  before(async () => {
    ctx = await startContext('sqlite', { ...s3Env(await freshBucket()), UPLOADS_MEMORY_CACHE_MB: '0' });
    auth = (await registerCustomer(ctx.app)).auth;
    // Watch what the routes ask of the store.
    const storage = ctx.rt.storage;
    const read = storage.read.bind(storage);
    storage.read = async (name, range) => {
      reads.push(range);
      const body = await read(name, range);
      bodies.push(body);
      return body;
    };
    const stat = storage.stat.bind(storage);
    storage.stat = async (name) => (stats++, stat(name));
  });
  after(() => ctx?.close());

  it('passes Range to GetObject; HEAD, 304 and 412 are answered from the row without asking S3', async () => {
    const file = (await uploadImage(ctx, auth, 2 * MiB)).body;
    reads.length = 0;
    const part = await request(ctx.app).get(file.url).set('Range', 'bytes=1000-1999').expect(206);
    expect(part.headers['content-range']).to.equal(`bytes 1000-1999/${2 * MiB}`);
    expect(reads).to.deep.equal([{ start: 1000, end: 1999 }]);

    reads.length = 0;
    await request(ctx.app).head(file.url).expect(200);
    await request(ctx.app).get(file.url).set('If-None-Match', `"${file.sha256}"`).expect(304);
    await request(ctx.app).get(file.url).set('If-Match', '"another"').expect(412);
    await request(ctx.app)
      .get(file.url)
      .set('Range', `bytes=${4 * MiB}-`)
      .expect(416);
    expect(reads, 'GetObject calls').to.deep.equal([]);
    expect(stats, 'HeadObject calls').to.equal(0);
  });

  it('back-pressure holds while a client is slow, and a client that leaves destroys the S3 body and its socket', async () => {
    const file = (await uploadImage(ctx, auth, 16 * MiB)).body;
    const http = await listen(ctx.app);
    try {
      bodies.length = 0;
      const client = await new Promise<IncomingMessage>((resolve, reject) => {
        httpGet(`${http.url}${file.url}`, (res: IncomingMessage) => {
          res.once('data', () => {
            res.pause(); // one chunk read, then the client stops reading
            resolve(res);
          });
        }).on('error', reject);
      });
      await new Promise((r) => setTimeout(r, 600));
      const body = bodies[0]!;
      // The socket buffers filled and the pipe stopped pulling from S3: nothing piles up in memory.
      expect(body.readableFlowing, 'the S3 body is paused').to.equal(false);
      expect(body.readableLength).to.be.at.most(MiB);
      client.destroy(); // and gone
      await eventually(() => body.destroyed);
      const socket = (body as IncomingMessage).socket;
      await eventually(() => socket === null || socket.destroyed);
    } finally {
      await http.close();
    }
  });
});

for (const store of STORE_KINDS) {
  describe(`a row whose stored object is gone (${store} storage)`, () => {
    it('answers 404 and logs an error naming the object', async () => {
      const { logger, lines } = capturedLogger();
      const ctx = await startContext(
        'sqlite',
        { ...(await storeEnv(store)), UPLOADS_MEMORY_CACHE_MB: '0' },
        { logger },
      );
      try {
        const { auth } = await registerCustomer(ctx.app);
        const file = (await uploadImage(ctx, auth, 100 * 1024)).body;
        await storeProbe(ctx.rt).remove(file.name);
        const res = await request(ctx.app).get(file.url).expect(404);
        expect(res.body.error.code).to.equal('not_found');
        expect(res.headers['content-length']).to.equal(String(Buffer.byteLength(JSON.stringify(res.body))));
        const logged = lines
          .map((l) => JSON.parse(l))
          .find((l) => l.level === 50 && JSON.stringify(l).includes(file.name));
        expect(logged, 'an error line naming the object').to.not.equal(undefined);
      } finally {
        await ctx.close();
      }
    });
  });

  describe(`the orphan sweep (${store} storage)`, () => {
    it('removes objects without a row once older than ORPHAN_SWEEP_AGE_S, and keeps every uploaded file', async () => {
      const env = await storeEnv(store);
      const ctx = await startContext('sqlite', { ...env, ORPHAN_SWEEP_AGE_S: '0' });
      try {
        const { auth } = await registerCustomer(ctx.app);
        const kept = (await uploadImage(ctx, auth, 4096)).body.name as string;
        // An object whose row never came (a crash between the store and the insert).
        const orphan = `${'ab'.repeat(16)}.jpg`;
        await ctx.rt.storage.put(orphan, (await import('node:stream')).Readable.from([Buffer.alloc(10)]));
        expect(await storeProbe(ctx.rt).names()).to.include(orphan);
        await new Promise((r) => setTimeout(r, 1100)); // S3 dates are whole seconds
        expect(await ctx.rt.sweepOrphans()).to.equal(1);
        expect(await storeProbe(ctx.rt).names()).to.deep.equal([kept]);
      } finally {
        await ctx.close();
      }
    });

    it('leaves young objects alone (a write in progress elsewhere)', async () => {
      const ctx = await startContext('sqlite', await storeEnv(store)); // default age: an hour
      try {
        const orphan = `${'cd'.repeat(16)}.png`;
        await ctx.rt.storage.put(orphan, (await import('node:stream')).Readable.from([Buffer.alloc(10)]));
        expect(await ctx.rt.sweepOrphans()).to.equal(0);
        expect(await storeProbe(ctx.rt).names()).to.deep.equal([orphan]);
      } finally {
        await ctx.close();
      }
    });
  });
}

describe('S3 storage: leftovers of a crashed process', () => {
  it('at start-up, aborts multipart uploads older than S3_ABANDONED_UPLOAD_AGE_S and removes dead spooled parts', async () => {
    const bucket = await freshBucket();
    const Key = `${bucket.prefix}uploads/${'ef'.repeat(16)}.mp4`;
    await bucket.client.send(new CreateMultipartUploadCommand({ Bucket: bucket.bucket, Key }));
    const listUploads = async () =>
      (await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.bucket }))).Uploads ?? [];
    expect(await listUploads()).to.have.length(1);

    // (moto dates every multipart upload 2010-11-10, so the age rule itself cannot be watched keeping a
    // young upload here; with age 0 every upload present is a leftover.)
    const { logger, lines } = capturedLogger();
    const ctx = await startContext('sqlite', { ...s3Env(bucket), S3_ABANDONED_UPLOAD_AGE_S: '0' }, { logger });
    try {
      expect(await listUploads()).to.deep.equal([]);
      const line = lines.map((l) => JSON.parse(l)).find((l) => /unfinished uploads/.test(l.msg));
      expect(line).to.include({ uploads: 1, driver: 's3' });
      // A part file of a process that is gone is removed at the next start.
      const dead = join(ctx.rt.config.spoolDir, `${SPOOL_PREFIX}999999-00000000-0000-0000-0000-000000000000`);
      writeFileSync(dead, 'x');
      expect(await ctx.rt.storage.sweepPending()).to.equal(1);
    } finally {
      await ctx.close();
    }
  });
});

/** An S3 endpoint that answers every request with a 500, as an overloaded or broken store does. */
async function brokenS3(): Promise<{ endpoint: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(500, { 'Content-Type': 'application/xml' });
    res.end('<?xml version="1.0"?><Error><Code>InternalError</Code><Message>down</Message></Error>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('S3 storage faults: 503 storage_unavailable with Retry-After, in bounded time', () => {
  const TIMEOUT_MS = 500;
  const faultEnv = (bucket: Awaited<ReturnType<typeof freshBucket>>, endpoint: string) => ({
    ...s3Env(bucket),
    S3_ENDPOINT: endpoint,
    S3_TIMEOUT_MS: String(TIMEOUT_MS),
    S3_MAX_ATTEMPTS: '2',
    UPLOADS_MEMORY_CACHE_MB: '0',
  });
  const expectUnavailable = (res: { status: number; headers: Record<string, unknown>; body: any }) => {
    expect(res.status, JSON.stringify(res.body)).to.equal(503);
    expect(res.body.error.code).to.equal('storage_unavailable');
    expect(res.headers['retry-after']).to.equal('5');
  };

  it('a store that stops answering (frozen): uploads, reads and readiness fail fast, and recover on thaw', async () => {
    const bucket = await freshBucket();
    const moto = new URL(await motoEndpoint());
    const proxy = await freezableProxy(moto.hostname, Number(moto.port));
    const ctx = await startContext('sqlite', faultEnv(bucket, `http://127.0.0.1:${proxy.port}`));
    const http = await listen(ctx.app);
    try {
      const { auth } = await registerCustomer(ctx.app);
      const stored = await upload(
        `${http.url}/api/uploads/image`,
        [{ filename: 'a.jpg', content: mediaChunks('jpeg', 200 * 1024) }],
        {
          headers: { Authorization: auth },
        },
      );
      expect(stored.status).to.equal(201);

      proxy.freeze();
      const started = Date.now();
      expectUnavailable(
        await upload(
          `${http.url}/api/uploads/image`,
          [{ filename: 'b.jpg', content: mediaChunks('jpeg', 300 * 1024) }],
          {
            headers: { Authorization: auth },
          },
        ),
      );
      expectUnavailable(await request(ctx.app).get(stored.body.url));
      // Two attempts of TIMEOUT_MS each, and a back-off, per request: nowhere near a router's 30 s.
      expect(Date.now() - started).to.be.below(8 * TIMEOUT_MS + 2_000);
      const ready = await request(ctx.app).get('/api/health/ready').expect(503);
      expect(ready.body.failed).to.include('storage');
      expect(Number((await ctx.rt.db('uploads').count({ n: '*' }))[0]!.n)).to.equal(1);

      proxy.thaw();
      await eventually(async () => (await request(ctx.app).get('/api/health/ready')).status === 200, 15_000);
      await request(ctx.app).get(stored.body.url).expect(200);
    } finally {
      proxy.thaw();
      await http.close();
      await ctx.close();
      await proxy.close();
    }
  });

  it('a store that refuses connections, or answers 500: 503, never 500', async () => {
    const bucket = await freshBucket();
    const broken = await brokenS3();
    for (const endpoint of [broken.endpoint, 'http://127.0.0.1:9']) {
      const ctx = await startContext('sqlite', faultEnv(bucket, endpoint)).catch((err) => err);
      if (ctx instanceof Error) throw ctx;
      try {
        const { auth } = await registerCustomer(ctx.app);
        const http = await listen(ctx.app);
        try {
          expectUnavailable(
            await upload(
              `${http.url}/api/uploads/image`,
              [{ filename: 'b.jpg', content: mediaChunks('jpeg', 64 * 1024) }],
              {
                headers: { Authorization: auth },
              },
            ),
          );
        } finally {
          await http.close();
        }
        expect((await request(ctx.app).get('/api/health/ready')).body.failed).to.include('storage');
      } finally {
        await ctx.close();
      }
    }
    expect(broken.requests(), 'the SDK retried the 500s').to.be.at.least(2);
    await broken.close();
  });
});
