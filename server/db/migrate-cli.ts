// `npm run migrate` and the Procfile's release phase: bring the schema up to date, then exit.
import { ConfigError, loadConfig } from '../config.js';
import { createDb } from './connect.js';
import { runMigrations } from './migrate.js';

try {
  const config = loadConfig();
  const db = createDb(config);
  try {
    const applied = await runMigrations(db);
    console.log(applied.length ? `booking-core: applied ${applied.join(', ')}` : 'booking-core: schema is up to date');
  } finally {
    await db.destroy();
  }
} catch (err) {
  console.error(err instanceof ConfigError ? `booking-core: ${err.message}` : err);
  process.exitCode = 1;
}
