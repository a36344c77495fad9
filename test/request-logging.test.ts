import { expect } from 'chai';
import express from 'express';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import request from 'supertest';
import { currentRequestId, requestLogging } from '../server/http/logging.js';

/** An app with the request logger in front, logging to memory. */
function loggedApp(level: string) {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const app = express();
  app.use(requestLogging(pino({ level }, sink)));
  app.get('/ok', (_req, res) => void res.json({ id: currentRequestId() }));
  app.get('/missing', (_req, res) => void res.status(404).json({}));
  return { app, lines };
}

describe('request logging', () => {
  it('logs one line per request with id, method, path (no query), status and time; never headers', async () => {
    const { app, lines } = loggedApp('info');
    const res = await request(app)
      .get('/ok?token=secret-value')
      .set('Authorization', 'Bearer secret-token')
      .set('X-Request-Id', 'router-req-1')
      .expect(200);
    // The id is in async context for the handler, and echoed to the client.
    expect(res.body.id).to.equal('router-req-1');
    expect(res.headers['x-request-id']).to.equal('router-req-1');
    await new Promise((r) => setImmediate(r));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ level: 30, msg: 'request completed' });
    expect(lines[0]!.req).to.deep.equal({ id: 'router-req-1', method: 'GET', path: '/ok' });
    expect(lines[0]!.res).to.deep.equal({ statusCode: 200 });
    expect(lines[0]!.responseTime).to.be.a('number');
    expect(JSON.stringify(lines)).not.to.include('secret');
  });

  it('logs client errors at warn, and nothing below the configured level', async () => {
    const warnOnly = loggedApp('warn');
    await request(warnOnly.app).get('/ok').expect(200);
    await request(warnOnly.app).get('/missing').expect(404);
    await new Promise((r) => setImmediate(r));
    expect(warnOnly.lines.map((l) => [l.level, l.res.statusCode])).to.deep.equal([[40, 404]]);
  });
});
