// The worker process (`npm run worker`, the Procfile's `worker:` line): runs export jobs from the BullMQ
// queue and, with PDF_RENDERING=worker, the web processes' first renders. It answers no HTTP. On
// SIGTERM it stops taking jobs, lets the running ones finish for up to SHUTDOWN_TIMEOUT_MS less 5 s,
// then hands them back to the queue for another worker, and exits 0 (Heroku kills at 30 s).
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './http/logging.js';
import { startRuntime } from './runtime.js';

let config: Config;
try {
  config = loadConfig();
  if (!config.redisUrl) throw new ConfigError('REDIS_URL: the worker needs it (its job queue is there)');
} catch (err) {
  console.error(err instanceof ConfigError ? `booking-core worker: ${err.message}` : err);
  process.exit(1);
}

const logger = createLogger(config.logLevel).child({ process: 'worker' });
process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'uncaught exception');
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  logger.fatal({ err: reason }, 'unhandled promise rejection');
  process.exit(1);
});

const runtime = await startRuntime(config, logger, { role: 'worker' }).catch((err: Error) => {
  logger.fatal(
    { err: { message: err.message, code: (err as NodeJS.ErrnoException).code } },
    `cannot start: ${err.message}`,
  );
  process.exit(1);
});
logger.info(
  { exportConcurrency: config.exports.concurrency, renders: config.pdf.rendering === 'worker' },
  'booking-core worker running',
);
if (config.pdf.rendering === 'worker') runtime.renderer.warmUp();
runtime
  .sweepOrphans()
  .catch((err) => logger.warn({ err }, 'the orphan sweep did not finish; it runs again at the next start'));

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal }, 'worker stopping: no new jobs; running ones finish or are handed back');
  await runtime.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
