// Starts booking-core and stops it the way a Heroku dyno expects: on SIGTERM stop accepting,
// let in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS, under the platform's 30 s), close
// pools and the browser, exit 0. A second signal exits at once.
import { createServer } from 'node:http';
import { createApp } from './app.js';
import { connectionDrainer } from './http/drain.js';
import { createLogger, currentRequestId } from './http/logging.js';
import { takePriority } from './process-priority.js';
import { configOrExit, exitOnUncaught, runtimeOrExit, stopOnSignals } from './process-lifecycle.js';

const config = configOrExit('booking-core');
const logger = createLogger(config.logLevel);
exitOnUncaught(logger, () => ({ requestId: currentRequestId() }));

// Before the runtime starts threads and Chromium (process-priority.ts says why).
takePriority(config.serverNice, logger);
const runtime = await runtimeOrExit(config, logger, 'web');
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

stopOnSignals(logger, async (signal) => {
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
});
