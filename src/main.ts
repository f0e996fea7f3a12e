import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig } from './config.js';
import { DataFolderInUseError } from './db/pglite-lock.js';
import { createLogger, startServer } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\nSee the configuration table in README.md.\n`);
    process.exit(1);
  }
  const logger = createLogger(config);
  const server = await startServer(config, logger);
  const database = server.container.database.description;
  process.stdout.write(
    `\nOverture is listening on ${server.url}\n` +
      `  API docs (Swagger UI): ${server.url}/docs\n` +
      `  OpenAPI document:      ${server.url}/openapi.json\n` +
      `  database:              ${database}\n\n`,
  );
  logger.info({ url: server.url, database }, 'overture started');

  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    await server.close();
  });
}

main().catch((error: unknown) => {
  // Someone else has the embedded database: the message says who and what to do.
  if (error instanceof DataFolderInUseError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `Overture failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
