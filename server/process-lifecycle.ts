// What the web process (index.ts) and the worker process (worker.ts) do alike as processes: read the
// configuration or exit with its problems, exit on an uncaught error, start the runtime or exit saying
// which backend is missing, and stop once on SIGTERM/SIGINT (a second signal exits at once).
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { startRuntime, type Runtime, type RuntimeRole } from './runtime.js';

export function configOrExit(name: string, check: (config: Config) => void = () => {}): Config {
  try {
    const config = loadConfig();
    check(config);
    return config;
  } catch (err) {
    console.error(err instanceof ConfigError ? `${name}: ${err.message}` : err);
    process.exit(1);
  }
}

/** A process in an unknown state must not limp on: log, then exit non-zero so the platform restarts it. */
export function exitOnUncaught(logger: Logger, context: () => object = () => ({})): void {
  process.on('uncaughtException', (err) => {
    logger.fatal({ err, ...context() }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason, ...context() }, 'unhandled promise rejection');
    process.exit(1);
  });
}

export async function runtimeOrExit(config: Config, logger: Logger, role: RuntimeRole): Promise<Runtime> {
  return startRuntime(config, logger, { role }).catch((err: Error) => {
    // A backend that is missing or taken (the database, Redis, the bucket): say which, and stop.
    logger.fatal(
      { err: { message: err.message, code: (err as NodeJS.ErrnoException).code } },
      `cannot start: ${err.message}`,
    );
    process.exit(1);
  });
}

/** Runs `stop` on the first SIGTERM or SIGINT, then exits 0; a second signal exits 1 at once. */
export function stopOnSignals(logger: Logger, stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const onSignal = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    await stop(signal);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void onSignal('SIGTERM'));
  process.on('SIGINT', () => void onSignal('SIGINT'));
}
