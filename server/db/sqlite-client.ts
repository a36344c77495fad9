// knex's better-sqlite3 client, with each connection keeping its prepared statements. knex prepares
// every query afresh, and SQLite compiling the SQL each time profiled at ~8 % of the main thread under
// a load of `GET /api/bookings` (the app's most frequent request). The cache is keyed by the SQL text
// and bounded (`whereIn` lists make new texts); it goes with its connection. A kept statement stays
// right across schema changes: SQLite re-prepares it itself, and better-sqlite3 reads column names
// from the live statement for every row.
// (Reading rows as arrays and making the objects in JavaScript measured ~7 % more on top, but a kept
// list of column names goes stale when a migration changes a table, so rows stay better-sqlite3's.)
import { createRequire } from 'node:module';
import type { Database, Statement } from 'better-sqlite3';
import { LRUCache } from 'lru-cache';

const require = createRequire(import.meta.url);

interface KnexQuery {
  sql: string;
  bindings?: unknown[];
  response?: unknown;
  context?: { lastID: number | bigint; changes: number };
}

interface KnexBetterSqlite3Client {
  _formatBindings(bindings: unknown[] | undefined): unknown[];
}

// knex exports no dialect classes; this is the one `client: 'better-sqlite3'` stands for.
const KnexBetterSqlite3 = require('knex/lib/dialects/better-sqlite3/index.js') as new (
  config: unknown,
) => KnexBetterSqlite3Client;

/** Distinct query texts kept per connection; the app has a few dozen. */
export const STATEMENTS_PER_CONNECTION = 200;

const statementCaches = new WeakMap<Database, LRUCache<string, Statement>>();

function prepare(connection: Database, sql: string): Statement {
  let cache = statementCaches.get(connection);
  if (!cache) statementCaches.set(connection, (cache = new LRUCache({ max: STATEMENTS_PER_CONNECTION })));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = connection.prepare(sql)));
  return statement;
}

export class CachingSqliteClient extends KnexBetterSqlite3 {
  /** What knex's own client does, with a kept statement. knex's `safeIntegers` option is not used here. */
  async _query(connection: Database, query: KnexQuery): Promise<KnexQuery> {
    if (!query.sql) throw new Error('The query is empty');
    const statement = prepare(connection, query.sql);
    const bindings = this._formatBindings(query.bindings);
    if (statement.reader) {
      query.response = statement.all(bindings);
      return query;
    }
    const result = statement.run(bindings);
    query.response = result;
    query.context = { lastID: result.lastInsertRowid, changes: result.changes };
    return query;
  }
}
