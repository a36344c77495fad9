// Serving uploaded files beside express.static serving the same folder, in the same run (autocannon).
import autocannon from 'autocannon';
import { join } from 'node:path';
import { mediaChunks } from '../tools/media.js';
import { upload } from '../tools/multipart.js';
import { customer, fmt, MiB, startBaseline, startServer, table, verdict } from './lib.js';

function cannon(url: string, headers: Record<string, string> = {}): Promise<autocannon.Result> {
  return autocannon({ url, connections: 20, duration: 6, headers });
}

export async function benchFiles(): Promise<void> {
  const server = await startServer();
  const staticServer = await startBaseline('static-server.mjs', join(server.dataDir, 'uploads'));
  const staticUrl = staticServer.url;
  try {
    const auth = await customer(server.url);
    const put = async (size: number) =>
      (
        await upload(`${server.url}/api/uploads/image`, [{ filename: 'f.jpg', content: mediaChunks('jpeg', size) }], {
          headers: { Authorization: auth },
        })
      ).body.name as string;
    const small = await put(4096);
    const large = await put(10 * MiB);
    const cases = [
      { name: '4 KiB file', path: small, headers: {} as Record<string, string>, unit: 'req/s' },
      { name: '10 MiB file', path: large, headers: {}, unit: 'MB/s' },
      {
        name: '1 MiB range of the 10 MiB file',
        path: large,
        headers: { Range: 'bytes=1048576-2097151' },
        unit: 'MB/s',
      },
    ];
    const rows = [];
    const ratios: number[] = [];
    for (const c of cases) {
      await cannon(`${server.url}/api/uploads/${c.path}`, c.headers); // warm-up for both
      const ours = await cannon(`${server.url}/api/uploads/${c.path}`, c.headers);
      const base = await cannon(`${staticUrl}/${c.path}`, c.headers);
      const figure = (r: autocannon.Result) => (c.unit === 'req/s' ? r.requests.average : r.throughput.average / 1e6);
      const ratio = figure(ours) / figure(base);
      ratios.push(ratio);
      rows.push({
        case: c.name,
        booking_core: `${fmt.n(figure(ours), 0)} ${c.unit}`,
        'express.static': `${fmt.n(figure(base), 0)} ${c.unit}`,
        ratio: fmt.ratio(ratio),
        'p99 ours': `${ours.latency.p99} ms`,
        errors: ours.errors + ours.non2xx,
      });
    }
    table('Serving files: booking-core (ETag from sha256, metadata cached) vs express.static, 20 connections', rows);
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
