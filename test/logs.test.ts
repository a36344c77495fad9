// What the real app writes to its log: never a signature, a token or a bound value of a failed query
// (password hashes, names, addresses, GSTINs).
import { checkedApp } from './helpers/contract.js';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import request from 'supertest';
import { createApp } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { startRuntime } from '../server/runtime.js';
import { mediaChunks } from '../tools/media.js';
import { upload } from '../tools/multipart.js';
import { DB_KINDS, freshMysqlDatabase } from './helpers/databases.js';
import { capturedLogger, registerCustomer, testEnv } from './helpers/context.js';
import { listen } from './helpers/server.js';

async function loggedApp(env: Record<string, string> = {}) {
  const { logger, lines } = capturedLogger();
  const dataDir = mkdtempSync(join(tmpdir(), 'booking-logs-'));
  const config = loadConfig(testEnv(dataDir, { LOG_LEVEL: 'info', ...env }));
  const rt = await startRuntime(config, logger);
  return {
    rt,
    app: checkedApp(createApp(rt)),
    lines,
    async close() {
      await rt.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('what the log carries', () => {
  it('a read through a signed URL is logged by its path: no signature, no token', async () => {
    const logged = await loggedApp();
    const http = await listen(logged.app);
    try {
      const { auth } = await registerCustomer(logged.app);
      const res = await upload(
        `${http.url}/api/uploads/image`,
        [{ filename: 'a.jpg', content: mediaChunks('jpeg', 4096) }],
        {
          headers: { Authorization: auth },
        },
      );
      await request(logged.app).get(res.body.url).expect(200);
      await request(logged.app).get('/api/uploads').set('Authorization', auth).expect(200);
      await new Promise((r) => setImmediate(r));
      const log = logged.lines.join('');
      expect(log).to.include(`"path":"/api/uploads/${res.body.name}"`);
      const token = auth.slice('Bearer '.length);
      for (const secret of [
        'signature',
        'expires=',
        token,
        new URL(res.body.url, 'http://x').searchParams.get('signature')!,
      ])
        expect(log, secret).not.to.include(secret);
    } finally {
      await http.close();
      await logged.close();
    }
  });

  for (const kind of DB_KINDS) {
    it(`a failing query's log line carries the SQL, never its bound values [${kind}]`, async () => {
      const mysql = kind === 'mysql' ? await freshMysqlDatabase() : undefined;
      const logged = await loggedApp(mysql ? { DATABASE_URL: mysql.url } : {});
      try {
        // A value no column can hold, in an insert that also carries personal data.
        const secretName = 'Priya Secret-Name 29AAACT1234K1ZC';
        const err = await logged.rt
          .db('users')
          .insert({
            email: 'x@example.test',
            password_hash: 'scrypt$secret-hash',
            name: secretName,
            role: 'customer',
            created_at: 'x',
            no_such_column: 1,
          })
          .catch((e: Error) => e);
        expect(err).to.be.instanceOf(Error);
        // As the error handler's log line has it: pino's error serializer keeps every own property.
        const line = JSON.stringify(pino.stdSerializers.err(err as Error));
        expect(line).to.include('insert into');
        for (const value of [secretName, 'scrypt$secret-hash', 'x@example.test'])
          expect(line, value).not.to.include(value);
        // A duplicate key: the server's message would quote the taken email.
        const row = {
          email: 'taken@example.test',
          password_hash: 'h',
          name: secretName,
          role: 'customer',
          created_at: 'x',
        };
        await logged.rt.db('users').insert(row);
        const duplicate = await logged.rt
          .db('users')
          .insert(row)
          .catch((e: Error) => e);
        const duplicateLine = JSON.stringify(pino.stdSerializers.err(duplicate as Error));
        expect(duplicateLine).to.match(/unique|duplicate/i);
        for (const value of [secretName, 'taken@example.test']) expect(duplicateLine, value).not.to.include(value);
      } finally {
        await logged.close();
        await mysql?.drop();
      }
    });
  }
});
