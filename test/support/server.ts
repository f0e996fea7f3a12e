import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createClient, type TestClient } from './client.js';
import type { TestDatabase } from './db.js';

export type Overrides = Partial<Record<keyof Config, string>>;

export function testConfig(overrides: Overrides = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    ADMISSION_INTERVAL_MS: '100',
    OUTBOX_INTERVAL_MS: '100',
    POPULAR_CACHE_MS: '0',
    ...overrides,
  });
}

export interface TestServer extends RunningServer {
  client: TestClient;
}

/** A real listening server (random port) on the test database, workers running. */
export async function startTestServer(
  database: TestDatabase | undefined,
  overrides: Overrides = {},
): Promise<TestServer> {
  const config = testConfig({
    ...(database ? { DATABASE_URL: database.url } : { PGLITE_IN_MEMORY: 'true' }),
    ...overrides,
  });
  const logLevel = process.env.TEST_LOG_LEVEL;
  const server = await startServer(config, pino({ level: logLevel ?? 'silent' }));
  return { ...server, client: createClient(server.url) };
}
