// Serving uploaded files beside express.static serving the same folder, in the same run. Small files
// are measured in requests/s with autocannon; large ones in MB/s with curl, whose cost per byte is small
// enough that the servers, not the client, set the pace.
import autocannon from 'autocannon';
import { join } from 'node:path';
import { mediaChunks } from '../tools/media.js';
import { upload } from '../tools/multipart.js';
import { curlDownloads, customer, fmt, MiB, startBaseline, startServer, table, verdict } from './lib.js';

const CONNECTIONS = 20;
// Both servers are warmed, then measured in alternating rounds, so that drift in what the shared
// machine has to spare falls on both sides alike rather than on whichever ran second.
const ROUNDS = 4;

interface Measured {
  figure: number;
  errors: number;
  p99Ms: number;
}

/** Requests/s of a small file: the cost per request is what is measured. */
async function requestRate(url: string, warmUp: boolean): Promise<Measured> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: warmUp ? 2 : 4 });
  return { figure: r.requests.average, errors: r.errors + r.non2xx, p99Ms: r.latency.p99 };
}

/** MB/s of a large body or range: the cost per byte is what is measured. */
function byteRate(count: number, headers: Record<string, string>, expect: { status: number; bytes: number }) {
  return async (url: string, warmUp: boolean): Promise<Measured> => {
    const r = await curlDownloads(url, { count: warmUp ? count / 4 : count, parallel: CONNECTIONS, headers, expect });
    return { figure: r.megabytesPerSecond, errors: r.errors, p99Ms: r.p99 };
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function benchFiles(): Promise<void> {
  const server = await startServer();
  const staticServer = await startBaseline('static-server.mjs', join(server.dataDir, 'uploads'));
  try {
    const auth = await customer(server.url);
    const put = async (size: number) =>
      (
        await upload(`${server.url}/api/uploads/image`, [{ filename: 'f.jpg', content: mediaChunks('jpeg', size) }], {
          headers: { Authorization: auth },
        })
      ).body as { name: string; url: string };
    const small = await put(4096);
    const large = await put(10 * MiB);
    const cases = [
      { name: '4 KiB file', file: small, unit: 'req/s', measure: requestRate },
      { name: '10 MiB file', file: large, unit: 'MB/s', measure: byteRate(200, {}, { status: 200, bytes: 10 * MiB }) },
      {
        name: '1 MiB range of the 10 MiB file',
        file: large,
        unit: 'MB/s',
        measure: byteRate(1000, { Range: 'bytes=1048576-2097151' }, { status: 206, bytes: MiB }),
      },
    ];
    const rows = [];
    const ratios: number[] = [];
    for (const c of cases) {
      // Ours through the signed URL the upload answered with, as an <img> or <video> reads a private file.
      const urls = { ours: `${server.url}${c.file.url}`, base: `${staticServer.url}/${c.file.name}` };
      await c.measure(urls.ours, true);
      await c.measure(urls.base, true);
      const ours: Measured[] = [];
      const base: Measured[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        ours.push(await c.measure(urls.ours, false));
        base.push(await c.measure(urls.base, false));
      }
      const ratio = mean(ours.map((m) => m.figure)) / mean(base.map((m) => m.figure));
      ratios.push(ratio);
      rows.push({
        case: c.name,
        booking_core: `${fmt.n(mean(ours.map((m) => m.figure)), 0)} ${c.unit}`,
        'express.static': `${fmt.n(mean(base.map((m) => m.figure)), 0)} ${c.unit}`,
        ratio: fmt.ratio(ratio),
        'per round': ours.map((o, i) => fmt.ratio(o.figure / base[i]!.figure)).join(' '),
        'p99 ours / static': `${Math.max(...ours.map((m) => m.p99Ms)).toFixed(0)} / ${Math.max(...base.map((m) => m.p99Ms)).toFixed(0)} ms`,
        errors: ours.reduce((n, m) => n + m.errors, 0) + base.reduce((n, m) => n + m.errors, 0),
      });
    }
    table(
      `Serving files: booking-core vs express.static, ${CONNECTIONS} connections, mean of ${ROUNDS} alternating rounds`,
      rows,
    );
    table('Serving targets', [
      verdict(
        '>= 0.9x express.static on each row',
        ratios.every((r) => r >= 0.9),
        ratios.map(fmt.ratio).join(', '),
      ),
    ]);
  } finally {
    staticServer.stop();
    await server.stop();
  }
}
