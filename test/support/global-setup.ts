import { Redis } from 'ioredis';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { buildWebClient } from '../../scripts/build-web.js';
import { alive } from './process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the test PostgreSQL server, or '' when it is not reachable. */
    postgresAdminUrl: string;
    /** Database every test file clones (migrated once per run). */
    templateDatabase: string;
    /** URL of the test Redis, or '' when it is not reachable. */
    redisUrl: string;
  }
}

/** Names carry the run's pid, so runs side by side (two terminals, a helper) never touch each other. */
const TEMPLATE = `overture_tpl_${process.pid}`;

const required = () => process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Migrates a template database once; each test file clones it (CREATE DATABASE … TEMPLATE),
 * so files run in parallel on databases of their own. Without a server the PostgreSQL tests
 * skip loudly — or fail the run when CI=true or REQUIRE_SERVICES=1.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The servers the tests start serve the web client at `/`: built once here when stale.
  await buildWebClient();
  project.provide('redisUrl', await setupRedis());
  const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!(await reachable(adminUrl))) {
    const message = `PostgreSQL is not reachable at ${adminUrl}`;
    if (required()) throw new Error(`${message}, and CI=true/REQUIRE_SERVICES=1 requires it.`);
    process.stderr.write(
      `\n!!! ${message}: every PostgreSQL test is SKIPPED. Start it or set TEST_DATABASE_URL.\n\n`,
    );
    project.provide('postgresAdminUrl', '');
    project.provide('templateDatabase', TEMPLATE);
    return () => Promise.resolve();
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  // Databases left by interrupted earlier runs (their process is gone).
  const leftovers = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname ~ '^overture_(tpl|t)_[0-9]+'`,
  );
  for (const { datname } of leftovers.rows) {
    const pid = Number(/^overture_(?:tpl|t)_([0-9]+)/.exec(datname)?.[1]);
    if (!alive(pid)) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
  await admin.query(`CREATE DATABASE "${TEMPLATE}"`);
  const templateUrl = withDatabase(adminUrl, TEMPLATE);
  const database = openDatabase({
    url: templateUrl,
    poolSize: 1,
    pgliteDir: '',
    pgliteInMemory: false,
  });
  await migrateDatabase(database);
  await database.close();
  await admin.end();
  project.provide('postgresAdminUrl', adminUrl);
  project.provide('templateDatabase', TEMPLATE);
  return async () => {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${TEMPLATE}" WITH (FORCE)`);
    await cleanup.end();
  };
}

export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** Key prefixes of test runs start with this and the run's pid (see test/support/redis.ts). */
const TEST_PREFIX = 'overture-test-';

/**
 * The machine's Redis is shared with other people's tests and keeps nothing on disk: nothing here
 * flushes it. Each test file works under its own key prefix; keys left by interrupted earlier runs
 * (whose process is gone) are deleted by prefix. Without Redis the Redis tests skip loudly — or
 * fail the run when CI=true, REQUIRE_SERVICES=1 or TEST_QUEUE_BACKEND=redis.
 */
async function setupRedis(): Promise<string> {
  const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch {
    client.disconnect();
    const message = `Redis is not reachable at ${url}`;
    if (required() || process.env.TEST_QUEUE_BACKEND === 'redis')
      throw new Error(
        `${message}, and CI=true/REQUIRE_SERVICES=1/TEST_QUEUE_BACKEND=redis requires it.`,
      );
    process.stderr.write(
      `\n!!! ${message}: every Redis test is SKIPPED. Start it or set TEST_REDIS_URL.\n\n`,
    );
    return '';
  }
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${TEST_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      const stale = keys.filter((key) => {
        const pid = Number(new RegExp(`^\\{${TEST_PREFIX}([0-9]+)-`).exec(key)?.[1]);
        return pid > 0 && !alive(pid);
      });
      if (stale.length > 0) await client.unlink(...stale);
    } while (cursor !== '0');
  } finally {
    await client.quit();
  }
  return url;
}
