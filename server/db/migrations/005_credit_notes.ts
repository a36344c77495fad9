import type { Knex } from 'knex';

// A credit note (CGST Act s.34, rule 53) credits an issued invoice in full when its booking is
// cancelled. Its own series, numbered per financial year; the invoice itself is never changed.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('credit_note_sequences', (t) => {
    t.string('financial_year', 5).primary();
    t.integer('last_serial').notNullable();
  });
  await db.schema.createTable('credit_notes', (t) => {
    t.increments('id');
    t.integer('booking_id').unsigned().notNullable().unique().references('bookings.id');
    t.integer('invoice_id').unsigned().notNullable().unique().references('invoices.id');
    t.string('number', 16).notNullable().unique();
    t.string('financial_year', 5).notNullable();
    t.integer('serial').notNullable();
    t.string('issued_at', 24).notNullable();
    t.string('reason', 200);
    t.bigInteger('taxable_paise').notNullable();
    t.bigInteger('cgst_paise').notNullable();
    t.bigInteger('sgst_paise').notNullable();
    t.bigInteger('igst_paise').notNullable();
    t.bigInteger('total_paise').notNullable();
    t.text('snapshot').notNullable();
    t.unique(['financial_year', 'serial']);
    t.index(['issued_at']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('credit_notes');
  await db.schema.dropTable('credit_note_sequences');
}
