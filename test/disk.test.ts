// Free space on every file system the server writes to: reported, exported, and kept above a floor.
import { expect } from 'chai';
import request from 'supertest';
import { freeSpace } from '../server/health/disk.js';
import { mediaChunks } from '../tools/media.js';
import { multipartLength, newBoundary, upload } from '../tools/multipart.js';
import { loginAdmin, registerCustomer, withContext, type TestContext } from './helpers/context.js';
import { filesIn, listen } from './helpers/server.js';

const MiB = 1024 * 1024;

async function postImage(ctx: TestContext, auth: string, size: number) {
  const http = await listen(ctx.app);
  try {
    const boundary = newBoundary();
    const part = { filename: 'a.png', content: mediaChunks('png', size) };
    return await upload(
      `${http.url}/api/uploads/image`,
      [part],
      { headers: { Authorization: auth }, contentLength: multipartLength([{ ...part, size }], boundary) },
      boundary,
    );
  } finally {
    await http.close();
  }
}

describe('disk space', () => {
  it('reports each file system it writes to in readiness and as Prometheus gauges, warning below the floor', async () => {
    // A floor no disk has: every place is below it.
    await withContext({ DISK_FREE_FLOOR_MB: String(1024 ** 3) }, async (ctx) => {
      const ready = await request(ctx.app)
        .get('/api/health/ready')
        .set('Authorization', await loginAdmin(ctx.app))
        .expect(200);
      expect(ready.body.disk.status).to.equal('warning');
      expect(ready.body.disk.filesystems.map((f: { use: string }) => f.use)).to.deep.equal([
        'data',
        'uploads',
        'pdfTmp',
      ]);
      for (const f of ready.body.disk.filesystems) {
        expect(f.status).to.equal('warning');
        expect(f.freeBytes).to.be.above(0);
        expect(f.totalBytes).to.be.at.least(f.freeBytes);
      }
      const metrics = await request(ctx.app).get('/metrics').expect(200);
      expect(metrics.text).to.match(/^disk_free_bytes\{use="uploads"\} [1-9]\d*$/m);
      expect(metrics.text).to.match(/^disk_total_bytes\{use="pdfTmp"\} [1-9]\d*$/m);
    });
    await withContext({ DISK_FREE_FLOOR_MB: '1' }, async (ctx) => {
      const ready = await request(ctx.app)
        .get('/api/health/ready')
        .set('Authorization', await loginAdmin(ctx.app))
        .expect(200);
      expect(ready.body.disk.status).to.equal('ok');
    });
  });

  it('refuses an upload up front with 507 when its declared length would leave less than the floor', async () => {
    const dataDirFree = (await freeSpace('/tmp')).freeBytes;
    // 64 MiB of room above the floor: a 1 MiB image fits, a 100 MiB one would not.
    const floorMb = Math.floor((dataDirFree - 64 * MiB) / MiB);
    await withContext(
      { DISK_FREE_FLOOR_MB: String(floorMb), UPLOAD_IMAGE_MAX_BYTES: String(200 * MiB) },
      async (ctx) => {
        const { auth } = await registerCustomer(ctx.app);
        const small = await postImage(ctx, auth, MiB);
        expect(small.status, JSON.stringify(small.body)).to.equal(201);
        const large = await postImage(ctx, auth, 100 * MiB);
        expect(large.status).to.equal(507);
        expect(large.body.error.code).to.equal('insufficient_storage');
        // Only the small file is there; the large one never reached the disk, not even as a temp file.
        expect(filesIn(ctx.rt.config.uploads.dir)).to.deep.equal([small.body.name]);
        expect(await ctx.rt.db('uploads').count({ n: '*' })).to.deep.equal([{ n: 1 }]);
      },
    );
  });
});
