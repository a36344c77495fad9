// Uploads are private documents: who can read them, through which URL, for how long, and how much a
// customer may store. Each test performs the attack it defends against.
import { expect } from 'chai';
import request from 'supertest';
import { UrlSigner } from '../server/files/signed-urls.js';
import { mediaChunks } from '../tools/media.js';
import { multipartLength, newBoundary, upload } from '../tools/multipart.js';
import { loginAdmin, registerCustomer, startContext, withContext, type TestContext } from './helpers/context.js';
import { getBinary } from './helpers/pdf.js';
import { eventually, filesIn, listen } from './helpers/server.js';

const KiB = 1024;
const MiB = 1024 * KiB;

async function store(ctx: TestContext, auth: string, size = 8 * KiB, filename = 'pan-card.jpg') {
  const http = await listen(ctx.app);
  try {
    return await upload(`${http.url}/api/uploads/image`, [{ filename, content: mediaChunks('jpeg', size) }], {
      headers: { Authorization: auth },
    });
  } finally {
    await http.close();
  }
}

describe('uploads are private documents (UPLOADS_ACCESS=private, the default)', () => {
  let ctx: TestContext;
  let owner: Awaited<ReturnType<typeof registerCustomer>>;
  let stranger: Awaited<ReturnType<typeof registerCustomer>>;
  let file: { name: string; url: string; urlExpiresAt: string; sha256: string };
  let path: string;
  const signer = (now = Date.now) => new UrlSigner(ctx.rt.config.auth.jwtSecret, 3600, now);
  before(async () => {
    ctx = await startContext('sqlite');
    owner = await registerCustomer(ctx.app);
    stranger = await registerCustomer(ctx.app);
    const res = await store(ctx, owner.auth);
    expect(res.status).to.equal(201);
    file = res.body;
    path = `/api/uploads/${file.name}`;
  });
  after(() => ctx?.close());

  it('the plain path needs credentials: 401 without, 404 for a stranger, 200 for the owner and admins', async () => {
    expect((await request(ctx.app).get(path).expect(401)).body.error.code).to.equal('unauthorized');
    await request(ctx.app).get(path).set('Authorization', stranger.auth).expect(404);
    const own = await getBinary(ctx.app, path).set('Authorization', owner.auth).expect(200);
    expect(own.headers['cache-control']).to.equal('private, no-cache');
    // Range, HEAD and 304 on a bearer read, as on any other.
    const part = await getBinary(ctx.app, path)
      .set('Authorization', owner.auth)
      .set('Range', 'bytes=10-19')
      .expect(206);
    expect(Buffer.compare(part.body, own.body.subarray(10, 20))).to.equal(0);
    await request(ctx.app).head(path).set('Authorization', owner.auth).expect(200);
    await request(ctx.app)
      .get(path)
      .set('Authorization', owner.auth)
      .set('If-None-Match', `"${file.sha256}"`)
      .expect(304);
    await request(ctx.app)
      .get(path)
      .set('Authorization', await loginAdmin(ctx.app))
      .expect(200);
  });

  it('the upload answers with a signed URL that works without a header, privately cached within its life', async () => {
    expect(Date.parse(file.urlExpiresAt) - Date.now()).to.be.within(3500_000, 3600_000);
    const res = await getBinary(ctx.app, file.url).expect(200);
    expect(res.headers.etag).to.equal(`"${file.sha256}"`);
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(res.headers['cache-control']!)?.[1]);
    expect(maxAge).to.be.within(3500, 3600);
    // Range, HEAD and 304 work on a signed read as on any other.
    const part = await getBinary(ctx.app, file.url).set('Range', 'bytes=0-99').expect(206);
    expect(part.body.length).to.equal(100);
    await request(ctx.app).head(file.url).expect(200);
    await request(ctx.app).get(file.url).set('If-None-Match', `"${file.sha256}"`).expect(304);
  });

  it('the list gives signed URLs for the caller, with the usage and the quota', async () => {
    const list = await request(ctx.app).get('/api/uploads').set('Authorization', owner.auth).expect(200);
    expect(list.body.items[0].url).to.match(/\?expires=\d+&reader=\d+&signature=/);
    await getBinary(ctx.app, list.body.items[0].url).expect(200);
    expect(list.body.usage).to.deep.equal({ bytes: 8 * KiB, quotaBytes: ctx.rt.config.uploads.quotaBytes });
    const admin = await request(ctx.app)
      .get('/api/uploads')
      .set('Authorization', await loginAdmin(ctx.app))
      .expect(200);
    expect(admin.body.usage.quotaBytes).to.equal(null);
  });

  it('refuses an expired, tampered, transplanted or foreign signature with 403', async () => {
    const expired = signer(() => Date.now() - 2 * 3600_000).sign(path, file.name, owner.id).url;
    expect((await request(ctx.app).get(expired).expect(403)).body.error.code).to.equal('url_expired');
    const url = new URL(file.url, 'http://x');
    const tampered = [
      // The reader changed to someone else, the expiry pushed out, a byte of the signature flipped.
      `${path}?expires=${url.searchParams.get('expires')}&reader=${stranger.id}&signature=${url.searchParams.get('signature')}`,
      `${path}?expires=${Number(url.searchParams.get('expires')) + 86_400}&reader=${owner.id}&signature=${url.searchParams.get('signature')}`,
      file.url.replace(/signature=(.)/, (_m, c: string) => `signature=${c === 'A' ? 'B' : 'A'}`),
      `${path}?expires=${url.searchParams.get('expires')}&reader=${owner.id}&signature=`,
    ];
    for (const u of tampered)
      expect((await request(ctx.app).get(u).expect(403)).body.error.code, u).to.equal('invalid_signature');
    // A valid signature for another file does not open this one.
    const other = (await store(ctx, owner.auth)).body;
    const transplanted = `${path}?${new URL(other.url, 'http://x').searchParams}`;
    await request(ctx.app).get(transplanted).expect(403);
    // Signed (with the server's own key) for a reader who may not read the file: still refused.
    const foreign = signer().sign(path, file.name, stranger.id).url;
    expect((await request(ctx.app).get(foreign).expect(403)).body.error.code).to.equal('invalid_signature');
  });

  it('sanitises the stored name and saves the download with the extension of the sniffed type', async () => {
    // A JPEG named to look like a PDF through a right-to-left override, with markup in the name.
    const res = await store(ctx, owner.auth, 4 * KiB, 'statement\u202Efdp.exe<script>.pdf');
    expect(res.status).to.equal(201);
    expect(res.body.originalName).to.equal('statementfdp.exescript.pdf');
    const read = await getBinary(ctx.app, res.body.url).expect(200);
    expect(read.headers['content-disposition']).to.equal('inline; filename=statementfdp.exescript.jpg');
  });
});

describe('UPLOADS_ACCESS=public keeps public, immutable serving', () => {
  it('anyone with the plain URL reads the file, cached for good', async () => {
    await withContext({ UPLOADS_ACCESS: 'public' }, async (ctx) => {
      const res = await store(ctx, (await registerCustomer(ctx.app)).auth);
      expect(res.body.url).to.equal(`/api/uploads/${res.body.name}`);
      const read = await getBinary(ctx.app, res.body.url).expect(200);
      expect(read.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
    });
  });
});

describe('per-user upload quota and concurrency', () => {
  it('refuses an upload past the quota before storing it (declared or streamed), and admins are exempt', async () => {
    await withContext({ UPLOAD_QUOTA_MB: '1' }, async (ctx) => {
      const { auth } = await registerCustomer(ctx.app);
      expect((await store(ctx, auth, 700 * KiB)).status).to.equal(201);
      // Declared: 600 KiB more would pass 1 MiB. Refused before a byte is stored.
      const http = await listen(ctx.app);
      try {
        const boundary = newBoundary();
        const part = { filename: 'b.jpg', content: mediaChunks('jpeg', 600 * KiB) };
        const declared = await upload(
          `${http.url}/api/uploads/image`,
          [part],
          {
            headers: { Authorization: auth },
            contentLength: multipartLength([{ ...part, size: 600 * KiB }], boundary),
          },
          boundary,
        );
        expect(declared.status).to.equal(413);
        expect(declared.body.error.code).to.equal('quota_exceeded');
        // Streamed without a length: cut when it passes the quota.
        const streamed = await upload(
          `${http.url}/api/uploads/image`,
          [{ filename: 'c.jpg', content: mediaChunks('jpeg', 600 * KiB) }],
          {
            headers: { Authorization: auth },
          },
        );
        expect(streamed.status).to.equal(413);
        expect(streamed.body.error.code).to.equal('quota_exceeded');
      } finally {
        await http.close();
      }
      await eventually(() => filesIn(ctx.rt.config.uploads.dir).length === 1);
      expect((await store(ctx, await loginAdmin(ctx.app), 2 * MiB)).status).to.equal(201);
    });
  });

  it('refuses more concurrent uploads than UPLOADS_AT_ONCE with 429 too_many_uploads', async () => {
    await withContext({ UPLOADS_AT_ONCE: '1' }, async (ctx) => {
      const { auth } = await registerCustomer(ctx.app);
      const http = await listen(ctx.app);
      try {
        // A slow first upload holds the slot while the second arrives.
        async function* slow() {
          for (const chunk of mediaChunks('jpeg', 256 * KiB)) {
            yield chunk;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        const first = upload(`${http.url}/api/uploads/image`, [{ filename: 'a.jpg', content: slow() }], {
          headers: { Authorization: auth },
        });
        await new Promise((r) => setTimeout(r, 100));
        const second = await upload(
          `${http.url}/api/uploads/image`,
          [{ filename: 'b.jpg', content: mediaChunks('jpeg', 4 * KiB) }],
          {
            headers: { Authorization: auth },
          },
        );
        expect(second.status).to.equal(429);
        expect(second.body.error.code).to.equal('too_many_uploads');
        expect((await first).status).to.equal(201);
        expect((await store(ctx, auth)).status).to.equal(201); // the slot is free again
      } finally {
        await http.close();
      }
    });
  });
});
