import type { Knex } from 'knex';

// Every token carries its user's token version; bumping it (a password change, "log out everywhere")
// revokes every token issued before.
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('users', (t) => {
    t.integer('token_version').notNullable().defaultTo(0);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('users', (t) => t.dropColumn('token_version'));
}
