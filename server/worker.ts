// The worker process (`npm run worker`, the Procfile's `worker:` line): runs export jobs from the BullMQ
// queue and, with PDF_RENDERING=worker, the web processes' first renders. It answers no HTTP. On
// SIGTERM it stops taking jobs, lets the running ones finish for up to SHUTDOWN_TIMEOUT_MS less 5 s,
// then hands them back to the queue for another worker, and exits 0 (Heroku kills at 30 s).
import { ConfigError } from './config.js';
import { createLogger } from './http/logging.js';
import { configOrExit, exitOnUncaught, runtimeOrExit, stopOnSignals } from './process-lifecycle.js';

const config = configOrExit('booking-core worker', (c) => {
  if (!c.redisUrl) throw new ConfigError('REDIS_URL: the worker needs it (its job queue is there)');
});
const logger = createLogger(config.logLevel).child({ process: 'worker' });
exitOnUncaught(logger);

const runtime = await runtimeOrExit(config, logger, 'worker');
logger.info(
  { exportConcurrency: config.exports.concurrency, renders: config.pdf.rendering === 'worker' },
  'booking-core worker running',
);
if (config.pdf.rendering === 'worker') runtime.renderer.warmUp();
runtime
  .sweepOrphans()
  .catch((err) => logger.warn({ err }, 'the orphan sweep did not finish; it runs again at the next start'));

stopOnSignals(logger, async (signal) => {
  logger.info({ signal }, 'worker stopping: no new jobs; running ones finish or are handed back');
  await runtime.close();
});
