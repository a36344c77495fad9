import type { Knex } from 'knex';

// An invoice is issued once per booking and never changes: its parties and figures are a snapshot.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('invoice_sequences', (t) => {
    t.string('financial_year', 5).primary(); // "26-27"
    t.integer('last_serial').notNullable();
  });
  await db.schema.createTable('invoices', (t) => {
    t.increments('id');
    t.integer('booking_id').unsigned().notNullable().unique().references('bookings.id');
    t.string('number', 16).notNullable().unique();
    t.string('financial_year', 5).notNullable();
    t.integer('serial').notNullable();
    t.string('issued_at', 24).notNullable();
    t.string('customer_name', 120).notNullable();
    t.string('customer_gstin', 15);
    t.string('place_of_supply', 2).notNullable();
    t.string('sac', 6).notNullable();
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
  await db.schema.dropTable('invoices');
  await db.schema.dropTable('invoice_sequences');
}
