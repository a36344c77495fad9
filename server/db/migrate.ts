// Migrations are imported modules, not files found at run time, so the same list runs from
// TypeScript sources (tests) and from compiled dist/ (production).
import type { Knex } from 'knex';
import * as core from './migrations/001_core.js';
import * as uploads from './migrations/002_uploads.js';
import * as invoices from './migrations/003_invoices.js';
import * as tokenVersions from './migrations/004_token_versions.js';
import * as creditNotes from './migrations/005_credit_notes.js';
import * as storedDocuments from './migrations/006_stored_documents.js';
import * as exportJobs from './migrations/007_export_jobs.js';

type Migration = { up(db: Knex): Promise<void>; down(db: Knex): Promise<void> };
const MIGRATIONS: Record<string, Migration> = {
  '001_core': core,
  '002_uploads': uploads,
  '003_invoices': invoices,
  '004_token_versions': tokenVersions,
  '005_credit_notes': creditNotes,
  '006_stored_documents': storedDocuments,
  '007_export_jobs': exportJobs,
};

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name]!,
};

/** How long a process waits while another one (a web and a worker starting together) migrates. */
const LOCK_WAIT_S = 60;
const LOCK_NAME = 'booking-core:migrations';

/**
 * Applies the migrations not yet applied. On MySQL, processes starting together on one database take
 * turns through a named lock (GET_LOCK, held by one connection for the run): knex's own lock refuses a
 * second process at once instead of waiting, and on a fresh database two processes even race to create
 * knex's tables. SQLite has one process by design (the file is held exclusively).
 */
export async function runMigrations(db: Knex): Promise<string[]> {
  if (db.client.config.client !== 'mysql2') return latest(db);
  return db.transaction(async (holder) => {
    const [rows] = await holder.raw('SELECT GET_LOCK(?, ?) AS taken', [LOCK_NAME, LOCK_WAIT_S]);
    if (Number(rows[0]?.taken) !== 1) throw new Error(`another process held the migration lock for ${LOCK_WAIT_S} s`);
    try {
      return await latest(db);
    } finally {
      await holder.raw('SELECT RELEASE_LOCK(?)', [LOCK_NAME]);
    }
  });
}

async function latest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: source })) as [number, string[]];
  return applied;
}
