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

export async function runMigrations(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: source })) as [number, string[]];
  return applied;
}
