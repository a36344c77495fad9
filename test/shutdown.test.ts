import { expect } from 'chai';
import { get } from 'node:http';
import { mediaChunks, mediaSha256 } from '../tools/media.js';
import { upload } from '../tools/multipart.js';
import { operatorHeaders, startChildServer, type ChildServer } from './helpers/child-server.js';
import { ADMIN } from './helpers/context.js';
import { filesIn, processAlive, mainThreadNice } from './helpers/server.js';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { getPriority } from 'node:os';

const SIZE = 16 * 1024 * 1024;

/** Registers, uploads a 16 MiB image and renders one invoice (so Chromium runs); returns the file URL. */
async function prepare(server: ChildServer): Promise<{ fileUrl: string; chromiumPid: number }> {
  const register = await fetch(`${server.url}/api/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'shutdown@example.test', password: 'shutdown-pass-1', name: 'S' }),
  }).then((r) => r.json() as Promise<any>);
  const auth = `Bearer ${register.token}`;
  const uploaded = await upload(
    `${server.url}/api/uploads/image`,
    [{ filename: 'big.jpg', content: mediaChunks('jpeg', SIZE) }],
    { headers: { Authorization: auth } },
  );
  expect(uploaded.status).to.equal(201);
  const booking = await fetch(`${server.url}/api/bookings`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: auth },
    body: JSON.stringify({
      serviceCode: 'itr-filing',
      scheduledAt: new Date(Date.now() + 86_400_000).toISOString(),
      billing: { name: 'S', address: 'A', city: 'C', state: '29', pincode: '560001' },
    }),
  }).then((r) => r.json() as Promise<any>);
  // Confirmed by the admin: an invoice is issued for confirmed bookings only.
  const admin = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(ADMIN),
  }).then((r) => r.json() as Promise<any>);
  const confirmed = await fetch(`${server.url}/api/admin/bookings/${booking.id}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${admin.token}` },
    body: JSON.stringify({ status: 'confirmed' }),
  });
  expect(confirmed.status).to.equal(200);
  const invoice = await fetch(`${server.url}/api/bookings/${booking.id}/invoice`, { headers: { Authorization: auth } });
  expect(invoice.status).to.equal(200);
  await invoice.arrayBuffer();
  const health = await fetch(`${server.url}/api/health`, { headers: operatorHeaders }).then(
    (r) => r.json() as Promise<any>,
  );
  return { fileUrl: `${server.url}${uploaded.body.url}`, chromiumPid: health.pdf.browser.pid };
}

/** Starts a download and stops reading after the first chunk; `resume` reads the rest. */
function slowDownload(
  url: string,
): Promise<{ resume: () => Promise<{ status: number; bytes: number; sha256: string }> }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.once('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
        res.pause();
        resolve({
          resume: () =>
            new Promise((done, fail) => {
              res.on('data', (c: Buffer) => ((bytes += c.length), hash.update(c)));
              res.on('end', () => done({ status: res.statusCode!, bytes, sha256: hash.digest('hex') }));
              res.on('error', fail);
              res.resume();
            }),
        });
      });
    }).on('error', reject);
  });
}

describe('shutdown of a real server process', function () {
  this.timeout(90_000);

  it('on SIGTERM finishes the download in flight, removes temp files, closes Chromium and exits 0', async () => {
    const server = await startChildServer();
    try {
      const { fileUrl, chromiumPid } = await prepare(server);
      expect(processAlive(chromiumPid)).to.equal(true);
      // By default the server keeps the priority it was started with (SERVER_NICE=0), even as root.
      expect(mainThreadNice(server.child.pid!)).to.equal(getPriority());
      const download = await slowDownload(fileUrl);
      server.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500)); // the server is draining while the client dawdles
      const result = await download.resume();
      expect(result).to.deep.equal({ status: 200, bytes: SIZE, sha256: mediaSha256('jpeg', SIZE) });
      const { code } = await server.exited;
      expect(code, server.output()).to.equal(0);
      expect(processAlive(chromiumPid)).to.equal(false);
      expect(filesIn(join(server.dataDir, 'pdf-tmp'))).to.deep.equal([]);
      expect(server.output()).to.contain('shutting down');
    } finally {
      await server.stop();
    }
  });

  it('exits at once on a second signal', async () => {
    const server = await startChildServer();
    try {
      const { fileUrl } = await prepare(server);
      await slowDownload(fileUrl); // never resumed: shutdown would wait up to 25 s for it
      const started = Date.now();
      server.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      server.child.kill('SIGTERM');
      const { code } = await server.exited;
      expect(code).to.equal(1);
      expect(Date.now() - started).to.be.below(5_000);
    } finally {
      await server.stop();
    }
  });

  it('exits with code 1 and a clear message on a bad configuration', async () => {
    const { spawnSync } = await import('node:child_process');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
      env: { ...process.env, PORT: 'not-a-port', DATA_DIR: '/tmp/booking-core-badconfig' },
      encoding: 'utf8',
    });
    expect(result.status).to.equal(1);
    expect(result.stderr).to.contain('invalid configuration');
    expect(result.stderr).to.contain('PORT');
  });
});
