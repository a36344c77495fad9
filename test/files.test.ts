import { expect } from 'chai';
import request from 'supertest';
import { mediaBuffer, mediaChunks } from '../tools/media.js';
import { upload } from '../tools/multipart.js';
import { loginAdmin, registerCustomer, startContext, type TestContext } from './helpers/context.js';
import { STORE_KINDS, storeEnv, storeProbe, withContextOn } from './helpers/stores.js';
import { getBinary } from './helpers/pdf.js';
import { listen } from './helpers/server.js';

const SIZE = 3 * 1024 * 1024 + 123;

async function storeImage(ctx: TestContext, auth: string, size = SIZE) {
  const http = await listen(ctx.app);
  try {
    const res = await upload(
      `${http.url}/api/uploads/image`,
      [{ filename: 'scan.jpg', content: mediaChunks('jpeg', size) }],
      { headers: { Authorization: auth } },
    );
    expect(res.status).to.equal(201);
    return res.body as { name: string; url: string; sha256: string };
  } finally {
    await http.close();
  }
}

for (const store of STORE_KINDS)
  describe(`serving uploaded files, send-style (${store} storage)`, () => {
    let ctx: TestContext;
    let file: { name: string; url: string; sha256: string };
    const bytes = mediaBuffer('jpeg', SIZE);
    const get = (path = file.url) => getBinary(ctx.app, path);

    before(async () => {
      ctx = await startContext('sqlite', await storeEnv(store));
      file = await storeImage(ctx, (await registerCustomer(ctx.app)).auth);
    });
    after(() => ctx?.close());

    it('serves the whole file with validators and caching headers', async () => {
      const res = await get().expect(200);
      expect(Buffer.compare(res.body, bytes)).to.equal(0);
      expect(res.headers).to.include({
        'accept-ranges': 'bytes',
        'content-length': String(SIZE),
        'content-type': 'image/jpeg',
        etag: `"${file.sha256}"`,
        'x-content-type-options': 'nosniff',
      });
      // Read through the signed URL the upload answered with: kept privately, never past the signature.
      const maxAge = Number(/^private, max-age=(\d+)$/.exec(res.headers['cache-control']!)?.[1]);
      expect(maxAge).to.be.within(3500, 3600);
      expect(res.headers['content-disposition']).to.equal('inline; filename=scan.jpg');
      expect(Date.parse(res.headers['last-modified']!)).to.be.greaterThan(0);
    });

    it('answers HEAD with the headers and no body', async () => {
      const res = await request(ctx.app).head(file.url).expect(200);
      expect(res.headers['content-length']).to.equal(String(SIZE));
      expect(res.headers.etag).to.equal(`"${file.sha256}"`);
      expect(res.text ?? '').to.equal('');
    });

    const ranges: [string, number, number][] = [
      ['bytes=0-1048575', 0, 1048575],
      ['bytes=1048576-2097151', 1048576, 2097151],
      ['bytes=-500', SIZE - 500, SIZE - 1],
      ['bytes=3000000-', 3000000, SIZE - 1],
      ['bytes=10-20,15-30', 10, 30], // overlapping ranges are combined into one
    ];
    for (const [header, start, end] of ranges) {
      it(`answers Range: ${header} with 206 and exactly bytes ${start}-${end}`, async () => {
        const res = await get().set('Range', header).expect(206);
        expect(res.headers['content-range']).to.equal(`bytes ${start}-${end}/${SIZE}`);
        expect(res.headers['content-length']).to.equal(String(end - start + 1));
        expect(Buffer.compare(res.body, bytes.subarray(start, end + 1))).to.equal(0);
      });
    }

    it('answers an unsatisfiable range with 416 and Content-Range: bytes */SIZE', async () => {
      const res = await request(ctx.app).get(file.url).set('Range', `bytes=${SIZE}-`).expect(416);
      expect(res.headers['content-range']).to.equal(`bytes */${SIZE}`);
      expect(res.body.error.code).to.equal('range_not_satisfiable');
    });

    it('answers malformed ranges, other units and disjoint multiple ranges with the whole file', async () => {
      for (const header of ['bytes=abc', 'items=0-5', 'bytes=0-1,100-200']) {
        const res = await get().set('Range', header).expect(200);
        expect(res.body.length).to.equal(SIZE);
      }
    });

    it('honours If-Range: a matching ETag gets the range, a stale one the whole file', async () => {
      const match = await get().set('Range', 'bytes=0-9').set('If-Range', `"${file.sha256}"`).expect(206);
      expect(match.body.length).to.equal(10);
      const stale = await get().set('Range', 'bytes=0-9').set('If-Range', '"something-else"').expect(200);
      expect(stale.body.length).to.equal(SIZE);
      const oldDate = await get()
        .set('Range', 'bytes=0-9')
        .set('If-Range', 'Mon, 01 Jan 2001 00:00:00 GMT')
        .expect(200);
      expect(oldDate.body.length).to.equal(SIZE);
    });

    it('answers If-None-Match (single, list, *) and If-Modified-Since with 304, ETag and no body', async () => {
      for (const value of [`"${file.sha256}"`, `"other", "${file.sha256}"`, '*', `W/"${file.sha256}"`]) {
        const res = await request(ctx.app).get(file.url).set('If-None-Match', value).expect(304);
        expect(res.headers.etag).to.equal(`"${file.sha256}"`);
        expect(res.text ?? '').to.equal('');
      }
      await request(ctx.app)
        .get(file.url)
        .set('If-Modified-Since', new Date(Date.now() + 60_000).toUTCString())
        .expect(304);
      await request(ctx.app).get(file.url).set('If-None-Match', '"other"').expect(200);
    });

    it('answers a failed If-Match with 412', async () => {
      await request(ctx.app).get(file.url).set('If-Match', '"other"').expect(412);
      await request(ctx.app).get(file.url).set('If-Match', `"${file.sha256}"`).expect(200);
    });

    it('never serves anything outside the upload folder', async () => {
      const attempts = [
        '/api/uploads/..%2F..%2Fpackage.json',
        '/api/uploads/%2e%2e%2fjwt-secret',
        '/api/uploads/..%5Cjwt-secret',
        '/api/uploads/.partial-0123456789abcdef',
        '/api/uploads/.env',
        `/api/uploads/${file.name}%00.txt`,
        `/api/uploads/${file.name.toUpperCase()}`,
        '/api/uploads/jwt-secret',
      ];
      for (const path of attempts) {
        const res = await request(ctx.app).get(path);
        expect(res.status, path).to.be.oneOf([400, 404]);
        expect(res.body.error?.code, path).to.be.a('string');
      }
    });
  });

for (const store of STORE_KINDS)
  describe(`small files served from memory, UPLOADS_MEMORY_CACHE_MB (${store} storage)`, () => {
    const SMALL = 4096;
    const removeFromDisk = (ctx: TestContext, name: string) => storeProbe(ctx.rt).remove(name);
    const getBytes = (ctx: TestContext, url: string) => getBinary(ctx.app, url);
    const withContext = async <T>(env: Record<string, string>, fn: (ctx: TestContext) => Promise<T>) =>
      withContextOn(store, env, fn);

    it('keeps serving a small file, ranges and validators included, once its bytes are in memory', () =>
      withContext({}, async (ctx) => {
        const owner = await registerCustomer(ctx.app);
        const file = await storeImage(ctx, owner.auth, SMALL);
        const bytes = mediaBuffer('jpeg', SMALL);
        await getBytes(ctx, file.url).expect(200); // first read fills the cache
        await removeFromDisk(ctx, file.name); // from now on only memory can answer

        const whole = await getBytes(ctx, file.url).expect(200);
        expect(Buffer.compare(whole.body, bytes)).to.equal(0);
        expect(whole.headers['content-length']).to.equal(String(SMALL));
        const part = await getBytes(ctx, file.url).set('Range', 'bytes=100-199').expect(206);
        expect(part.headers['content-range']).to.equal(`bytes 100-199/${SMALL}`);
        expect(Buffer.compare(part.body, bytes.subarray(100, 200))).to.equal(0);
        await request(ctx.app).get(file.url).set('If-None-Match', `"${file.sha256}"`).expect(304);

        // Deleting through the API evicts it.
        await request(ctx.app).delete(file.url).set('Authorization', owner.auth).expect(204);
        await request(ctx.app).get(file.url).expect(404);
      }));

    it('streams files over 64 KiB from storage, and every file when the cache is off', async () => {
      await withContext({}, async (ctx) => {
        const file = await storeImage(ctx, (await registerCustomer(ctx.app)).auth, 64 * 1024 + 1);
        await getBytes(ctx, file.url).expect(200);
        await removeFromDisk(ctx, file.name);
        expect((await request(ctx.app).get(file.url).expect(404)).body.error.code).to.equal('not_found');
      });
      await withContext({ UPLOADS_MEMORY_CACHE_MB: '0' }, async (ctx) => {
        const file = await storeImage(ctx, (await registerCustomer(ctx.app)).auth, SMALL);
        await getBytes(ctx, file.url).expect(200);
        await removeFromDisk(ctx, file.name);
        await request(ctx.app).get(file.url).expect(404);
      });
    });

    it('holds no more than UPLOADS_MEMORY_CACHE_MB, least recently used out', () =>
      withContext({ UPLOADS_MEMORY_CACHE_MB: '1' }, async (ctx) => {
        const auth = (await registerCustomer(ctx.app)).auth;
        const size = 60 * 1024;
        const files = [];
        for (let i = 0; i < 20; i++) files.push(await storeImage(ctx, auth, size));
        for (const file of files) await getBytes(ctx, file.url).expect(200);
        for (const file of files) await removeFromDisk(ctx, file.name);
        const stillServed = [];
        for (const file of files) stillServed.push((await request(ctx.app).get(file.url)).status === 200);
        const held = stillServed.filter(Boolean).length;
        expect(held)
          .to.be.at.most(Math.floor((1024 * 1024) / size))
          .and.at.least(1);
        expect(stillServed.at(-1), 'the most recently read file is held').to.equal(true);
        expect(stillServed[0], 'the least recently read file is gone').to.equal(false);
      }));
  });
