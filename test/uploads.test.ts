import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import request from 'supertest';
import { LocalStorage } from '../server/storage/local.js';
import type { StoredObject } from '../server/storage/storage.js';
import { mediaBuffer, mediaChunks, mediaSha256, type MediaKind } from '../tools/media.js';
import { multipartLength, newBoundary, upload, type UploadPart } from '../tools/multipart.js';
import { loginAdmin, registerCustomer, startContext, type TestContext } from './helpers/context.js';
import { eventually, listen } from './helpers/server.js';
import { STORE_KINDS, storeEnv, storeProbe, type StoreProbe } from './helpers/stores.js';

const MiB = 1024 * 1024;
const part = (kind: MediaKind, size: number, extra: Partial<UploadPart> = {}): UploadPart => ({
  filename: `holiday.${kind}`,
  contentType: 'application/octet-stream',
  content: mediaChunks(kind, size),
  ...extra,
});

for (const store of STORE_KINDS)
  describe(`uploads (${store} storage)`, function () {
    let ctx: TestContext;
    let http: Awaited<ReturnType<typeof listen>>;
    let auth: string;
    let probe: StoreProbe;
    const post = (path: string, parts: UploadPart[], options: Parameters<typeof upload>[2] = {}) =>
      upload(`${http.url}${path}`, parts, { ...options, headers: { Authorization: auth, ...options.headers } });
    const rowCount = async () => Number((await ctx.rt.db('uploads').count({ n: '*' }))[0]!.n);
    /**
     * The stored objects must be exactly the rows: nothing partial (no temp file, spooled part or
     * incomplete multipart upload), nothing orphaned.
     */
    const expectDiskMatchesDb = async () => {
      const names = (await ctx.rt.db('uploads').select('name')).map((r: { name: string }) => r.name).sort();
      await eventually(
        async () => JSON.stringify(await probe.names()) === JSON.stringify(names) && (await probe.pending()) === 0,
      );
    };

    before(async () => {
      ctx = await startContext('sqlite', {
        UPLOAD_IMAGE_MAX_BYTES: String(20 * MiB),
        UPLOAD_VIDEO_MAX_BYTES: String(128 * MiB),
        UPLOADS_AT_ONCE: '5',
        ...(await storeEnv(store)),
      });
      http = await listen(ctx.app);
      auth = (await registerCustomer(ctx.app)).auth;
      probe = storeProbe(ctx.rt);
    });
    after(async () => {
      await http?.close();
      await ctx?.close();
    });

    for (const [kind, endpoint, size] of [
      ['png', 'image', 1024],
      ['jpeg', 'image', 10 * MiB],
      ['mp4', 'video', 100 * MiB],
    ] as const) {
      it(`stores a ${size / 1024} KiB ${kind} byte for byte (sha256 of the stored file equals the sent one)`, async () => {
        const res = await post(`/api/uploads/${endpoint}`, [
          part(kind, size, { filename: `../../etc/Mein Ürlaub ₹.${kind}` }),
        ]);
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        const expected = mediaSha256(kind, size);
        expect(res.body).to.include({ size, sha256: expected, kind: endpoint, originalName: `Mein Ürlaub ₹.${kind}` });
        expect(res.body.name).to.match(/^[0-9a-f]{32}\.[a-z0-9]+$/);
        expect(res.headers.location).to.equal(`/api/uploads/${res.body.name}`);
        expect(res.body.url).to.match(
          new RegExp(`^/api/uploads/${res.body.name}\\?expires=\\d+&reader=\\d+&signature=`),
        );
        expect(await probe.sha256(res.body.name)).to.equal(expected);
        await expectDiskMatchesDb();
      });
    }

    it('accepts five concurrent 50 MiB uploads', async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => post('/api/uploads/video', [part('mp4', 50 * MiB)])),
      );
      expect(results.map((r) => r.status)).to.deep.equal([201, 201, 201, 201, 201]);
      const expected = mediaSha256('mp4', 50 * MiB);
      expect(results.every((r) => r.body.sha256 === expected)).to.equal(true);
      await expectDiskMatchesDb();
    });

    describe('bad input leaves nothing behind', () => {
      const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
        [
          'a text file declared as an image',
          () =>
            post('/api/uploads/image', [
              {
                filename: 'a.png',
                contentType: 'image/png',
                content: [Buffer.from('just some text, not an image at all')],
              },
            ]),
          415,
          'unsupported_file_type',
        ],
        [
          'a video sent to the image endpoint',
          () => post('/api/uploads/image', [part('mp4', 64 * 1024)]),
          415,
          'unsupported_file_type',
        ],
        [
          'an image sent to the video endpoint',
          () => post('/api/uploads/video', [part('png', 64 * 1024)]),
          415,
          'unsupported_file_type',
        ],
        [
          'an empty file',
          () => post('/api/uploads/image', [{ filename: 'empty.png', content: [] }]),
          400,
          'empty_file',
        ],
        ['no file field', () => post('/api/uploads/image', [], { fields: { note: 'hello' } }), 400, 'missing_file'],
        [
          'the file in another field',
          () => post('/api/uploads/image', [part('png', 2048, { field: 'picture' })]),
          400,
          'unexpected_field',
        ],
        [
          'two files',
          () => post('/api/uploads/image', [part('png', 300 * 1024), part('png', 2048)]),
          400,
          'too_many_files',
        ],
        [
          'a field name too long',
          () => post('/api/uploads/image', [part('png', 2048)], { fields: { ['n'.repeat(500)]: 'x' } }),
          400,
          'field_name_too_long',
        ],
        [
          'too many parts',
          () =>
            post('/api/uploads/image', [part('png', 2048)], {
              fields: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, 'x'])),
            }),
          400,
          'too_many_fields',
        ],
        [
          'an image over the limit, streamed without Content-Length',
          () => post('/api/uploads/image', [part('png', 21 * MiB)]),
          413,
          'payload_too_large',
        ],
        [
          'an image over the limit with an honest Content-Length (refused before reading)',
          () => {
            const boundary = newBoundary();
            const p = part('jpeg', 30 * MiB);
            return upload(
              `${http.url}/api/uploads/image`,
              [p],
              {
                headers: { Authorization: auth },
                contentLength: multipartLength([{ ...p, size: 30 * MiB }], boundary),
              },
              boundary,
            );
          },
          413,
          'payload_too_large',
        ],
      ];
      for (const [what, send, status, code] of cases) {
        it(`${what}: ${status} ${code}`, async () => {
          const before = await rowCount();
          const res = await send();
          expect(res.status, JSON.stringify(res.body)).to.equal(status);
          expect(res.body.error.code).to.equal(code);
          expect(await rowCount()).to.equal(before);
          await expectDiskMatchesDb();
        });
      }

      it('a body that is not multipart: 415', async () => {
        const res = await request(ctx.app)
          .post('/api/uploads/image')
          .set('Authorization', auth)
          .send({ file: 'x' })
          .expect(415);
        expect(res.body.error.code).to.equal('unsupported_media_type');
      });

      it('a multipart body cut short before its closing boundary: 400, nothing kept', async () => {
        const boundary = newBoundary();
        const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`;
        const res = await request(ctx.app)
          .post('/api/uploads/image')
          .set('Authorization', auth)
          .set('Content-Type', `multipart/form-data; boundary=${boundary}`)
          .send(Buffer.concat([Buffer.from(head), mediaBuffer('png', 100 * 1024)]))
          .expect(400);
        expect(res.body.error.code).to.equal('malformed_multipart');
        await expectDiskMatchesDb();
      });

      it('a client that disconnects mid-upload: no temp file remains, no row', async () => {
        const before = await rowCount();
        const err = await post('/api/uploads/video', [part('mp4', 100 * MiB)], { abortAfterBytes: 20 * MiB }).catch(
          (e) => e,
        );
        expect(err).to.be.instanceOf(Error);
        // The server notices the closed socket asynchronously: wait for the partial file to go.
        await expectDiskMatchesDb();
        expect(await rowCount()).to.equal(before);
      });

      it('without a token: 401', async () => {
        const res = await upload(`${http.url}/api/uploads/image`, [part('png', 1024)]);
        expect(res.status).to.equal(401);
      });
    });

    describe('listing and deleting', () => {
      it("lists the caller's uploads; only the owner or an admin may delete", async () => {
        const other = await registerCustomer(ctx.app);
        const created = await post('/api/uploads/image', [part('png', 4096)]);
        expect(created.status).to.equal(201);
        const mine = await request(ctx.app).get('/api/uploads').set('Authorization', auth).expect(200);
        expect(mine.body.items[0].name).to.equal(created.body.name);
        const theirs = await request(ctx.app).get('/api/uploads').set('Authorization', other.auth).expect(200);
        expect(theirs.body.items).to.deep.equal([]);
        await request(ctx.app).delete(`/api/uploads/${created.body.name}`).set('Authorization', other.auth).expect(404);
        await request(ctx.app).delete(`/api/uploads/${created.body.name}`).set('Authorization', auth).expect(204);
        await request(ctx.app).get(`/api/uploads/${created.body.name}`).expect(404);
        await expectDiskMatchesDb();
        const second = await post('/api/uploads/image', [part('png', 4096)]);
        await request(ctx.app)
          .delete(`/api/uploads/${second.body.name}`)
          .set('Authorization', await loginAdmin(ctx.app))
          .expect(204);
        await expectDiskMatchesDb();
      });
    });
  });

/** A disk whose writes fail with `code` (a full disk: ENOSPC), as the file system reports it. */
class FailingDisk extends LocalStorage {
  constructor(
    dir: string,
    private readonly code: string,
  ) {
    super(dir);
  }

  override async put(_name: string, source: Readable): Promise<StoredObject> {
    for await (const chunk of source) {
      void chunk;
      throw Object.assign(new Error(`${this.code}: write failed`), { code: this.code, syscall: 'write' });
    }
    throw new Error('empty source');
  }
}

describe('uploads onto a failing disk', () => {
  for (const [code, status, errorCode] of [
    ['ENOSPC', 507, 'insufficient_storage'],
    ['EDQUOT', 507, 'insufficient_storage'],
    ['EIO', 500, 'storage_failed'],
  ] as const) {
    it(`${code}: ${status} ${errorCode}, and no upload row`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'failing-disk-'));
      const ctx = await startContext('sqlite', {}, { storage: new FailingDisk(dir, code) });
      const http = await listen(ctx.app);
      try {
        const { auth } = await registerCustomer(ctx.app);
        const res = await upload(`${http.url}/api/uploads/video`, [part('mp4', 2 * MiB)], {
          headers: { Authorization: auth },
        });
        expect(res.status).to.equal(status);
        expect(res.body.error.code).to.equal(errorCode);
        expect(Number((await ctx.rt.db('uploads').count({ n: '*' }))[0]!.n)).to.equal(0);
      } finally {
        await http.close();
        await ctx.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
