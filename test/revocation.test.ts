// Tokens can be revoked (password change, log out everywhere, a deleted or demoted user), and the
// endpoints that hash passwords are bounded.
import { expect } from 'chai';
import request from 'supertest';
import { HOLDER_CACHE_MS } from '../server/auth/tokens.js';
import { bookingBody, registerCustomer, withContext } from './helpers/context.js';

const me = (app: Parameters<typeof request>[0], auth: string) =>
  request(app).get('/api/auth/me').set('Authorization', auth);
const login = async (app: Parameters<typeof request>[0], email: string, password = 'customer-pass-1') =>
  `Bearer ${(await request(app).post('/api/auth/login').send({ email, password }).expect(200)).body.token}`;
const afterCache = () => new Promise((r) => setTimeout(r, HOLDER_CACHE_MS + 100));

describe('token revocation', () => {
  it('POST /api/auth/logout-all ends every token of the account at once', async () => {
    await withContext({}, async (ctx) => {
      const { auth, email } = await registerCustomer(ctx.app);
      const other = await login(ctx.app, email);
      await me(ctx.app, other).expect(200);
      await request(ctx.app).post('/api/auth/logout-all').set('Authorization', auth).expect(204);
      for (const token of [auth, other]) {
        const res = await me(ctx.app, token).expect(401);
        expect(res.body.error.message).to.equal('token has been revoked');
      }
      await me(ctx.app, await login(ctx.app, email)).expect(200); // a new login works
    });
  });

  it('POST /api/auth/password needs the current password, then revokes every other token', async () => {
    await withContext({}, async (ctx) => {
      const { auth, email } = await registerCustomer(ctx.app);
      const other = await login(ctx.app, email);
      const wrong = await request(ctx.app)
        .post('/api/auth/password')
        .set('Authorization', auth)
        .send({ currentPassword: 'not-it', newPassword: 'new-password-2' })
        .expect(401);
      expect(wrong.body.error.code).to.equal('unauthorized');
      await request(ctx.app)
        .post('/api/auth/password')
        .set('Authorization', auth)
        .send({ currentPassword: 'customer-pass-1', newPassword: 'short' })
        .expect(400);
      const changed = await request(ctx.app)
        .post('/api/auth/password')
        .set('Authorization', auth)
        .send({ currentPassword: 'customer-pass-1', newPassword: 'new-password-2' })
        .expect(200);
      await me(ctx.app, `Bearer ${changed.body.token}`).expect(200);
      await me(ctx.app, auth).expect(401);
      await me(ctx.app, other).expect(401);
      await request(ctx.app).post('/api/auth/login').send({ email, password: 'customer-pass-1' }).expect(401);
      await login(ctx.app, email, 'new-password-2');
    });
  });

  it("a deleted user's token gets 401 (never a 500 from a foreign key) within the holder cache's life", async () => {
    await withContext({}, async (ctx) => {
      const { auth, id } = await registerCustomer(ctx.app);
      await me(ctx.app, auth).expect(200);
      await ctx.rt.db('users').where({ id }).delete();
      await afterCache();
      expect((await me(ctx.app, auth).expect(401)).body.error.message).to.equal('the account no longer exists');
      await request(ctx.app).post('/api/bookings').set('Authorization', auth).send(bookingBody()).expect(401);
    });
  });

  it("a demoted admin loses admin routes within the holder cache's life, without a new token", async () => {
    await withContext({}, async (ctx) => {
      const { auth, id } = await registerCustomer(ctx.app);
      await ctx.rt.db('users').where({ id }).update({ role: 'admin' });
      await afterCache();
      await request(ctx.app).get('/api/admin/bookings').set('Authorization', auth).expect(200);
      await ctx.rt.db('users').where({ id }).update({ role: 'customer' });
      await afterCache();
      await request(ctx.app).get('/api/admin/bookings').set('Authorization', auth).expect(403);
    });
  });
});

describe('password hashing is bounded', () => {
  it('registration is rate-limited per client (REGISTER_RATE_LIMIT)', async () => {
    await withContext({ REGISTER_RATE_LIMIT: '3' }, async (ctx) => {
      const register = (i: number) =>
        request(ctx.app)
          .post('/api/auth/register')
          .send({ email: `limit${i}@example.test`, password: 'customer-pass-1', name: 'N' });
      for (let i = 0; i < 3; i++) await register(i).expect(201);
      const res = await register(3).expect(429);
      expect(res.body.error.code).to.equal('too_many_requests');
      expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
    });
  });

  it('a burst of registrations: a few wait their turn, the rest get 503 busy with Retry-After', async () => {
    await withContext({}, async (ctx) => {
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          request(ctx.app)
            .post('/api/auth/register')
            .send({ email: `burst${i}@example.test`, password: 'customer-pass-1', name: 'N' }),
        ),
      );
      const statuses = responses.map((r) => r.status);
      expect(
        statuses.every((s) => s === 201 || s === 503),
        String(statuses),
      ).to.equal(true);
      const busy = responses.filter((r) => r.status === 503);
      expect(busy.length, String(statuses)).to.be.at.least(1);
      // Two hashing and eight waiting are served: at least ten created.
      expect(statuses.filter((s) => s === 201).length, String(statuses)).to.be.at.least(10);
      for (const r of busy) {
        expect(r.body.error.code).to.equal('busy');
        expect(r.headers['retry-after']).to.equal('1');
      }
    });
  });
});
