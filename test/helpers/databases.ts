// Which databases the suite runs against. SQLite always; MySQL/MariaDB when MYSQL_TEST_URL is set or
// a server answers on 127.0.0.1:3306. Under CI=true MySQL is required: a missing server fails the
// MySQL tests loudly instead of skipping them.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import knex from 'knex';

export type DbKind = 'sqlite' | 'mysql';

export const MYSQL_URL = process.env.MYSQL_TEST_URL ?? 'mysql://root@127.0.0.1:3306/test';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 3306), timeout: 1000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

export async function databaseKinds(): Promise<DbKind[]> {
  if (process.env.CI === 'true' || process.env.MYSQL_TEST_URL) return ['sqlite', 'mysql'];
  return (await reachable(MYSQL_URL)) ? ['sqlite', 'mysql'] : ['sqlite'];
}

export const DB_KINDS = await databaseKinds();

/** Runs one statement on the MySQL server itself (no database selected). */
async function onServer(sql: string): Promise<void> {
  const base = new URL(MYSQL_URL);
  const server = knex({
    client: 'mysql2',
    connection: {
      host: base.hostname,
      port: Number(base.port || 3306),
      user: decodeURIComponent(base.username),
      password: decodeURIComponent(base.password),
    },
    pool: { min: 0, max: 1 },
  });
  try {
    await server.raw(sql);
  } finally {
    await server.destroy();
  }
}

/** Creates a fresh, uniquely named MySQL database; returns its URL and a function that drops it. */
export async function freshMysqlDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `booking_test_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const url = new URL(MYSQL_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => onServer(`DROP DATABASE IF EXISTS \`${name}\``) };
}
