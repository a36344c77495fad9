// A bounded soak: uploads (10 and 100 MiB), invoice downloads at concurrency 4, Range reads and
// GET /api/bookings at once, while PSS and RSS of node and of Chromium are sampled every 250 ms.
// The clients are light enough that the server, not the load generator, gets the machine's two cores:
// curl for the uploads (from files in the page cache) and the 1 MiB Range reads (autocannon, parsing
// 600 MiB of bodies in JavaScript, took most of a core from the server), autocannon for the rest.
import { createWriteStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { mediaStream } from '../tools/media.js';
import {
  booking,
  cannonLoad,
  curlGets,
  curlUpload,
  customer,
  fmt,
  load,
  MiB,
  sampleMemory,
  startServer,
  table,
  verdict,
  type LoadResult,
} from './lib.js';

export async function benchMemory(): Promise<void> {
  const server = await startServer({ UPLOAD_VIDEO_MAX_BYTES: String(200 * MiB) });
  try {
    const auth = await customer(server.url);
    const ids: number[] = [];
    // A booking per download: every invoice is rendered (a repeat would be served from the store).
    for (let i = 0; i < 200; i++) ids.push(await booking(server.url, auth));
    const work = mkdtempSync(join(tmpdir(), 'bench-soak-'));
    const files: Record<number, string> = {};
    for (const size of [10 * MiB, 20 * MiB, 100 * MiB]) {
      files[size] = join(work, `${size}.mp4`);
      await pipeline(mediaStream('mp4', size), createWriteStream(files[size]!));
    }
    const stored = await curlUpload(`${server.url}/api/uploads/video`, auth, files[20 * MiB]!);
    const rangeReads = Array.from({ length: 600 }, (_, i) => ({
      url: `${server.url}${stored.body.url}`,
      headers: { Range: `bytes=${(i % 19) * MiB}-${(i % 19) * MiB + MiB - 1}` },
    }));
    const sampler = sampleMemory(server.pid, 250);
    const uploads = async (): Promise<LoadResult> =>
      load(1, 12, async (i) => {
        const { status, seconds, body } = await curlUpload(
          `${server.url}/api/uploads/video`,
          auth,
          files[i % 4 === 3 ? 100 * MiB : 10 * MiB]!,
        );
        if (status === 201)
          await fetch(`${server.url}${body.url}`, { method: 'DELETE', headers: { Authorization: auth } });
        return { status, ms: seconds * 1000 };
      });
    const [up, invoices, ranges, lists] = await Promise.all([
      uploads(),
      cannonLoad(
        server.url,
        4,
        200,
        { Authorization: auth },
        ids.map((id) => `/api/bookings/${id}/invoice`),
      ),
      curlGets(rangeReads, { parallel: 2, expect: { status: 206, bytes: MiB } }),
      cannonLoad(`${server.url}/api/bookings`, 4, 3000, { Authorization: auth }),
    ]);
    rmSync(work, { recursive: true, force: true });
    const mem = sampler.stop();
    const tempLeft =
      readdirSync(join(server.dataDir, 'pdf-tmp')).length +
      readdirSync(join(server.dataDir, 'uploads')).filter((f) => f.startsWith('.')).length;
    const errors = up.errors + invoices.errors + ranges.errors + lists.errors;
    const row = (name: string, r: LoadResult) => ({
      route: name,
      requests: r.requests,
      p50: fmt.ms(r.p50),
      p95: fmt.ms(r.p95),
      errors: r.errors,
    });
    table('Soak: per route', [
      row('uploads 10/100 MiB (1 at a time)', up),
      row('invoice downloads (4 concurrent)', invoices),
      row('1 MiB Range reads (2 concurrent)', ranges),
      row('GET /api/bookings (4 concurrent)', lists),
    ]);
    const m = (s: { avg: number; peak: number }) => `${fmt.mib(s.avg)} / ${fmt.mib(s.peak)}`;
    table(`Soak: memory, avg / peak over ${mem.samples} samples`, [
      { process: 'node (main + PDF worker threads)', PSS: m(mem.nodePss), RSS: m(mem.nodeRss) },
      { process: 'Chromium tree', PSS: m(mem.chromePss), RSS: m(mem.chromeRss) },
      { process: 'sum', PSS: m(mem.sumPss), RSS: '-' },
    ]);
    table('Soak targets', [
      verdict('PSS sum average < 400 MiB', mem.sumPss.avg < 400 * MiB, fmt.mib(mem.sumPss.avg)),
      verdict('PSS sum peak < 600 MiB', mem.sumPss.peak < 600 * MiB, fmt.mib(mem.sumPss.peak)),
      verdict('zero errors', errors === 0, `${errors}`),
      verdict('zero temp files left', tempLeft === 0, `${tempLeft}`),
      verdict(
        'p95 < 2 s on every route',
        [up, invoices, ranges, lists].every((r) => r.p95 < 2000),
        [up, invoices, ranges, lists].map((r) => fmt.ms(r.p95)).join(', '),
      ),
    ]);
  } finally {
    await server.stop();
  }
}
