import type { Knex } from 'knex';

// Export jobs: the admin's request, its state and progress, and where its result is stored. The row is
// the job's record in both engines (BullMQ on Redis, or in the web process); the queue only carries ids.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('export_jobs', (t) => {
    t.increments('id');
    t.string('kind', 16).notNullable();
    t.string('range_from', 10).notNullable();
    t.string('range_to', 10).notNullable();
    t.string('state', 12).notNullable();
    // kind:from:to while queued or running, NULL after: at most one live job per request, even under a race.
    t.string('active_key', 48).unique();
    t.integer('requested_by').unsigned().notNullable().references('users.id');
    t.integer('done').notNullable().defaultTo(0);
    t.integer('total').notNullable().defaultTo(0);
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('error', 500);
    // Chosen at creation, so every attempt writes (and a new attempt first cleans up) the same object.
    t.string('result_name', 64).notNullable().unique();
    t.bigInteger('result_size');
    t.string('result_sha256', 64);
    t.string('created_at', 24).notNullable();
    t.string('started_at', 24);
    t.string('finished_at', 24);
    t.string('expires_at', 24);
    t.index(['state', 'expires_at']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('export_jobs');
}
