// Bulk export: 100 and 500 invoices streamed as one ZIP, against the pool's single-invoice throughput
// measured in the same run; the node process's RSS peak over its start shows memory stays flat.
import { get as httpGet } from 'node:http';
import {
  adminToken,
  booking,
  customer,
  fmt,
  get,
  load,
  MiB,
  peakRss,
  resetPeakRss,
  startServer,
  table,
  verdict,
} from './lib.js';

function exportOnce(url: string, auth: string): Promise<{ seconds: number; bytes: number; firstByteMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstByteMs = 0;
    let bytes = 0;
    httpGet(url, { headers: { Authorization: auth } }, (res) => {
      firstByteMs = performance.now() - started;
      if (res.statusCode !== 200) reject(new Error(`export: ${res.statusCode}`));
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ seconds: (performance.now() - started) / 1000, bytes, firstByteMs }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

export async function benchExport(): Promise<void> {
  const server = await startServer();
  try {
    const auth = await customer(server.url);
    const admin = await adminToken(server.url);
    // 100 bookings in March 2031, 400 more in April: "100" exports March, "500" exports both.
    for (let i = 0; i < 500; i++) {
      const day =
        i < 100
          ? `2031-03-${String(1 + (i % 28)).padStart(2, '0')}`
          : `2031-04-${String(1 + (i % 28)).padStart(2, '0')}`;
      await booking(server.url, auth, `${day}T0${i % 10}:00:00Z`, i % 3 ? '29' : '27');
    }
    // Invoice numbers issued up front (register.csv issues them without rendering), so both sides render only.
    await get(`${server.url}/api/admin/invoices/register.csv?from=2031-03-01&to=2031-04-30`, { Authorization: admin });
    const single = await load(2, 60, (i) =>
      get(`${server.url}/api/bookings/${1 + (i % 500)}/invoice`, { Authorization: auth }),
    );
    const rows = [];
    const rates: Record<number, { rate: number; growth: number }> = {};
    for (const [count, to] of [
      [100, '2031-03-31'],
      [500, '2031-04-30'],
    ] as const) {
      const startRss = peakRss(server.pid);
      resetPeakRss(server.pid);
      const before = ((await (await fetch(`${server.url}/api/health/memory`)).json()) as any).process.rss;
      const r = await exportOnce(`${server.url}/api/admin/invoices/export?from=2031-03-01&to=${to}`, admin);
      const peak = peakRss(server.pid);
      const rate = count / r.seconds;
      rates[count] = { rate, growth: peak - before };
      rows.push({
        invoices: count,
        'total time': `${fmt.n(r.seconds)} s`,
        'invoices/s': fmt.n(rate),
        'vs single downloads': fmt.ratio(rate / single.rps),
        'first byte': fmt.ms(r.firstByteMs),
        'node RSS peak over start': fmt.deltaMib(peak - before),
        'bytes streamed': fmt.mib(r.bytes),
      });
      void startRss;
    }
    table(`Export (single downloads at concurrency 2: ${fmt.n(single.rps)} invoices/s)`, rows);
    table('Export targets', [
      verdict(
        'export rate >= 0.9x single-invoice throughput',
        rates[500]!.rate / single.rps >= 0.9,
        fmt.ratio(rates[500]!.rate / single.rps),
      ),
      verdict(
        'node RSS peak < +50 MiB, flat from 100 to 500',
        rates[500]!.growth < 50 * MiB && rates[500]!.growth - rates[100]!.growth < 10 * MiB,
        `${fmt.deltaMib(rates[100]!.growth)} (100), ${fmt.deltaMib(rates[500]!.growth)} (500)`,
      ),
    ]);
  } finally {
    await server.stop();
  }
}
