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
const LOCK_WAIT_MS = 30_000;

export async function runMigrations(db: Knex): Promise<string[]> {
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const [, applied] = (await db.migrate.latest({ migrationSource: source })) as [number, string[]];
      return applied;
    } catch (err) {
      // Another process is migrating: knex refuses at once when that one holds its lock, and on a fresh
      // database both may race to create knex's own tables. Wait for the other one, then look again.
      const e = err as Error;
      const racing =
        e.name === 'MigrationLocked' || /Migration table is already locked|knex_migrations/.test(e.message);
      if (!racing || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
