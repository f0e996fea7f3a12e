import pg from 'pg';
import { invariantViolations } from '../../test/support/invariants.js';

/** The machine's PostgreSQL as the bench reaches it (trust auth on 127.0.0.1). */
export const adminUrl =
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string, port?: number): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  if (port !== undefined) url.port = String(port);
  return url.toString();
}

export const postgresPort = (): number => Number(new URL(adminUrl).port || 5432);

/** Bench databases are named overture_bench_*; nothing else is ever created or dropped. */
const validName = (name: string): string => {
  if (!/^overture_bench_[a-z0-9_]{1,40}$/.test(name))
    throw new Error(`bad bench database name ${name}`);
  return name;
};

/**
 * One bench at a time per PostgreSQL: every run drops and recreates the same overture_bench_*
 * databases and empties the same Redis database, so a second run beside it would break the
 * first (one did: decision 0012). A session advisory lock on a connection of its own, held until
 * `release` or the process's end. Undefined when another run holds it.
 */
export async function takeBenchLock(
  url: string,
): Promise<{ release(): Promise<void> } | undefined> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  const { rows } = await client.query<{ taken: boolean }>(
    `SELECT pg_try_advisory_lock(hashtext('overture_bench')) AS taken`,
  );
  if (rows[0]?.taken) return { release: () => client.end() };
  await client.end();
  return undefined;
}

export async function recreateDatabase(admin: pg.Pool, name: string): Promise<string> {
  await admin.query(`DROP DATABASE IF EXISTS "${validName(name)}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${validName(name)}"`);
  return databaseUrl(name);
}

export async function dropDatabase(admin: pg.Pool, name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS "${validName(name)}" WITH (FORCE)`);
}

/**
 * Committed plus rolled-back transactions of one database. PostgreSQL publishes a backend's
 * counts when it goes idle at most once a second (or when it exits), so read this only after
 * the server that did the work has stopped.
 */
export async function transactionCount(admin: pg.Pool, name: string): Promise<number> {
  const result = await admin.query<{ n: string }>(
    `SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = $1`,
    [name],
  );
  return Number(result.rows[0]?.n ?? 0);
}

export interface BenchConcerts {
  concertIds: number[];
  seats: number;
}

/**
 * Adds concerts of 50 seats each, a month ahead, so a purchase run has a seat for everyone.
 * Prices step with the seat number like the demo data (10,000–50,000 won).
 */
export async function addBenchConcerts(pool: pg.Pool, count: number): Promise<BenchConcerts> {
  const concerts = await pool.query<{ id: string }>(
    `INSERT INTO concerts (title, venue, show_datetime)
     SELECT 'Bench concert ' || n, 'Bench Hall', now() + interval '30 days' + n * interval '1 minute'
     FROM generate_series(1, $1::int) AS n RETURNING id`,
    [count],
  );
  const concertIds = concerts.rows.map((row) => Number(row.id));
  await pool.query(
    `INSERT INTO seats (concert_id, seat_number, price)
     SELECT c, n, 10000 * (1 + n % 5) FROM unnest($1::bigint[]) AS c, generate_series(1, 50) AS n`,
    [concertIds],
  );
  return { concertIds, seats: concertIds.length * 50 };
}

/** The test suite's invariant queries (ledger = balance, no oversell, one charge per sale…). */
export async function checkInvariants(
  url: string,
  options: { maxActive?: number } = {},
): Promise<string[]> {
  const pool = openPool(url, 2);
  try {
    return await invariantViolations(pool, options);
  } finally {
    await pool.end();
  }
}

/**
 * A short-lived pool. Errors of idle clients are ignored: a bench database is dropped WITH (FORCE)
 * right after use, which may reach a connection that pool.end() has not closed yet.
 */
export function openPool(url: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}

/** The rows of one query, on a short-lived pool. */
export const queryRows = <R extends object>(url: string, text: string, values: unknown[] = []) =>
  withPool(url, async (pool) => (await pool.query<R>(text, values)).rows);

export async function withPool<T>(url: string, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = openPool(url);
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}
