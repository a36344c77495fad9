import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import knex, { type Knex } from 'knex';
import { createDb } from '../server/db/connect.js';
import { STATEMENTS_PER_CONNECTION } from '../server/db/sqlite-client.js';

describe('SQLite client that keeps prepared statements', () => {
  let dir: string;
  let db: Knex;
  /** knex's own better-sqlite3 client on the same file, for comparison. */
  let plain: Knex;
  let prepared: string[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-client-'));
    const filename = join(dir, 'test.db');
    db = createDb({ database: { kind: 'sqlite', filename }, dbPool: { min: 1, max: 1, acquireTimeoutMs: 5000, queryTimeoutMs: 5000 } });
    plain = knex({ client: 'better-sqlite3', connection: { filename }, useNullAsDefault: true });
    // Count what SQLite is asked to compile on the app's one connection.
    prepared = [];
    const connection = (await db.client.acquireConnection()) as Database;
    const prepare = connection.prepare.bind(connection);
    connection.prepare = ((sql: string) => (prepared.push(sql), prepare(sql))) as Database['prepare'];
    db.client.releaseConnection(connection);
    await db.schema.createTable('owners', (t) => {
      t.increments('id');
      t.string('name');
    });
    await db.schema.createTable('pets', (t) => {
      t.increments('id');
      t.integer('owner_id');
      t.string('name');
    });
  });
  afterEach(async () => {
    await db.destroy();
    await plain.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers inserts, updates and joins exactly as knex does, compiling each SQL text once', async () => {
    const [asha] = await db('owners').insert({ name: 'Asha' });
    const [ravi] = await db('owners').insert({ name: 'Ravi' });
    expect([asha, ravi]).to.deep.equal([1, 2]);
    for (const [owner, name] of [
      [asha, 'Moti'],
      [ravi, 'Sheru'],
      [asha, 'Bholu'],
    ] as const)
      await db('pets').insert({ owner_id: owner, name });
    expect(await db('pets').where('owner_id', asha).update({ name: 'renamed' })).to.equal(2);

    // Both tables have `id` and `name`: the later column wins, as in knex's own client.
    const join = (k: Knex) =>
      k('pets as p').join('owners as o', 'o.id', 'p.owner_id').select('p.*', 'o.*').orderBy('p.id');
    const ours = await join(db);
    expect(ours).to.have.length(3);
    expect(ours).to.deep.equal(await join(plain));
    expect(await db('pets').where('owner_id', ravi).first()).to.deep.equal({ id: 2, owner_id: ravi, name: 'Sheru' });

    const compiled = prepared.length;
    for (let i = 0; i < 5; i++) {
      expect(await join(db)).to.deep.equal(ours);
      await db('owners').insert({ name: `Owner ${i}` });
    }
    // Both the join and the insert were compiled before the loop, and not again.
    expect(prepared.length).to.equal(compiled);
  });

  it('follows a schema change made after a statement was kept', async () => {
    await db('pets').insert({ owner_id: 1, name: 'Moti' });
    const all = () => db('pets').select('*');
    expect(await all()).to.deep.equal([{ id: 1, owner_id: 1, name: 'Moti' }]);
    await db.schema.alterTable('pets', (t) => t.string('species').defaultTo('dog'));
    expect(await all()).to.deep.equal([{ id: 1, owner_id: 1, name: 'Moti', species: 'dog' }]);
    await db.schema.dropTable('pets');
    await db.schema.createTable('pets', (t) => {
      t.string('name');
      t.increments('id');
    });
    await db('pets').insert({ name: 'Sheru' });
    expect(await all()).to.deep.equal([{ name: 'Sheru', id: 1 }]);
  });

  it(`keeps at most ${STATEMENTS_PER_CONNECTION} statements, the least recently used going first`, async () => {
    const byName = (i: number) =>
      db('owners')
        .where('name', `n${i}`)
        .select('id', db.raw(`${i} as k`));
    for (let i = 0; i <= STATEMENTS_PER_CONNECTION; i++) await byName(i);
    const before = prepared.length;
    await byName(STATEMENTS_PER_CONNECTION); // still kept
    expect(prepared.length).to.equal(before);
    await byName(0); // pushed out by the newest
    expect(prepared.length).to.equal(before + 1);
  });
});
