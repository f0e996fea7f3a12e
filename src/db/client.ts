import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { lockDataFolder } from './pglite-lock.js';
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
  /**
   * What opens an embedded database folder, in words ("the Overture server", "npm run migrate"):
   * a second opener is told who holds it.
   */
  holder?: string;
}

export function openDatabase(options: DatabaseOptions): Database {
  return options.url === '' ? openPglite(options) : openPostgres(options);
}

/** The database the configuration names (the server's, or a command's with a smaller pool). */
export const openConfiguredDatabase = (
  config: Pick<Config, 'DATABASE_URL' | 'DB_POOL_SIZE' | 'PGLITE_DIR' | 'PGLITE_IN_MEMORY'>,
  options: { poolSize?: number; logger?: Logger; holder?: string } = {},
): Database =>
  openDatabase({
    url: config.DATABASE_URL,
    poolSize: options.poolSize ?? config.DB_POOL_SIZE,
    pgliteDir: config.PGLITE_DIR,
    pgliteInMemory: config.PGLITE_IN_MEMORY,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.holder ? { holder: options.holder } : {}),
  });

type ConnectCallback = (
  error: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

/**
 * node-postgres' pool listens to a client's 'error' only while the client is idle in the pool.
 * A backend terminated while a client is checked out (a transaction between two statements, a
 * query in flight: a failover, a restart, pg_terminate_backend, a network reset) made the client
 * emit 'error' with nobody listening, and Node ended the process. Here every client has a listener
 * for its whole life, and a checked-out client that fails is handed back to the pool as broken at
 * once: the pool destroys it instead of reusing it, and never leaks it even when its holder never
 * releases it (drizzle does not when BEGIN fails). Whoever still holds it gets "not queryable"
 * errors, which the request answers as 503 SERVICE_UNAVAILABLE.
 */
class ResilientPool extends pg.Pool {
  /** The release of each client checked out through connect(), made safe to call twice. */
  private readonly checkedOut = new WeakMap<pg.PoolClient, (error?: Error) => void>();

  constructor(config: pg.PoolConfig, onConnectionLost: (error: Error) => void) {
    super(config);
    this.on('connect', (client) => {
      // A terminated backend errors twice (its message, then the closed socket): report it once.
      let reported = false;
      client.on('error', (error) => {
        if (!reported) onConnectionLost(error);
        reported = true;
        this.checkedOut.get(client)?.(error);
      });
    });
    // The client's own listener above has already reported the loss of an idle one.
    this.on('error', () => undefined);
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    // The callback form is pool.query()'s own, which releases its client on an error itself.
    if (callback) return super.connect(callback);
    return super.connect().then((client) => {
      const release = client.release.bind(client);
      let released = false;
      const releaseOnce = (error?: Error | boolean) => {
        if (released) return;
        released = true;
        this.checkedOut.delete(client);
        release(error);
      };
      client.release = releaseOnce;
      this.checkedOut.set(client, releaseOnce);
      return client;
    });
  }
}

function openPostgres(options: DatabaseOptions): Database {
  const pool = new ResilientPool(
    {
      connectionString: options.url,
      max: options.poolSize,
      connectionTimeoutMillis: 5_000,
      // A statement stuck behind a lock must not hold a request (and a pool slot) forever.
      statement_timeout: 15_000,
      idle_in_transaction_session_timeout: 30_000,
      application_name: 'overture',
    },
    (error) => options.logger?.warn({ err: error }, 'database connection lost'),
  );
  const url = new URL(options.url);
  return {
    kind: 'postgres',
    orm: drizzlePg(pool, { schema }),
    description: `postgres://${url.host}${url.pathname}`,
    close: () => pool.end(),
  };
}

/**
 * The embedded database. A folder is opened by one process at a time (src/db/pglite-lock.ts): a
 * second opener gets DataFolderInUseError naming the holder. In memory, nothing to share.
 */
function openPglite(options: DatabaseOptions): Database {
  if (options.pgliteInMemory) {
    const client = new PGlite();
    return {
      kind: 'pglite',
      orm: drizzlePglite(client, { schema }),
      description: 'PGlite (in memory)',
      close: () => client.close(),
    };
  }
  mkdirSync(options.pgliteDir, { recursive: true });
  const lock = lockDataFolder(options.pgliteDir, {
    holder: options.holder ?? `node ${process.argv.slice(1).join(' ')}`,
    onLost: (error) => {
      // Someone removed the lock: another process may open the folder now. Stop using it.
      throw new Error(
        `The lock on the embedded database folder ${options.pgliteDir} was removed by someone else; stopping.`,
        { cause: error },
      );
    },
  });
  let client: PGlite;
  try {
    client = new PGlite(options.pgliteDir);
  } catch (error) {
    lock.release();
    throw error;
  }
  return {
    kind: 'pglite',
    orm: drizzlePglite(client, { schema }),
    description: `PGlite (${options.pgliteDir})`,
    async close() {
      try {
        await client.close();
      } finally {
        lock.release();
      }
    },
  };
}

/** node-postgres returns timestamps as text through drizzle's raw path; PGlite returns Dates. */
export const toDate = (value: Date | string): Date =>
  value instanceof Date ? value : new Date(value);

/** node-postgres returns int8 as text; PGlite as a number. Every int8 we store is below 2^53. */
export const toNumber = (value: number | string | bigint): number => Number(value);
