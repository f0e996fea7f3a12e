import { mkdirSync } from 'node:fs';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { lockDataFolder } from './pglite-lock.js';

/**
 * A statement compiled from drizzle's `sql` template (`src/db/sql.ts`): its text, its parameters,
 * and a name when it runs as a named prepared statement.
 */
export interface CompiledStatement {
  readonly text: string;
  readonly values: unknown[];
  readonly name?: string;
}

/** Anything that can run a statement: the database itself or an open transaction. */
export interface Executor {
  /** The rows of one statement, values parsed by the driver (int8 as number, timestamptz as Date). */
  run<T>(statement: CompiledStatement): Promise<T[]>;
}

interface DatabaseParts extends Executor {
  /** A short human description (no password) for logs. */
  readonly description: string;
  /**
   * Runs `work` in one transaction on one connection: BEGIN, COMMIT, and ROLLBACK when `work`
   * or COMMIT fails (the error is rethrown). No retry here: see `transaction` in sql.ts.
   */
  transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T>;
  /**
   * Connections of their own for group-commit batches (the queue's join batcher), opened on first
   * use: a batch never waits in the pool's queue behind the requests it answers. PGlite: itself.
   */
  readonly batches: Executor;
  close(): Promise<void>;
}

/** A node-postgres pool's connections at one moment. */
export interface PoolCounts {
  /** Checked out by a statement or a transaction (connecting ones included). */
  readonly inUse: number;
  /** Statements waiting for a connection of the pool. */
  readonly waiting: number;
}

/** The requests' pool (`main`) and the join batches' (`batches`), read at one moment. */
export type PoolReadings = Readonly<Record<'main' | 'batches', PoolCounts>>;

/** The database: a node-postgres pool, or the embedded PGlite, each with its driver at hand. */
export type Database =
  | (DatabaseParts & {
      readonly kind: 'postgres';
      readonly pool: pg.Pool;
      /**
       * The request pool's connections and the batches' (Database.batches; zero until opened),
       * read now: for the metrics.
       */
      readonly poolCounts: () => PoolReadings;
      /**
       * Where connections that keep a session go (the migrations' lock, the presence lock):
       * DATABASE_SESSION_URL, or the pool's own URL.
       */
      readonly sessionUrl: string;
    })
  | (DatabaseParts & { readonly kind: 'pglite'; readonly pglite: PGlite });

export interface DatabaseOptions {
  url: string;
  /** For connections that keep a session, when `url` goes through a transaction-mode pooler. */
  sessionUrl?: string;
  poolSize: number;
  /**
   * false: a statement's name is dropped, so it runs unnamed (parsed and planned every time).
   * For a transaction-mode pooler; and what 0031 measured the names against. Default true.
   */
  namedStatements?: boolean;
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
  config: Pick<
    Config,
    | 'DATABASE_URL'
    | 'DATABASE_SESSION_URL'
    | 'DB_POOL_SIZE'
    | 'DB_NAMED_STATEMENTS'
    | 'PGLITE_DIR'
    | 'PGLITE_IN_MEMORY'
  >,
  options: { poolSize?: number; logger?: Logger; holder?: string } = {},
): Database =>
  openDatabase({
    url: config.DATABASE_URL,
    ...(config.DATABASE_SESSION_URL ? { sessionUrl: config.DATABASE_SESSION_URL } : {}),
    poolSize: options.poolSize ?? config.DB_POOL_SIZE,
    namedStatements: config.DB_NAMED_STATEMENTS,
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
 * releases it. Whoever still holds it gets "not queryable"
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

/**
 * int8 as a number on both drivers (node-postgres answers text; PGlite a number, or a bigint past
 * 2^53). Every int8 stored is an id, a count, an arrival number or an amount in won (MAX_BALANCE
 * is at most 2^53 − 1), so a value past 2^53 is a bug: it fails the statement instead of turning
 * into a wrong number.
 */
export const parseInt8 = (text: string): number => {
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new RangeError(`int8 value ${text} is not a safe integer`);
  return value;
};

/** This pool's own parsers (pg.types, the process-wide table, stays untouched). */
const pgTypes = new pg.TypeOverrides();
pgTypes.setTypeParser(pg.types.builtins.INT8, parseInt8);

const runOn =
  (client: pg.Pool | pg.PoolClient, named: boolean) =>
  async <T>(statement: CompiledStatement): Promise<T[]> =>
    (
      await client.query<T & pg.QueryResultRow>(
        named ? statement : { text: statement.text, values: statement.values },
      )
    ).rows;

/**
 * A transaction on a client of the pool, as drizzle's node-postgres session ran it: BEGIN; the
 * work; COMMIT; on any failure ROLLBACK and the failure rethrown (ROLLBACK's own failure instead,
 * when the connection is gone). A client whose BEGIN or ROLLBACK failed goes back to the pool as
 * broken, so it is destroyed rather than handed to the next request mid-transaction.
 */
async function transactionOnPool<T>(
  pool: pg.Pool,
  named: boolean,
  work: (tx: Executor) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
  let result: T;
  try {
    result = await work({ run: runOn(client, named) });
    await client.query('COMMIT');
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      client.release(rollbackError as Error);
      throw rollbackError;
    }
    client.release();
    throw error;
  }
  client.release();
  return result;
}

/** Connections of Database.batches: the join batches of two rooms can write at once. */
const BATCH_CONNECTIONS = 2;

const countsOf = (pool: pg.Pool | undefined): PoolCounts =>
  pool
    ? { inUse: pool.totalCount - pool.idleCount, waiting: pool.waitingCount }
    : { inUse: 0, waiting: 0 };

function openPostgres(options: DatabaseOptions): Database {
  const config: pg.PoolConfig = {
    connectionString: options.url,
    connectionTimeoutMillis: 5_000,
    // A statement stuck behind a lock must not hold a request (and a pool slot) forever.
    statement_timeout: 15_000,
    idle_in_transaction_session_timeout: 30_000,
    types: pgTypes,
  };
  const lost = (error: Error) => options.logger?.warn({ err: error }, 'database connection lost');
  const pool = new ResilientPool(
    { ...config, max: options.poolSize, application_name: 'overture' },
    lost,
  );
  const url = new URL(options.url);
  const named = options.namedStatements ?? true;
  // BATCH_CONNECTIONS beside the pool, for batches only (Database.batches), opened on first use.
  let batchPool: ResilientPool | undefined;
  let closed = false;
  // After close, the ended pool answers (with its error) rather than a new pool opening.
  const batches = (): ResilientPool =>
    closed
      ? pool
      : (batchPool ??= new ResilientPool(
          { ...config, max: BATCH_CONNECTIONS, application_name: 'overture-batches' },
          lost,
        ));
  return {
    kind: 'postgres',
    pool,
    sessionUrl: options.sessionUrl ?? options.url,
    description: `postgres://${url.host}${url.pathname}`,
    run: runOn(pool, named),
    transaction: (work) => transactionOnPool(pool, named, work),
    batches: { run: (statement) => runOn(batches(), named)(statement) },
    poolCounts: () => ({ main: countsOf(pool), batches: countsOf(batchPool) }),
    close: async () => {
      closed = true;
      await Promise.all([pool.end(), batchPool?.end()]);
    },
  };
}

/** PGlite's parsers, with int8 as on node-postgres (see parseInt8). */
const pgliteParsers = { [pgliteTypes.INT8]: parseInt8 };

/** PGlite has one connection: a statement's name would gain nothing, and is not passed. */
const runOnPglite =
  (client: Pick<PGlite, 'query'>) =>
  async <T>(statement: CompiledStatement): Promise<T[]> =>
    (await client.query<T>(statement.text, statement.values)).rows;

function embedded(client: PGlite, description: string, close: () => Promise<void>): Database {
  return {
    kind: 'pglite',
    pglite: client,
    description,
    run: runOnPglite(client),
    batches: { run: runOnPglite(client) },
    // PGlite's own transaction (BEGIN, COMMIT, ROLLBACK on failure), as drizzle's PGlite session ran it.
    transaction: (work) => client.transaction((tx) => work({ run: runOnPglite(tx) })),
    close,
  };
}

/**
 * The embedded database. A folder is opened by one process at a time (src/db/pglite-lock.ts): a
 * second opener gets DataFolderInUseError naming the holder. In memory, nothing to share.
 */
function openPglite(options: DatabaseOptions): Database {
  if (options.pgliteInMemory) {
    const client = new PGlite({ parsers: pgliteParsers });
    return embedded(client, 'PGlite (in memory)', () => client.close());
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
    client = new PGlite(options.pgliteDir, { parsers: pgliteParsers });
  } catch (error) {
    lock.release();
    throw error;
  }
  return embedded(client, `PGlite (${options.pgliteDir})`, async () => {
    try {
      await client.close();
    } finally {
      lock.release();
    }
  });
}
