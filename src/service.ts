import cluster from 'node:cluster';
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { reasonOf } from './cli/run.js';
import { joinCluster, runPrimary, workerCount } from './cluster.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startBanner } from './banner.js';
import { startServer } from './server.js';
import { ExplainedError } from './shared/explained-error.js';
import { stopTracing } from './tracing/start.js';

/* The service itself, imported by src/main.ts once tracing is started (or known to be off). */

let logger: Logger | undefined;

async function main(): Promise<void> {
  const config = loadConfig();
  logger = createLogger(config);
  if (cluster.isWorker) logger = logger.child({ worker: cluster.worker?.id });
  const workers = workerCount(config);
  if (workers > 1 && cluster.isPrimary) {
    runPrimary(workers, logger);
    return;
  }
  const server = await startServer(config, logger);
  const database = server.container.database.description;
  const banner = startBanner({ url: server.url, database, operatorKey: server.operatorKey });
  if (cluster.isWorker) joinCluster(banner, server.container.metrics);
  else process.stdout.write(banner);
  logger.info({ url: server.url, database }, 'overture started');

  const running = logger;
  closeWithGrace(
    {
      delay: config.SHUTDOWN_TIMEOUT_MS,
      logger: running,
      // Under WORKERS=N the primary turns SIGINT into one SIGTERM for each process.
      ...(cluster.isWorker ? { skip: ['SIGINT'] } : {}),
    },
    async ({ signal, err }) => {
      if (err) running.error({ err }, 'shutting down after an error');
      else running.info({ signal }, 'shutting down');
      await server.close();
      await stopTracing();
    },
  );
}

/** Why the server could not start, and what to do about it: one message, no stack trace. */
function startFailure(error: unknown): string {
  if (error instanceof ConfigError)
    return `${error.message}\nSee the configuration table in README.md.`;
  if (error instanceof ExplainedError) return error.message;
  const { code, port } = error as { code?: unknown; port?: unknown };
  if (code === 'EADDRINUSE')
    return `port ${String(port)} is taken by another process: stop it, or choose another with PORT (0 picks a free one).`;
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES')
    return `cannot listen there (${reasonOf(error)}): check HOST and PORT.`;
  logger?.debug({ err: error }, 'start failed');
  return `${reasonOf(error)}${logger ? ' (LOG_LEVEL=debug logs the details)' : ''}`;
}

main().catch((error: unknown) => {
  process.stderr.write(`Overture failed to start: ${startFailure(error)}\n`);
  process.exit(1);
});
