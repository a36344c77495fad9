import { expect } from 'chai';
import request from 'supertest';
import { startContext, type TestContext } from './helpers/context.js';

describe('HTTP basics', () => {
  let ctx: TestContext;
  before(async () => (ctx = await startContext('sqlite', { BODY_LIMIT: '2kb' })));
  after(() => ctx?.close());

  it('answers unknown routes with a JSON 404 and a request id', async () => {
    const res = await request(ctx.app).get('/api/nothing-here').expect(404);
    expect(res.body).to.deep.equal({ error: { code: 'not_found', message: 'no route for GET /api/nothing-here' } });
    expect(res.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
  });

  it('keeps a well-formed incoming X-Request-Id and replaces a malformed one', async () => {
    const kept = await request(ctx.app).get('/api/services').set('X-Request-Id', 'router-abc-123');
    expect(kept.headers['x-request-id']).to.equal('router-abc-123');
    const replaced = await request(ctx.app).get('/api/services').set('X-Request-Id', '<script>');
    expect(replaced.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await request(ctx.app)
      .post('/api/auth/login')
      .set('Content-Type', 'application/json')
      .send('{"email": ')
      .expect(400);
    expect(res.body.error.code).to.equal('invalid_json');
  });

  it('answers an oversized JSON body with 413', async () => {
    const res = await request(ctx.app)
      .post('/api/auth/register')
      .send({ email: 'a@example.test', password: 'x'.repeat(4000), name: 'n' })
      .expect(413);
    expect(res.body.error.code).to.equal('payload_too_large');
  });

  it('sets the helmet headers', async () => {
    const res = await request(ctx.app).get('/api/services').expect(200);
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers['x-powered-by']).to.equal(undefined);
    expect(res.headers['content-security-policy']).to.contain("default-src 'self'");
  });

  it('lists the seeded catalogue with SAC codes and prices in paise', async () => {
    const res = await request(ctx.app).get('/api/services').expect(200);
    expect(res.body.items.length).to.be.greaterThan(3);
    for (const s of res.body.items) {
      expect(s.sac).to.match(/^99\d{4}$/);
      expect(Number.isInteger(s.pricePaise)).to.equal(true);
      expect(s.gstRateBp).to.equal(1800);
    }
    expect(res.body.items.map((s: { sac: string }) => s.sac)).to.include.members(['998231', '998232']);
  });
});
