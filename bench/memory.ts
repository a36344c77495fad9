// A bounded soak: uploads (10 and 100 MiB), invoice downloads at concurrency 4, Range reads and
// GET /api/bookings at once, while PSS and RSS of node and of Chromium are sampled every 250 ms.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mediaChunks } from '../tools/media.js';
import { upload } from '../tools/multipart.js';
import {
  booking,
  customer,
  fmt,
  get,
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
    for (let i = 0; i < 20; i++) ids.push(await booking(server.url, auth));
    const stored = await upload(
      `${server.url}/api/uploads/video`,
      [{ filename: 'r.mp4', content: mediaChunks('mp4', 20 * MiB) }],
      { headers: { Authorization: auth } },
    );
    const sampler = sampleMemory(server.pid, 250);
    const uploads = async (): Promise<LoadResult> =>
      load(1, 12, async (i) => {
        const size = i % 4 === 3 ? 100 * MiB : 10 * MiB;
        const res = await upload(
          `${server.url}/api/uploads/video`,
          [{ filename: 's.mp4', content: mediaChunks('mp4', size) }],
          { headers: { Authorization: auth } },
        );
        if (res.status === 201)
          await fetch(`${server.url}${res.body.url}`, { method: 'DELETE', headers: { Authorization: auth } });
        return res.status;
      });
    const [up, invoices, ranges, lists] = await Promise.all([
      uploads(),
      load(4, 200, (i) => get(`${server.url}/api/bookings/${ids[i % ids.length]}/invoice`, { Authorization: auth })),
      load(2, 600, (i) =>
        get(`${server.url}${stored.body.url}`, {
          Range: `bytes=${(i * 65536) % (19 * MiB)}-${((i * 65536) % (19 * MiB)) + 1048575}`,
        }),
      ),
      load(4, 3000, () => get(`${server.url}/api/bookings`, { Authorization: auth })),
    ]);
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
