import type { Knex } from 'knex';

// Money columns are integer paise (bigInteger), rates are basis points, timestamps ISO 8601 UTC text.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('email', 254).notNullable().unique();
    t.string('password_hash', 255).notNullable();
    t.string('name', 120).notNullable();
    t.string('role', 16).notNullable().defaultTo('customer');
    t.string('created_at', 24).notNullable();
  });
  await db.schema.createTable('services', (t) => {
    t.increments('id');
    t.string('code', 40).notNullable().unique();
    t.string('name', 160).notNullable();
    t.string('description', 500).notNullable().defaultTo('');
    t.string('sac', 6).notNullable();
    t.bigInteger('price_paise').notNullable();
    t.integer('gst_rate_bp').notNullable();
    t.boolean('active').notNullable().defaultTo(true);
  });
  await db.schema.createTable('bookings', (t) => {
    t.increments('id');
    t.integer('user_id').unsigned().notNullable().references('users.id');
    t.integer('service_id').unsigned().notNullable().references('services.id');
    t.string('scheduled_at', 24).notNullable();
    t.string('status', 16).notNullable().defaultTo('pending');
    t.text('notes');
    t.string('billing_name', 120).notNullable();
    t.string('billing_address', 300).notNullable();
    t.string('billing_city', 80).notNullable();
    t.string('billing_state', 2).notNullable();
    t.string('billing_pincode', 6).notNullable();
    t.string('billing_gstin', 15);
    t.string('sac', 6).notNullable();
    t.integer('gst_rate_bp').notNullable();
    t.bigInteger('taxable_paise').notNullable();
    t.bigInteger('cgst_paise').notNullable();
    t.bigInteger('sgst_paise').notNullable();
    t.bigInteger('igst_paise').notNullable();
    t.bigInteger('total_paise').notNullable();
    t.string('created_at', 24).notNullable();
    t.string('updated_at', 24).notNullable();
    t.index(['user_id', 'id']);
    t.index(['scheduled_at']);
    t.index(['status', 'scheduled_at']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('bookings');
  await db.schema.dropTable('services');
  await db.schema.dropTable('users');
}
