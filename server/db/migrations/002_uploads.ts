import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('uploads', (t) => {
    t.increments('id');
    t.integer('user_id').unsigned().notNullable().references('users.id');
    t.string('kind', 8).notNullable();
    t.string('name', 64).notNullable().unique();
    t.string('original_name', 255).notNullable();
    t.bigInteger('size').notNullable();
    t.string('content_type', 100).notNullable();
    t.string('sha256', 64).notNullable();
    t.string('created_at', 24).notNullable();
    t.index(['user_id', 'id']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('uploads');
}
