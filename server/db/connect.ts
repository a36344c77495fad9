// knex over embedded SQLite (better-sqlite3) or MySQL (mysql2), chosen by DATABASE_URL.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knex, { type Knex } from 'knex';
import type { Config } from '../config.js';
import { runMigrations } from './migrate.js';

export type Db = Knex;

export function createDb(config: Pick<Config, 'database' | 'dbPool'>): Db {
  const { database, dbPool } = config;
  if (database.kind === 'sqlite') {
    mkdirSync(dirname(database.filename), { recursive: true });
    return knex({
      client: 'better-sqlite3',
      connection: { filename: database.filename },
      useNullAsDefault: true,
      compileSqlOnError: false,
      // SQLite has one writer: a single connection avoids SQLITE_BUSY and keeps transactions serial.
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          // One process owns the file: a second server on the same DATA_DIR fails at start-up with a
          // clear message (openDb) instead of answering 500s with SQLITE_BUSY under load. Set before
          // WAL, the WAL index also lives in this process's memory rather than a shared -shm file.
          conn.pragma('locking_mode = EXCLUSIVE');
          conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = NORMAL');
          conn.pragma('busy_timeout = 5000');
          conn.pragma('foreign_keys = ON');
          done(null, conn);
        },
      },
    });
  }
  const url = new URL(database.url);
  const db = knex({
    client: 'mysql2',
    connection: {
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: url.pathname.slice(1),
      charset: 'utf8mb4',
      timezone: 'Z',
      // MySQL closes idle connections (wait_timeout); keep-alive plus knex's validation on acquire
      // replaces a dead one instead of handing it to a request.
      enableKeepAlive: true,
      // A server that does not answer the handshake is given up on as quickly as a query.
      connectTimeout: dbPool.queryTimeoutMs,
      supportBigNumbers: true,
      bigNumberStrings: false,
    },
    // "2 + 2": two connections kept, up to two more under load, retired after 30 s idle.
    // A request that finds all four busy waits in the queue up to the acquire timeout instead of failing.
    pool: {
      min: dbPool.min,
      max: dbPool.max,
      idleTimeoutMillis: 30_000,
      acquireTimeoutMillis: dbPool.acquireTimeoutMs,
      propagateCreateError: false,
    },
    acquireConnectionTimeout: dbPool.acquireTimeoutMs,
    // Bound values stay out of error messages: they carry password hashes, names, addresses, GSTINs.
    compileSqlOnError: false,
  });
  // Every query gets a deadline: on a server that stopped answering (frozen, partitioned) a query would
  // otherwise wait for TCP to give up, minutes past a platform router's 30 s. knex then rejects with
  // KnexTimeoutError (503 database_unavailable) and retires the connection rather than reusing it.
  db.on('query-error', scrubBoundValues);
  db.on('start', (builder: { _timeout?: number; timeout?: (ms: number) => unknown }) => {
    if (builder._timeout === undefined) builder.timeout?.(dbPool.queryTimeoutMs);
  });
  return db;
}

/**
 * Bound values stay inside the database layer. knex is told not to put them in its messages
 * (compileSqlOnError: false), but mysql2 adds the query with its values inlined (`sql`), and the
 * server's own message quotes them ("Duplicate entry 'priya@example.com' for key ..."). Both are
 * scrubbed before the error reaches a log line.
 */
function scrubBoundValues(err: { sql?: unknown; message?: string; sqlMessage?: string }): void {
  delete err.sql;
  const unquote = (text: string) => text.replace(/'(?:[^'\\]|\\.)*'/g, "'?'");
  if (typeof err.message === 'string') err.message = unquote(err.message);
  if (typeof err.sqlMessage === 'string') err.sqlMessage = unquote(err.sqlMessage);
}

export class DatabaseInUseError extends Error {}

export async function openDb(config: Pick<Config, 'database' | 'dbPool'>): Promise<Db> {
  const db = createDb(config);
  try {
    await runMigrations(db);
  } catch (err) {
    await db.destroy();
    if (config.database.kind === 'sqlite' && /^SQLITE_BUSY/.test((err as { code?: string }).code ?? '')) {
      throw new DatabaseInUseError(
        `${config.database.filename} is in use by another process (a running server?). SQLite serves one ` +
          'process at a time: stop it first, or set DATABASE_URL to a MySQL database to run several servers ' +
          '(README: "Running several processes").',
      );
    }
    throw err;
  }
  return db;
}

export interface PoolStats {
  used: number;
  free: number;
  pendingAcquires: number;
  pendingCreates: number;
  max: number;
}

export function poolStats(db: Db): PoolStats {
  const pool = db.client.pool;
  if (!pool) return { used: 0, free: 0, pendingAcquires: 0, pendingCreates: 0, max: 0 };
  return {
    used: pool.numUsed(),
    free: pool.numFree(),
    pendingAcquires: pool.numPendingAcquires(),
    pendingCreates: pool.numPendingCreates(),
    max: pool.max,
  };
}

export function isMysql(db: Db): boolean {
  return db.client.config.client === 'mysql2';
}

/**
 * The database did not answer: no connection within the acquire timeout, a query past its deadline,
 * or the server refusing or dropping connections. A client may retry; it is not the request's fault.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; fatal?: boolean };
  return (
    e?.name === 'KnexTimeoutError' ||
    e?.fatal === true ||
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'PROTOCOL_CONNECTION_LOST',
      'ER_CON_COUNT_ERROR',
    ].includes(e?.code ?? '')
  );
}

/** Unique-key violation on either engine (used where a race is expected and resolved by a re-read). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return (
    e?.code === 'ER_DUP_ENTRY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}
