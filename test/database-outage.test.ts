// A database that stops answering is 503 database_unavailable with Retry-After, within seconds, as
// readiness says; not a 500 after the pool's old 30 s acquire timeout.
import { expect } from 'chai';
import request from 'supertest';
import { DB_KINDS, freshMysqlDatabase, MYSQL_URL } from './helpers/databases.js';
import { createBooking, registerCustomer, startContext, type TestContext } from './helpers/context.js';
import { freezableProxy, type FreezableProxy } from './helpers/freezable-proxy.js';

const describeMysql = DB_KINDS.includes('mysql') ? describe : describe.skip;

describeMysql('a database that stops answering [mysql]', () => {
  let proxy: FreezableProxy;
  let database: Awaited<ReturnType<typeof freshMysqlDatabase>>;
  let ctx: TestContext;
  let auth: string;
  before(async () => {
    const server = new URL(MYSQL_URL);
    proxy = await freezableProxy(server.hostname, Number(server.port || 3306));
    database = await freshMysqlDatabase();
    const url = new URL(database.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    ctx = await startContext('sqlite', {
      DATABASE_URL: url.toString(),
      DB_ACQUIRE_TIMEOUT_MS: '1500',
      DB_QUERY_TIMEOUT_MS: '2000',
    });
    auth = (await registerCustomer(ctx.app)).auth;
    await createBooking(ctx.app, auth);
  });
  after(async () => {
    proxy?.thaw();
    await ctx?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('answers 503 database_unavailable with Retry-After within the timeouts, then recovers', async () => {
    await request(ctx.app).get('/api/bookings').set('Authorization', auth).expect(200);
    proxy.freeze();
    // Every connection of the pool in turn: a query on a held connection, then waits for new ones.
    for (let i = 0; i < 6; i++) {
      const started = Date.now();
      const res = await request(ctx.app).get('/api/bookings').set('Authorization', auth);
      const took = Date.now() - started;
      expect(res.status, JSON.stringify(res.body)).to.equal(503);
      expect(res.body.error.code).to.equal('database_unavailable');
      expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
      // At most one acquire wait plus one query deadline (1.5 s + 2 s), with room for a slow machine.
      expect(took).to.be.below(6000);
    }
    const ready = await request(ctx.app).get('/api/health/ready');
    expect(ready.status).to.equal(503);
    expect(ready.body.failed).to.include('database');
    proxy.thaw();
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await request(ctx.app).get('/api/bookings').set('Authorization', auth)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).to.equal(200);
  });
});
