// GET /api/bookings against MySQL with the 2 + 2 pool: latency at 20 and 200 concurrent clients,
// beside a bare endpoint of the same app (no database) measured in the same run.
import {
  benchDatabase,
  booking,
  cannonLoad,
  customer,
  fmt,
  startServer,
  table,
  verdict,
  type LoadResult,
} from './lib.js';

export async function benchDb(): Promise<void> {
  const database = await benchDatabase('booking_bench');
  const app = await startServer({ DATABASE_URL: database.url });
  try {
    const auth = await customer(app.url);
    for (let i = 0; i < 30; i++) await booking(app.url, auth);
    const list = `${app.url}/api/bookings?limit=20`;
    const headers = { Authorization: auth };
    await cannonLoad(list, 20, 1000, headers); // warm-up: connections, JIT
    const bare20 = await cannonLoad(`${app.url}/api/health`, 20, 5000);
    const at20 = await cannonLoad(list, 20, 5000, headers);
    const at200 = await cannonLoad(list, 200, 10000, headers);
    const row = (name: string, r: LoadResult) => ({
      run: name,
      requests: r.requests,
      'req/s': fmt.n(r.rps, 0),
      p50: fmt.ms(r.p50),
      p95: fmt.ms(r.p95),
      max: fmt.ms(r.max),
      errors: r.errors,
      'vs bare': fmt.ratio(r.rps / bare20.rps),
    });
    table('Database: GET /api/bookings on MySQL, pool 2 + 2 (compiled server, autocannon on the same machine)', [
      row('bare GET /api/health, 20 concurrent', bare20),
      row('GET /api/bookings, 20 concurrent', at20),
      row('GET /api/bookings, 200 concurrent', at200),
    ]);
    table('Database targets', [
      verdict('p95 < 50 ms at 20 concurrent', at20.p95 < 50, fmt.ms(at20.p95)),
      verdict('zero errors at 200 concurrent', at200.errors === 0, `${at200.errors} errors`),
    ]);
  } finally {
    await app.stop();
    await database.drop();
  }
}
