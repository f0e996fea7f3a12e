import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { reasonOf } from './cli/run.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';
import { ExplainedError } from './shared/explained-error.js';
import type { OperatorKey } from './modules/auth/operator-key.js';

let logger: Logger | undefined;

async function main(): Promise<void> {
  const config = loadConfig();
  logger = createLogger(config);
  const server = await startServer(config, logger);
  const database = server.container.database.description;
  process.stdout.write(
    `\nOverture is listening on ${server.url}\n` +
      `  API docs (Swagger UI): ${server.url}/docs\n` +
      `  OpenAPI document:      ${server.url}/openapi.json\n` +
      `  database:              ${database}\n` +
      `${operatorBanner(server.operatorKey, server.url)}\n`,
  );
  logger.info({ url: server.url, database }, 'overture started');

  const running = logger;
  closeWithGrace(
    { delay: config.SHUTDOWN_TIMEOUT_MS, logger: running },
    async ({ signal, err }) => {
      if (err) running.error({ err }, 'shutting down after an error');
      else running.info({ signal }, 'shutting down');
      await server.close();
    },
  );
}

/** How to open the operator endpoints; a key only the embedded database keeps is shown. */
function operatorBanner(operator: OperatorKey, url: string): string {
  switch (operator.source) {
    case 'jwt':
      return '  operator endpoints:    a JWT with role admin (npm run token -- <userId> --admin)\n';
    case 'none':
      return '  operator endpoints:    off (set OPERATOR_KEY, at least 32 characters)\n';
    case 'configured':
      return '  operator key:          OPERATOR_KEY (as configured)\n';
    case 'file':
    case 'ephemeral': {
      const where =
        operator.source === 'file'
          ? `kept in ${operator.file}${operator.generated ? ', generated now' : ''}`
          : 'this run only: the database is in memory';
      return (
        `  operator key:          ${operator.key}  (${where})\n` +
        `  try it:                curl -H 'Authorization: Bearer ${operator.key}' ${url}/api/v1/admin/venues\n`
      );
    }
  }
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
