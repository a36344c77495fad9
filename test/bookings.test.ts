import { expect } from 'chai';
import request from 'supertest';
import { poolStats } from '../server/db/connect.js';
import { DB_KINDS } from './helpers/databases.js';
import {
  bookingBody,
  createBooking,
  loginAdmin,
  registerCustomer,
  startContext,
  type TestContext,
} from './helpers/context.js';

for (const kind of DB_KINDS) {
  describe(`bookings [${kind}]`, () => {
    let ctx: TestContext;
    let alice: { auth: string; id: number };
    let bob: { auth: string; id: number };
    before(async () => {
      ctx = await startContext(kind);
      alice = await registerCustomer(ctx.app, 'Alice');
      bob = await registerCustomer(ctx.app, 'Bob');
    });
    after(() => ctx?.close());

    it('computes CGST + SGST for a billing state equal to the supplier state (Karnataka, 29)', async () => {
      const b = await createBooking(ctx.app, alice.auth, { state: '29', gstin: '29ABCDE1234F1ZW' });
      expect(b.amounts).to.deep.equal({
        taxablePaise: 199_900,
        gstRateBp: 1800,
        cgstPaise: 17_991,
        sgstPaise: 17_991,
        igstPaise: 0,
        totalPaise: 235_882,
      });
      expect(b).to.include({
        status: 'pending',
        supplyType: 'intra-state',
        serviceCode: 'gst-returns-monthly',
        sac: '998232',
      });
    });

    it('computes IGST for another state (Maharashtra, 27) and stores the time in UTC', async () => {
      const b = await createBooking(ctx.app, alice.auth, {
        state: '27',
        gstin: '27AAPFU0939F1ZV',
        scheduledAt: '2030-01-15T10:30:00+05:30',
      });
      expect(b.amounts).to.include({ cgstPaise: 0, sgstPaise: 0, igstPaise: 35_982, totalPaise: 235_882 });
      expect(b.scheduledAt).to.equal('2030-01-15T05:00:00.000Z');
      expect(b.supplyType).to.equal('inter-state');
    });

    it('refuses bad billing data with 400: unknown state, malformed GSTIN, GSTIN of another state', async () => {
      const cases: [Parameters<typeof bookingBody>[0], RegExp][] = [
        [{ state: '28' }, /billing.state/],
        [{ state: '29', gstin: '29ABCDE1234F1Z5' }, /billing.gstin/],
        [{ state: '29', gstin: '27AAPFU0939F1ZV' }, /first two digits/],
      ];
      for (const [overrides, message] of cases) {
        const res = await request(ctx.app)
          .post('/api/bookings')
          .set('Authorization', alice.auth)
          .send(bookingBody(overrides))
          .expect(400);
        expect(res.body.error.code).to.equal('validation_failed');
        expect(res.body.error.message).to.match(message);
      }
    });

    it('refuses missing fields, wrong types, past dates and unknown services with 400', async () => {
      const good = bookingBody();
      const bad = [
        {},
        { ...good, serviceCode: undefined },
        { ...good, scheduledAt: 'tomorrow' },
        { ...good, scheduledAt: '2001-01-01T00:00:00Z' },
        { ...good, serviceCode: 42 },
        { ...good, billing: { ...good.billing, pincode: '12345' } },
        { ...good, billing: 'somewhere' },
        { ...good, serviceCode: "x'; DROP TABLE bookings; --" },
      ];
      for (const body of bad) {
        const res = await request(ctx.app)
          .post('/api/bookings')
          .set('Authorization', alice.auth)
          .send(body)
          .expect(400);
        expect(res.body.error.code).to.equal('validation_failed');
      }
      // The SQL-looking string was data, not SQL: the table is still there.
      await request(ctx.app).get('/api/bookings').set('Authorization', alice.auth).expect(200);
    });

    it('stores SQL-looking and HTML strings literally', async () => {
      const name = `Robert'); DROP TABLE users; -- <b>`;
      const b = await createBooking(ctx.app, alice.auth, { name });
      const res = await request(ctx.app).get(`/api/bookings/${b.id}`).set('Authorization', alice.auth).expect(200);
      expect(res.body.billing.name).to.equal(name);
    });

    it("shows a customer only their own bookings; someone else's is a 404", async () => {
      const mine = await createBooking(ctx.app, bob.auth);
      await request(ctx.app).get(`/api/bookings/${mine.id}`).set('Authorization', bob.auth).expect(200);
      const other = await request(ctx.app).get(`/api/bookings/${mine.id}`).set('Authorization', alice.auth).expect(404);
      expect(other.body.error.code).to.equal('not_found');
      await request(ctx.app).get('/api/bookings/999999').set('Authorization', bob.auth).expect(404);
      await request(ctx.app).get('/api/bookings/abc').set('Authorization', bob.auth).expect(404);
      await request(ctx.app).get('/api/bookings/-1').set('Authorization', bob.auth).expect(404);
      const list = await request(ctx.app).get('/api/bookings').set('Authorization', alice.auth).expect(200);
      expect(list.body.items.map((b: { id: number }) => b.id)).not.to.include(mine.id);
    });

    it('paginates newest first with a cursor that neither skips nor repeats', async () => {
      const carol = await registerCustomer(ctx.app, 'Carol');
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push((await createBooking(ctx.app, carol.auth)).id);
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const res: request.Response = await request(ctx.app)
          .get('/api/bookings')
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .set('Authorization', carol.auth)
          .expect(200);
        seen.push(...res.body.items.map((b: { id: number }) => b.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen).to.deep.equal([...ids].reverse());
      await request(ctx.app).get('/api/bookings').query({ limit: 0 }).set('Authorization', carol.auth).expect(400);
      await request(ctx.app).get('/api/bookings').query({ cursor: 'x' }).set('Authorization', carol.auth).expect(400);
    });

    it('lets an admin list all bookings filtered by status and date range, and move a status forward', async () => {
      const admin = await loginAdmin(ctx.app);
      const b = await createBooking(ctx.app, bob.auth, { scheduledAt: '2031-03-10T09:00:00Z' });
      const inRange = await request(ctx.app)
        .get('/api/admin/bookings')
        .query({ from: '2031-03-10', to: '2031-03-10' })
        .set('Authorization', admin)
        .expect(200);
      expect(inRange.body.items.map((x: { id: number }) => x.id)).to.deep.equal([b.id]);
      const confirmed = await request(ctx.app)
        .patch(`/api/admin/bookings/${b.id}`)
        .set('Authorization', admin)
        .send({ status: 'confirmed' })
        .expect(200);
      expect(confirmed.body.status).to.equal('confirmed');
      const byStatus = await request(ctx.app)
        .get('/api/admin/bookings')
        .query({ status: 'confirmed' })
        .set('Authorization', admin)
        .expect(200);
      expect(byStatus.body.items.every((x: { status: string }) => x.status === 'confirmed')).to.equal(true);
      expect(byStatus.body.items.map((x: { id: number }) => x.id)).to.include(b.id);
      await request(ctx.app)
        .patch(`/api/admin/bookings/${b.id}`)
        .set('Authorization', admin)
        .send({ status: 'completed' })
        .expect(200);
      const back = await request(ctx.app)
        .patch(`/api/admin/bookings/${b.id}`)
        .set('Authorization', admin)
        .send({ status: 'pending' })
        .expect(409);
      expect(back.body.error.code).to.equal('invalid_transition');
      await request(ctx.app)
        .patch(`/api/admin/bookings/${b.id}`)
        .set('Authorization', admin)
        .send({ status: 'archived' })
        .expect(400);
      await request(ctx.app)
        .patch('/api/admin/bookings/999999')
        .set('Authorization', admin)
        .send({ status: 'confirmed' })
        .expect(404);
      await request(ctx.app)
        .get('/api/admin/bookings')
        .query({ from: '10/03/2031' })
        .set('Authorization', admin)
        .expect(400);
    });
  });
}

if (DB_KINDS.includes('mysql')) {
  describe('MySQL pool 2 + 2 under 20 concurrent requests', () => {
    let ctx: TestContext;
    before(async () => (ctx = await startContext('mysql')));
    after(() => ctx?.close());

    it('answers all 200 without pool errors and never holds more than 4 connections', async () => {
      const { auth } = await registerCustomer(ctx.app);
      await createBooking(ctx.app, auth);
      let peak = 0;
      const sampler = setInterval(() => {
        const s = poolStats(ctx.rt.db);
        peak = Math.max(peak, s.used + s.free + s.pendingCreates);
      }, 1);
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => request(ctx.app).get('/api/bookings').set('Authorization', auth)),
      );
      clearInterval(sampler);
      expect(responses.map((r) => r.status)).to.deep.equal(Array(20).fill(200));
      expect(responses.every((r) => r.body.items.length === 1)).to.equal(true);
      expect(poolStats(ctx.rt.db).max).to.equal(4);
      expect(peak).to.be.within(1, 4);
    });
  });
}
