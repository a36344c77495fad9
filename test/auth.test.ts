import { expect } from 'chai';
import { SignJWT } from 'jose';
import request from 'supertest';
import { DB_KINDS } from './helpers/databases.js';
import { ADMIN, loginAdmin, registerCustomer, startContext, type TestContext } from './helpers/context.js';

for (const kind of DB_KINDS) {
  describe(`auth [${kind}]`, () => {
    let ctx: TestContext;
    before(async () => (ctx = await startContext(kind, { LOGIN_RATE_LIMIT: '5' })));
    after(() => ctx?.close());

    it('registers a customer (201, token, user without password) and refuses a taken email with 409', async () => {
      const body = { email: 'Asha@Example.test', password: 'long-enough-1', name: 'Asha' };
      const res = await request(ctx.app).post('/api/auth/register').send(body).expect(201);
      expect(res.body.token).to.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(res.body.user).to.include({ email: 'asha@example.test', name: 'Asha', role: 'customer' });
      expect(JSON.stringify(res.body)).not.to.contain('long-enough-1');
      expect(JSON.stringify(res.body)).not.to.contain('password');
      const again = await request(ctx.app)
        .post('/api/auth/register')
        .send({ ...body, email: 'asha@example.test' })
        .expect(409);
      expect(again.body).to.deep.equal({
        error: { code: 'email_taken', message: 'an account with this email already exists' },
      });
    });

    it('validates registration input with 400 and the error shape', async () => {
      for (const body of [
        {},
        { email: 'not-an-email', password: 'long-enough-1', name: 'x' },
        { email: 'b@example.test', password: 'short', name: 'x' },
        { email: 'c@example.test', password: 12345678, name: 'x' },
        { email: 'd@example.test', password: 'long-enough-1', name: '' },
      ]) {
        const res = await request(ctx.app).post('/api/auth/register').send(body).expect(400);
        expect(res.body.error.code).to.equal('validation_failed');
        expect(res.body.error.message).to.be.a('string').and.not.be.empty;
      }
    });

    it('logs in, and answers unknown email and wrong password with the same 401', async () => {
      await request(ctx.app)
        .post('/api/auth/register')
        .send({ email: 'ravi@example.test', password: 'ravi-password', name: 'Ravi' })
        .expect(201);
      const ok = await request(ctx.app)
        .post('/api/auth/login')
        .send({ email: 'RAVI@example.test', password: 'ravi-password' })
        .expect(200);
      expect(ok.body.user.email).to.equal('ravi@example.test');
      const wrong = await request(ctx.app)
        .post('/api/auth/login')
        .send({ email: 'ravi@example.test', password: 'nope-nope' })
        .expect(401);
      const unknown = await request(ctx.app)
        .post('/api/auth/login')
        .send({ email: 'nobody@example.test', password: 'nope-nope' })
        .expect(401);
      expect(wrong.body).to.deep.equal(unknown.body);
      const me = await request(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${ok.body.token}`).expect(200);
      expect(me.body.user).to.include({ email: 'ravi@example.test', role: 'customer' });
    });

    it('ensures the configured admin exists with the admin role', async () => {
      const res = await request(ctx.app).post('/api/auth/login').send(ADMIN).expect(200);
      expect(res.body.user.role).to.equal('admin');
    });

    it('refuses missing, malformed, forged and expired tokens with 401', async () => {
      const me = () => request(ctx.app).get('/api/auth/me');
      expect((await me().expect(401)).body.error.code).to.equal('unauthorized');
      await me().set('Authorization', 'Basic abc').expect(401);
      await me().set('Authorization', 'Bearer not.a.jwt').expect(401);
      const forged = await new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('1')
        .setIssuer('booking-core')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('another-secret-another-secret-0123456'));
      await me().set('Authorization', `Bearer ${forged}`).expect(401);
      const expired = await new SignJWT({ role: 'customer' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('1')
        .setIssuer('booking-core')
        .setIssuedAt(1_000_000)
        .setExpirationTime(1_000_060)
        .sign(new TextEncoder().encode(ctx.rt.config.auth.jwtSecret));
      const res = await me().set('Authorization', `Bearer ${expired}`).expect(401);
      expect(res.body.error.message).to.equal('token has expired');
    });

    it('gives a customer 403 on admin routes', async () => {
      const { auth } = await registerCustomer(ctx.app);
      const res = await request(ctx.app).get('/api/admin/bookings').set('Authorization', auth).expect(403);
      expect(res.body.error.code).to.equal('forbidden');
      await request(ctx.app)
        .get('/api/admin/bookings')
        .set('Authorization', await loginAdmin(ctx.app))
        .expect(200);
    });

    it('rate-limits login attempts with 429 and Retry-After', async () => {
      let last;
      for (let i = 0; i < 8; i++) {
        last = await request(ctx.app).post('/api/auth/login').send({ email: 'x@example.test', password: 'whatever-1' });
      }
      expect(last!.status).to.equal(429);
      expect(last!.body.error.code).to.equal('too_many_requests');
      expect(Number(last!.headers['retry-after'])).to.be.greaterThan(0);
    });
  });
}

describe('token verification cache', () => {
  it('refuses a cached token once it expires, and never caches a refused one', async () => {
    const { TokenService } = await import('../server/auth/tokens.js');
    const tokens = new TokenService('cache-secret-cache-secret-cache-secret-01', '1s', async () => ({
      role: 'customer',
      tokenVersion: 0,
    }));
    const token = await tokens.sign({ id: 7, tokenVersion: 0 });
    expect(await tokens.verify(token)).to.deep.equal({ id: 7, role: 'customer' });
    expect(await tokens.verify(token)).to.deep.equal({ id: 7, role: 'customer' }); // served from the cache
    const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    expect(await tokens.verify(forged)).to.deep.equal({ refused: 'token is invalid' });
    await new Promise((r) => setTimeout(r, 2100));
    expect(await tokens.verify(token)).to.deep.equal({ refused: 'token has expired' });
  });
});
