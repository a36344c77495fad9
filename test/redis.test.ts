// Shared state in Redis (REDIS_URL): limits counted once for every app on it, readiness that covers
// Redis, 503 rate_limit_unavailable (not a waived limit, not a 500) when it stops answering, and a clear
// refusal to start when it is configured but absent. Against the machine's Redis; never skipped.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startContext, type TestContext } from './helpers/context.js';
import { freezableProxy } from './helpers/freezable-proxy.js';

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const wrongLogin = (ctx: TestContext) =>
  request(ctx.app).post('/api/auth/login').send({ email: 'nobody@example.test', password: 'wrong-password' });

describe('shared state in Redis', () => {
  const prefix = `booking-test-${randomBytes(4).toString('hex')}:`;
  after(async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('two apps on one Redis count one login limit; a third with another key prefix counts its own', async () => {
    const env = { REDIS_URL, REDIS_KEY_PREFIX: prefix, LOGIN_RATE_LIMIT: '4' };
    const [one, two, other] = await Promise.all([
      startContext('sqlite', env),
      startContext('sqlite', env),
      startContext('sqlite', { ...env, REDIS_KEY_PREFIX: `${prefix}other:` }),
    ]);
    try {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await wrongLogin(i % 2 ? two : one)).status);
      expect(statuses).to.deep.equal([401, 401, 401, 401, 429, 429]);
      expect((await wrongLogin(other)).status).to.equal(401);
      expect(await one.rt.redis!.keys(`${prefix}rl:login:*`)).to.have.length(1);
    } finally {
      await Promise.all([one.close(), two.close(), other.close()]);
    }
  });

  it('Redis that stops answering: readiness fails on redis, logins get 503 with Retry-After; both recover', async () => {
    const target = new URL(REDIS_URL);
    const proxy = await freezableProxy(target.hostname, Number(target.port || 6379));
    const ctx = await startContext('sqlite', {
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      REDIS_KEY_PREFIX: `${prefix}frozen:`,
    });
    try {
      expect((await request(ctx.app).get('/api/health/ready')).status).to.equal(200);
      proxy.freeze();
      const ready = await request(ctx.app).get('/api/health/ready').expect(503);
      expect(ready.body.failed).to.deep.equal(['redis']);
      const started = Date.now();
      const login = await wrongLogin(ctx).expect(503);
      expect(login.body.error.code).to.equal('rate_limit_unavailable');
      expect(login.headers['retry-after']).to.equal('5');
      expect(Date.now() - started).to.be.below(7_000);
      proxy.thaw();
      await request(ctx.app).get('/api/health/ready').expect(200);
      expect((await wrongLogin(ctx)).status).to.equal(401);
    } finally {
      proxy.thaw();
      await ctx.close();
      await proxy.close();
    }
  });

  it('a configured Redis that is not there stops start-up with a clear error', async () => {
    const err = await startContext('sqlite', { REDIS_URL: 'redis://127.0.0.1:9' }).catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.match(/^REDIS_URL does not answer/);
  });
});
