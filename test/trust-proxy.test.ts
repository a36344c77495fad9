// TRUST_PROXY as Express means it, and the login limiter's buckets behind a one-hop proxy.
import { expect } from 'chai';
import request from 'supertest';
import { ConfigError, loadConfig, parseTrustProxy } from '../server/config.js';
import { withContext } from './helpers/context.js';

describe('TRUST_PROXY', () => {
  it('reads a hop count, booleans and address lists; anything else stops start-up', () => {
    expect(parseTrustProxy('1')).to.equal(1);
    expect(parseTrustProxy('true')).to.equal(true);
    expect(parseTrustProxy('false')).to.equal(false);
    expect(parseTrustProxy('loopback')).to.deep.equal(['loopback']);
    expect(parseTrustProxy('10.0.0.0/8, 127.0.0.1')).to.deep.equal(['10.0.0.0/8', '127.0.0.1']);
    for (const bad of ['banana', '10.0.0.0/99', '1,,2', 'yes please']) {
      expect(parseTrustProxy(bad), bad).to.equal(undefined);
      expect(() => loadConfig({ DATA_DIR: '/tmp/booking-trust-proxy', TRUST_PROXY: bad }), bad).to.throw(
        ConfigError,
        /TRUST_PROXY/,
      );
    }
  });

  describe('behind a one-hop proxy (TRUST_PROXY=1), the login limit counts each client apart', () => {
    // The proxy (Heroku's router) appends the address it saw to X-Forwarded-For: a client can put
    // anything before it, never after it.
    const login = (app: Parameters<typeof request>[0], forwardedFor: string) =>
      request(app)
        .post('/api/auth/login')
        .set('X-Forwarded-For', forwardedFor)
        .send({ email: 'nobody@example.test', password: 'wrong-password' });

    it('two clients have separate buckets, and a client cannot leave its own by sending X-Forwarded-For', async () => {
      await withContext({ TRUST_PROXY: '1', LOGIN_RATE_LIMIT: '5' }, async (ctx) => {
        for (let i = 0; i < 5; i++) expect((await login(ctx.app, '198.51.100.1')).status).to.equal(401);
        expect((await login(ctx.app, '198.51.100.1')).status).to.equal(429);
        // Another client behind the same router still has its attempts.
        expect((await login(ctx.app, '198.51.100.2')).status).to.equal(401);
        // The first client claims other addresses; the router's entry, last, is still its own.
        for (const claimed of ['203.0.113.9', '198.51.100.2', '10.0.0.1, 203.0.113.10'])
          expect((await login(ctx.app, `${claimed}, 198.51.100.1`)).status, claimed).to.equal(429);
      });
    });

    it('twenty clients behind one router are twenty buckets (the string "1" made them one)', async () => {
      await withContext({ TRUST_PROXY: '1', LOGIN_RATE_LIMIT: '20' }, async (ctx) => {
        for (let i = 0; i < 21; i++) expect((await login(ctx.app, `198.51.100.${i + 10}`)).status).to.equal(401);
      });
    });
  });
});
