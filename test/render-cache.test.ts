import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { RenderCache } from '../server/pdf/render-cache.js';
import { readTempPdf } from '../server/pdf/temp-pdf.js';
import { createConfirmedBooking, registerCustomer, withContext, type TestContext } from './helpers/context.js';
import { getBinary, isPdf } from './helpers/pdf.js';
import { eventually, filesIn, openDescriptors } from './helpers/server.js';

const key = (n: number) => n.toString(16).padStart(32, '0');

/** Every byte of a PDF body, whether it came back whole or as a stream. */
async function bytesOf(body: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readAll(cache: RenderCache, k: string): Promise<string | undefined> {
  const hit = await cache.open(k);
  if (!hit) return undefined;
  const bytes = await bytesOf(hit.open());
  await hit.done();
  return bytes.toString();
}

describe('render cache (files on disk)', () => {
  let dir: string;
  let temp: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'render-cache-'));
    temp = mkdtempSync(join(tmpdir(), 'render-temp-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(temp, { recursive: true, force: true });
  });
  const rendered = (name: string, bytes: number) => {
    const path = join(temp, name);
    writeFileSync(path, name.padEnd(bytes, '.'));
    return { path, size: bytes };
  };

  it('keeps a rendered file under its key (the temp file stays the caller’s) and streams it back', async () => {
    const cache = new RenderCache(dir, 1024 * 1024);
    const file = rendered('a', 1000);
    await cache.keep(key(1), file);
    rmSync(file.path); // the caller deletes its temp file as always
    expect(await readAll(cache, key(1))).to.equal('a'.padEnd(1000, '.'));
    expect(await cache.open(key(2))).to.equal(undefined);
    expect(cache.status()).to.include({ files: 1, bytes: 1000, hits: 1, misses: 1 });
  });

  it('stays within its size, evicting the least recently used file from disk', async () => {
    const cache = new RenderCache(dir, 3000);
    for (let i = 1; i <= 3; i++) await cache.keep(key(i), rendered(`f${i}`, 1000));
    await readAll(cache, key(1)); // 1 is now more recent than 2
    await cache.keep(key(4), rendered('f4', 1000));
    expect(readdirSync(dir).sort()).to.deep.equal([key(1), key(3), key(4)].map((k) => `${k}.pdf`));
    expect(await cache.open(key(2))).to.equal(undefined);
    expect(cache.status().bytes).to.equal(3000);
    // Larger than the whole cache: not kept.
    await cache.keep(key(5), rendered('f5', 4000));
    expect(readdirSync(dir)).not.to.include(`${key(5)}.pdf`);
  });

  it('finds what an earlier process kept, and ignores foreign files', async () => {
    await new RenderCache(dir, 10_000).keep(key(7), rendered('kept', 500));
    writeFileSync(join(dir, 'notes.txt'), 'not a cached pdf');
    const next = new RenderCache(dir, 10_000);
    expect(await readAll(next, key(7))).to.equal('kept'.padEnd(500, '.'));
    expect(next.status().files).to.equal(1);
  });

  it('does nothing when PDF_CACHE_MB is 0', async () => {
    const cache = new RenderCache(join(dir, 'off'), 0);
    await cache.keep(key(1), rendered('a', 10));
    expect(await cache.open(key(1))).to.equal(undefined);
    expect(cache.status()).to.include({ enabled: false, files: 0 });
  });
});

describe('render cache (invoice downloads)', () => {
  const download = (app: TestContext['app'], path: string, auth: string) =>
    getBinary(app, path).set('Authorization', auth).expect(200);

  for (const [cacheMb, renders] of [
    ['64', 1],
    ['0', 2],
  ] as const) {
    it(`PDF_CACHE_MB=${cacheMb}: two downloads of one invoice render ${renders === 1 ? 'once' : 'twice'}, same bytes`, async () => {
      await withContext({ PDF_CACHE_MB: cacheMb }, async (ctx) => {
        const customer = await registerCustomer(ctx.app);
        const booking = await createConfirmedBooking(ctx.app, customer.auth);
        const path = `/api/bookings/${booking.id}/invoice`;
        const first = await download(ctx.app, path, customer.auth);
        // The temp file is linked into the cache while it is sent, and removed once both are done.
        await eventually(() => filesIn(ctx.rt.config.pdf.tmpDir).length === 0);
        const second = await download(ctx.app, path, customer.auth);
        expect(isPdf(second.body)).to.equal(true);
        expect(second.headers['content-length']).to.equal(String(second.body.length));
        expect(second.headers.etag).to.equal(first.headers.etag);
        expect(ctx.rt.renderer.stats.rendered).to.equal(renders);
        // Chromium stamps each PDF with its creation time: only a cached copy is byte-identical.
        if (renders === 1) expect(Buffer.compare(first.body, second.body)).to.equal(0);
        // The temp file goes once the response has closed, a moment after the client has the body.
        await eventually(() => filesIn(ctx.rt.config.pdf.tmpDir).length === 0);
      });
    });
  }
});

describe('reading back a rendered temp PDF', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'temp-pdf-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const size of [1, 40_000, 64 * 1024, 64 * 1024 + 1, 300_000]) {
    it(`gives back every byte of a ${size}-byte file and leaves no descriptor open`, async () => {
      const bytes = randomBytes(size);
      const path = join(dir, 'invoice.pdf');
      writeFileSync(path, bytes);
      const before = openDescriptors().length;
      const body = readTempPdf(path, size);
      // One chunk's worth comes back whole; a larger file is streamed rather than held in memory.
      expect(Buffer.isBuffer(body)).to.equal(size <= 64 * 1024);
      expect((await bytesOf(body)).equals(bytes)).to.equal(true);
      await eventually(() => openDescriptors().length === before);
    });
  }

  it('a file shorter than the worker said fails rather than sending too few bytes', () => {
    const path = join(dir, 'short.pdf');
    writeFileSync(path, 'abc');
    const before = openDescriptors().length;
    expect(() => readTempPdf(path, 10)).to.throw(/shorter/);
    expect(openDescriptors().length).to.equal(before);
  });
});
