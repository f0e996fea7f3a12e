import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import * as schema from './schema.js';

export type Orm = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Anything that can run a statement: the database itself or an open transaction. */
export type Executor = Pick<Orm, 'execute' | '_'>;

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly orm: Orm;
  /** A short human description (no password) for logs. */
  readonly description: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  pgliteDir: string;
  pgliteInMemory: boolean;
  logger?: Logger;
}

export function openDatabase(options: DatabaseOptions): Database {
  return options.url === '' ? openPglite(options) : openPostgres(options);
}

/** The database the configuration names (the server's, or a command's with a smaller pool). */
export const openConfiguredDatabase = (
  config: Pick<Config, 'DATABASE_URL' | 'DB_POOL_SIZE' | 'PGLITE_DIR' | 'PGLITE_IN_MEMORY'>,
  options: { poolSize?: number; logger?: Logger } = {},
): Database =>
  openDatabase({
    url: config.DATABASE_URL,
    poolSize: options.poolSize ?? config.DB_POOL_SIZE,
    pgliteDir: config.PGLITE_DIR,
    pgliteInMemory: config.PGLITE_IN_MEMORY,
    ...(options.logger ? { logger: options.logger } : {}),
  });

function openPostgres(options: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: 5_000,
    // A statement stuck behind a lock must not hold a request (and a pool slot) forever.
    statement_timeout: 15_000,
    idle_in_transaction_session_timeout: 30_000,
    application_name: 'overture',
  });
  // An idle client losing its connection emits here; without a listener it would crash the process.
  pool.on('error', (error) =>
    options.logger?.warn({ err: error }, 'idle database connection lost'),
  );
  const url = new URL(options.url);
  return {
    kind: 'postgres',
    orm: drizzlePg(pool, { schema }),
    description: `postgres://${url.host}${url.pathname}`,
    close: () => pool.end(),
  };
}

function openPglite(options: DatabaseOptions): Database {
  let client: PGlite;
  if (options.pgliteInMemory) {
    client = new PGlite();
  } else {
    mkdirSync(options.pgliteDir, { recursive: true });
    client = new PGlite(options.pgliteDir);
  }
  return {
    kind: 'pglite',
    orm: drizzlePglite(client, { schema }),
    description: options.pgliteInMemory ? 'PGlite (in memory)' : `PGlite (${options.pgliteDir})`,
    close: () => client.close(),
  };
}

/** node-postgres returns timestamps as text through drizzle's raw path; PGlite returns Dates. */
export const toDate = (value: Date | string): Date =>
  value instanceof Date ? value : new Date(value);

/** node-postgres returns int8 as text; PGlite as a number. Every int8 we store is below 2^53. */
export const toNumber = (value: number | string | bigint): number => Number(value);
