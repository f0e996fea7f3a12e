/**
 * PostgreSQL's own rate for the payment transaction: pgbench runs the statements the service's
 * payment sends (key claim, hold lock, token lock, and the one statement that debits, reserves,
 * writes the ledger and the event, expires the token and records the reply) with as many clients as the server's pool, each paying for seats
 * prepared for it, as named prepared statements like the service's. No HTTP, no Node: the ceiling
 * the purchase flow's payments are compared with.
 */
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { withDatabase, type Context, type Scenario } from '../lib/context.js';
import { serverEnv } from '../lib/modes.js';
import { adminUrl, queryRows, withPool } from '../lib/postgres.js';
import { progress } from '../lib/progress.js';
import { resultsOf, type Base } from '../lib/results.js';
import { startOverture } from '../lib/server.js';
import { round } from '../lib/stats.js';

/** Reported in the purchase flow's section, beside the purchases it is the ceiling of. */
export interface PgbenchResult extends Base {
  kind: 'pgbench';
  clients: number;
  transactions: number;
  transactionsPerSecond: number;
  latencyAverageMs: number;
  statementsPerTransaction: number;
  protocol: string;
  /** Set when the service's payment no longer matches the script's statements. */
  drift: string | null;
}

/**
 * Each statement below mirrors one the service sends (see the round-trip scenario's listing).
 * pgbench reads `:name` as a variable even inside a string literal, so the reply's time format
 * spells its colons as chr(58).
 */
const script = `\\set n :n + 1
\\set seat :client_id * :per_client + :n
BEGIN;
INSERT INTO idempotency_keys (user_id, scope, key, request_hash)
  VALUES (:seat, 'reservation', 'pgbench-' || :seat, 'request-hash') ON CONFLICT DO NOTHING RETURNING true AS claimed;
SELECT h.user_id, h.status, h.expires_at > now() AS live, s.concert_id, s.seat_number, s.price
  FROM seat_holds h JOIN seats s ON s.id = h.seat_id WHERE h.seat_id = :seat FOR UPDATE OF h \\gset
SELECT id, token, user_id, status, active_until, expires_at, hold_concert_id, last_seen_at, now() AS now
  FROM queue_tokens WHERE id = :seat FOR UPDATE;
SELECT 1 AS found FROM rooms WHERE concert_id = :concert_id;
WITH ids AS (SELECT gen_random_uuid() AS event_id, gen_random_uuid() AS reservation_uuid),
  debit AS (
    UPDATE users SET balance = balance - :price, updated_at = now()
    WHERE id = :seat AND balance >= :price RETURNING balance),
  reservation AS (
    INSERT INTO reservations (reservation_uuid, user_id, concert_id, seat_id, price)
    SELECT ids.reservation_uuid, :seat, :concert_id, :seat, :price FROM debit, ids
    RETURNING id, created_at),
  ledger AS (
    INSERT INTO point_transactions (user_id, type, amount, balance_after, reservation_id)
    SELECT :seat, 'USE', :price, debit.balance, reservation.id FROM debit, reservation),
  sold AS (
    UPDATE seat_holds SET status = 'SOLD' WHERE seat_id = :seat AND EXISTS (SELECT 1 FROM reservation)),
  event AS (
    INSERT INTO outbox (event_id, type, key, payload)
    SELECT ids.event_id, 'reservation.confirmed', :concert_id::text,
      jsonb_build_object('eventId', ids.event_id::text, 'reservationId', reservation.id,
        'userId', :seat::bigint, 'concertId', :concert_id::bigint, 'seatId', :seat::bigint,
        'price', :price::bigint, 'queueToken', 'bench-' || :seat, 'reservedAt', reservation.created_at)
    FROM reservation, ids),
  expired AS (
    UPDATE queue_tokens SET status = 'EXPIRED', expired_at = now()
    WHERE id = :seat AND status = 'ACTIVE' AND EXISTS (SELECT 1 FROM reservation)),
  saved AS (
    UPDATE idempotency_keys SET response = (SELECT jsonb_build_object('reservationId', reservation.id,
        'balance', debit.balance) FROM debit, reservation)
    WHERE user_id = :seat AND scope = 'reservation' AND key = 'pgbench-' || :seat AND EXISTS (SELECT 1 FROM reservation))
  SELECT jsonb_build_object('reservationId', reservation.id, 'balance', debit.balance,
    'reservedAt', to_char(reservation.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24' || chr(58) || 'MI' || chr(58) || 'SS.MS"Z"')) AS reply
  FROM debit, reservation;
COMMIT;
`;

/** Statements the script sends per transaction, BEGIN and COMMIT included. */
const scriptStatements = script.split('\n').filter((line) => /^[A-Z]/.test(line)).length;

/** Rows for `seats` payments: seat i is held by user i, whose token i is ACTIVE. */
async function prepareRows(url: string, seats: number): Promise<void> {
  await withPool(url, async (pool) => {
    await pool.query(
      `INSERT INTO concerts (id, title, venue, show_datetime)
       SELECT c, 'pgbench concert ' || c, 'Bench Hall', now() + interval '30 days' FROM generate_series(1, $1::int) c`,
      [Math.ceil(seats / 50)],
    );
    await pool.query(
      `INSERT INTO seats (id, concert_id, seat_number, price)
       SELECT i, (i - 1) / 50 + 1, (i - 1) % 50 + 1, 10000 * (1 + i % 5) FROM generate_series(1, $1::int) i`,
      [seats],
    );
    await pool.query(
      `INSERT INTO users (id, balance) SELECT i, 1000000000 FROM generate_series(1, $1::int) i`,
      [seats],
    );
    // In statements of 2,000: the ticket-limit trigger takes an advisory lock per buyer, and one
    // statement for every seat outgrew PostgreSQL's lock table ("out of shared memory").
    for (let from = 1; from <= seats; from += 2_000)
      await pool.query(
        `INSERT INTO seat_holds (seat_id, user_id, hold_uuid, status, expires_at)
         SELECT i, i, gen_random_uuid(), 'HELD', now() + interval '1 hour'
         FROM generate_series($1::int, least($1::int + 1999, $2::int)) i`,
        [from, seats],
      );
    await pool.query(
      `INSERT INTO queue_tokens (id, token, user_id, status, activated_at, active_until, expires_at, hold_concert_id)
       SELECT i, 'bench-' || i, i, 'ACTIVE', now(), now() + interval '1 hour', now() + interval '1 hour', (i - 1) / 50 + 1
       FROM generate_series(1, $1::int) i`,
      [seats],
    );
    await pool.query('ANALYZE');
  });
}

/** Runs pgbench against the machine's PostgreSQL (the admin URL's host, port and user). */
async function runPgbench(args: string[], timeoutMs: number): Promise<string> {
  const url = new URL(adminUrl);
  const env = {
    ...process.env,
    PGHOST: url.hostname,
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username || 'postgres'),
    ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}),
  };
  try {
    return (await promisify(execFile)('pgbench', args, { timeout: timeoutMs, env })).stdout;
  } catch (error) {
    const { message, stderr = '' } = error as Error & { stderr?: string };
    throw new Error(`pgbench: ${message}\n${stderr}`, { cause: error });
  }
}

/** Statements of the payment transaction the service sent (BEGIN … COMMIT), from the proxy's log. */
function servicePaymentTransaction(ctx: Context): string[] | undefined {
  const measured = resultsOf(ctx.results, 'round-trips').find(
    (result) => result.target === 'postgres',
  );
  if (!measured) return undefined;
  const statements = measured.paymentStatements;
  const begin = statements.findIndex((text) => /^begin/i.test(text));
  const commit = statements.findIndex((text) => /^commit/i.test(text));
  return begin >= 0 && commit > begin ? statements.slice(begin, commit + 1) : undefined;
}

async function run(ctx: Context): Promise<void> {
  const { pgbench } = ctx.options.profile;
  const mode = ctx.modes.find((item) => item.name === 'postgres') ?? ctx.modes[0];
  if (!mode) return;
  if (spawnSync('pgbench', ['--version']).status !== 0) {
    ctx.skipped.push({
      scenario: 'pgbench',
      target: 'postgres',
      reason: 'pgbench is not installed (Debian: postgresql-client)',
    });
    return;
  }
  progress.phase(`pgbench: the payment transaction alone (${pgbench.clients} clients)`);
  await withDatabase(ctx, 'pgbench', 'payment', async ({ name, url }) => {
    // The server migrates the schema; it is stopped before pgbench runs.
    const migrator = await startOverture({
      label: 'pgbench-migrate',
      databaseUrl: url,
      env: serverEnv(ctx.options, mode, { SEED_DEMO_DATA: 'false' }),
    });
    await migrator.stop();
    const { clients, transactionsPerClient: perClient } = pgbench;
    await prepareRows(url, clients * perClient);
    const directory = mkdtempSync(path.join(os.tmpdir(), 'overture-pgbench-'));
    const file = path.join(directory, 'payment.sql');
    writeFileSync(file, script);
    const fixed = ['-n', '-M', 'prepared', '-j', '2', '-D', 'n=0', '-D', `per_client=${perClient}`];
    const sized = ['-c', String(clients), '-t', String(perClient), '-f', file, name];
    const output = await runPgbench([...fixed, ...sized], 180_000).finally(() =>
      rmSync(directory, { recursive: true, force: true }),
    );
    const read = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? 0);
    const tps = read(/tps = ([\d.]+) \(without initial connection time\)/);
    const latency = read(/latency average = ([\d.]+) ms/);
    const processed = read(/number of transactions actually processed: (\d+)/);
    const failed = read(/number of failed transactions: (\d+)/);
    const [sold] = await queryRows<{ n: number }>(
      url,
      'SELECT count(*)::int AS n FROM reservations',
    );
    if (sold?.n !== processed || failed > 0)
      ctx.problems.push(
        `pgbench: ${processed} transactions processed, ${failed} failed, but ${sold?.n} reservations stored`,
      );

    const service = servicePaymentTransaction(ctx);
    const drift =
      service === undefined || service.length === scriptStatements
        ? null
        : `the service's payment transaction now sends ${service.length} statements, the script ${scriptStatements}: update bench/scenarios/pgbench.ts`;
    if (drift) ctx.problems.push(`pgbench: ${drift}`);
    const result: PgbenchResult = {
      kind: 'pgbench',
      target: 'postgres (pgbench)',
      clients,
      transactions: processed,
      transactionsPerSecond: round(tps, 1),
      latencyAverageMs: latency,
      statementsPerTransaction: scriptStatements,
      protocol: 'prepared statements, as the service sends them',
      drift,
    };
    ctx.results.push(result);
  });
}

export const pgbenchScenario: Scenario = { name: 'pgbench', run };
