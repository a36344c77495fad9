// Processes that start together on a fresh database (a web and a worker dyno after a deploy) both come
// up: the one that finds the migration lock taken waits for the other instead of failing.
import { expect } from 'chai';
import { openDb } from '../server/db/connect.js';
import { loadConfig } from '../server/config.js';
import { DB_KINDS, freshMysqlDatabase } from './helpers/databases.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('migrations run by processes starting at once', () => {
  it('four opens of one fresh MySQL database all succeed, and the schema is there once', async function () {
    if (!DB_KINDS.includes('mysql')) this.skip();
    const mysql = await freshMysqlDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'booking-core-migrate-'));
    try {
      const config = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: mysql.url, NODE_ENV: 'test' });
      const dbs = await Promise.all(Array.from({ length: 4 }, () => openDb(config)));
      const [migrations] = await dbs[0]!.raw('select count(*) as n from knex_migrations');
      expect(Number(migrations[0].n)).to.equal(7);
      await Promise.all(dbs.map((db) => db.destroy()));
    } finally {
      await mysql.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
