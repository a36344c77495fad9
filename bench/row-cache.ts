// What reading the upload row on every file request costs: on MySQL (several processes may serve, and
// another may delete) the row is read each time; on SQLite (one process) it stays cached. A 4 KiB file
// (bytes from memory on both) read through its signed URL, on one server of each, in alternating rounds.
import autocannon from 'autocannon';
import { mediaChunks } from '../tools/media.js';
import { upload } from '../tools/multipart.js';
import { benchDatabase, customer, fmt, startServer, table } from './lib.js';

const ROUNDS = 3;

export async function benchRowCache(): Promise<void> {
  const database = await benchDatabase('booking_bench_rows');
  const servers = { sqlite: await startServer(), mysql: await startServer({ DATABASE_URL: database.url }) };
  try {
    const files: Record<string, string> = {};
    for (const [name, server] of Object.entries(servers)) {
      const auth = await customer(server.url);
      const res = await upload(
        `${server.url}/api/uploads/image`,
        [{ filename: 'a.jpg', content: mediaChunks('jpeg', 4096) }],
        {
          headers: { Authorization: auth },
        },
      );
      files[name] = `${server.url}${res.body.url}`;
      await autocannon({ url: files[name]!, connections: 20, duration: 2 }); // warm-up
    }
    const rates: Record<string, number[]> = { sqlite: [], mysql: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of ['sqlite', 'mysql']) {
        const r = await autocannon({ url: files[name]!, connections: 20, duration: 4 });
        if (r.errors || r.non2xx) throw new Error(`${name}: ${r.errors} errors, ${r.non2xx} non-2xx`);
        rates[name]!.push(r.requests.average);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    table(`A 4 KiB file through its signed URL, 20 connections, mean of ${ROUNDS} alternating rounds`, [
      { server: 'SQLite (row cached)', 'req/s': fmt.n(mean(rates.sqlite!), 0), ratio: '1.00x' },
      {
        server: 'MySQL (row read per request)',
        'req/s': fmt.n(mean(rates.mysql!), 0),
        ratio: fmt.ratio(mean(rates.mysql!) / mean(rates.sqlite!)),
      },
    ]);
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    await database.drop();
  }
}
