import type { Knex } from 'knex';

// Each issued document's PDF is rendered once and stored; its row names the object and its SHA-256
// (the download's ETag). Empty until the first request after issue renders it.
const TABLES = ['invoices', 'credit_notes'] as const;

export async function up(db: Knex): Promise<void> {
  for (const table of TABLES) {
    await db.schema.alterTable(table, (t) => {
      t.string('pdf_name', 64).unique();
      t.bigInteger('pdf_size');
      t.string('pdf_sha256', 64);
      t.string('pdf_stored_at', 24);
    });
  }
}

export async function down(db: Knex): Promise<void> {
  for (const table of TABLES) {
    await db.schema.alterTable(table, (t) => {
      t.dropUnique(['pdf_name']);
      t.dropColumns('pdf_name', 'pdf_size', 'pdf_sha256', 'pdf_stored_at');
    });
  }
}
