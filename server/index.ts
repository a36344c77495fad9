// Starts booking-core and stops it the way a Heroku dyno expects: on SIGTERM stop accepting,
// let in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS, under the platform's 30 s), close
// pools and the browser, exit 0. A second signal exits at once.
import { createServer } from 'node:http';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { connectionDrainer } from './http/drain.js';
import { createLogger, currentRequestId } from './http/logging.js';
import { takePriority } from './process-priority.js';
import { startRuntime } from './runtime.js';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  console.error(err instanceof ConfigError ? `booking-core: ${err.message}` : err);
  process.exit(1);
}

const logger = createLogger(config.logLevel);

// A process in an unknown state must not limp on: log, then exit non-zero so the platform restarts it.
process.on('uncaughtException', (err) => {
  logger.fatal({ err, requestId: currentRequestId() }, 'uncaught exception');
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  logger.fatal({ err: reason, requestId: currentRequestId() }, 'unhandled promise rejection');
  process.exit(1);
});

// Before the runtime starts threads and Chromium (process-priority.ts says why).
takePriority(config.serverNice, logger);
const runtime = await startRuntime(config, logger).catch((err: Error) => {
  // A backend that is missing or taken (the database, Redis, the bucket): say which, and stop.
  logger.fatal(
    { err: { message: err.message, code: (err as NodeJS.ErrnoException).code } },
    `cannot start: ${err.message}`,
  );
  process.exit(1);
});
const app = createApp(runtime);
const server = createServer(app);
const drainer = connectionDrainer(server);
// Against slow clients: headers must arrive quickly, a request must finish in bounded time,
// and a silent socket is dropped. Keep-alive below the platform router's idle timeout.
server.headersTimeout = 30_000;
server.requestTimeout = config.requestTimeoutMs;
server.keepAliveTimeout = 5_000;
server.setTimeout(120_000);

server.listen(config.port, config.host, () => {
  logger.info({ port: config.port, database: config.database.kind }, 'booking-core listening');
  // With PDF_RENDERING=worker this process never starts a browser: workers render.
  if (config.pdf.rendering === 'web') runtime.renderer.warmUp();
  runtime
    .sweepOrphans()
    .catch((err) => logger.warn({ err }, 'the orphan sweep did not finish; it runs again at the next start'));
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  runtime.draining = true;
  logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: finishing in-flight requests');
  const deadline = setTimeout(() => {
    logger.warn('shutdown timeout: closing remaining connections');
    server.closeAllConnections();
  }, config.shutdownTimeoutMs);
  deadline.unref();
  // Idle keep-alive connections end now, busy ones once their responses have been sent (drain.ts).
  await drainer.drain();
  clearTimeout(deadline);
  await runtime.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
