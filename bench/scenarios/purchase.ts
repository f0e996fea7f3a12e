/**
 * Full purchase flow: thousands of users join, wait, are admitted, list, hold, charge and pay.
 * Extra concerts are inserted first so there is a seat for everyone. Afterwards the database must
 * show zero oversell, zero double charge and every ledger equal to its balance.
 */
import { check, measureUsage, withOverture, type Context, type Scenario } from '../lib/context.js';
import { count, cpuColumn, ms, table, tally } from '../lib/format.js';
import { addBenchConcerts, checkInvariants, queryRows, withPool } from '../lib/postgres.js';
import { progress } from '../lib/progress.js';
import { resultsOf, type Base } from '../lib/results.js';
import { ratio, round, summarize, type LatencySummary } from '../lib/stats.js';
import { runWorker } from '../lib/workers.js';
import type { PurchaseJob, PurchaseRunResult } from '../workers/purchase.js';
import type { ServerProcess } from '../lib/server.js';

export interface PurchaseResult extends Base {
  kind: 'purchase';
  users: number;
  maxActive: number;
  pollIntervalMs: number;
  seats: number;
  completed: number;
  unfinished: number;
  durationSeconds: number;
  purchasesPerSecond: number;
  peakPurchasesPerSecond: number;
  steps: Record<string, LatencySummary>;
  requests: number;
  failures: Record<string, number>;
  violations: string[];
  reservationsInDatabase: number;
  /** The load generator's event loop during the run (see PurchaseRunResult). */
  generator?: PurchaseRunResult['generator'];
}

const FIRST_USER = 4_000_001;

/** What one purchase run shops: its users, and optionally which concerts and how it reads seats. */
export interface Shopping {
  target: string;
  label: string;
  firstUserId: number;
  users: number;
  /** Seats on sale for it (reported). */
  seats: number;
  /** The server's MAX_ACTIVE (default: the purchase profile's). */
  maxActive?: number;
  concertIds?: number[];
  bySection?: boolean;
}

/**
 * Runs the purchase worker against `server`, then checks the database: the invariants and every
 * answered payment stored as answered (the run's own users only).
 */
export async function shop(
  ctx: Context,
  server: ServerProcess,
  databaseUrl: string,
  shopping: Shopping,
): Promise<PurchaseResult> {
  const { purchase } = ctx.options.profile;
  const { label, firstUserId, users } = shopping;
  const maxActive = shopping.maxActive ?? purchase.maxActive;
  const usage = measureUsage(server);
  const job: PurchaseJob = {
    target: server.url,
    firstUserId,
    users,
    pollIntervalMs: purchase.pollIntervalMs,
    arrivalSeconds: purchase.arrivalSeconds,
    connections: purchase.connections,
    timeoutMs: purchase.timeoutSeconds * 1000,
    ...(shopping.concertIds ? { concertIds: shopping.concertIds } : {}),
    ...(shopping.bySection ? { bySection: true } : {}),
  };
  const run = await runWorker<PurchaseRunResult>('purchase.ts', job, {
    label,
    timeoutMs: (purchase.timeoutSeconds + 60) * 1000,
  });
  const measured = usage(run.cpuSeconds);

  const violations = await checkInvariants(databaseUrl, { maxActive });
  const stored = await queryRows<{ user_id: string; seat_id: string; price: string }>(
    databaseUrl,
    `SELECT user_id::text, seat_id::text, price::text FROM reservations WHERE user_id >= $1 AND user_id < $2`,
    [firstUserId, firstUserId + users],
  );
  const bySeat = new Map(stored.map((row) => [Number(row.seat_id), row]));
  const mismatched = run.purchases.filter((item) => {
    const row = bySeat.get(item.seatId);
    return !row || Number(row.user_id) !== item.userId || Number(row.price) !== item.price;
  });
  if (stored.length !== run.purchases.length)
    violations.push(
      `${run.purchases.length} payments answered 201 but ${stored.length} reservations stored`,
    );
  if (mismatched.length > 0)
    violations.push(`${mismatched.length} answered payments do not match the stored reservation`);
  check(
    ctx,
    `${label}: no oversell, no double charge, ledgers equal balances`,
    violations.length === 0,
    violations.length === 0
      ? `${stored.length} reservations checked against the ledger, the seats and the answers`
      : violations.slice(0, 5).join('; '),
  );

  const times = run.purchases.map((item) => item.atMs).sort((a, b) => a - b);
  const spanSeconds = times.length > 1 ? (times[times.length - 1]! - times[0]!) / 1000 : 0;
  const result: PurchaseResult = {
    kind: 'purchase',
    target: shopping.target,
    users,
    maxActive,
    pollIntervalMs: purchase.pollIntervalMs,
    seats: shopping.seats,
    completed: run.purchases.length,
    unfinished: run.unfinished,
    durationSeconds: round(run.durationMs / 1000, 2),
    purchasesPerSecond: spanSeconds > 0 ? round(run.purchases.length / spanSeconds, 1) : 0,
    peakPurchasesPerSecond: Math.max(0, ...run.perSecond),
    steps: Object.fromEntries(
      Object.entries(run.steps).map(([step, samples]) => [step, summarize(samples)]),
    ),
    requests: run.requests,
    failures: run.failures,
    violations,
    reservationsInDatabase: stored.length,
    usage: measured,
    generator: run.generator,
  };
  const parse = Object.entries(run.generator.parseMs).map(([step, ms]) => `${step} ${ms}`);
  progress.line(
    label,
    `generator: ${run.cpuSeconds.toFixed(2)} s CPU, event-loop delay p99 ${run.generator.loopDelayP99Ms.toFixed(1)} ms ` +
      `(max ${run.generator.loopDelayMaxMs.toFixed(1)}), JSON.parse ms by step: ${parse.join(', ')}`,
  );
  return result;
}

async function run(ctx: Context): Promise<void> {
  const { purchase } = ctx.options.profile;
  progress.phase(
    `full purchase flow (${purchase.users} users, MAX_ACTIVE=${purchase.maxActive}, polling every ~${purchase.pollIntervalMs} ms)`,
  );
  for (const mode of ctx.modes) {
    const env = { MAX_ACTIVE: String(purchase.maxActive) };
    const result = await withOverture(ctx, mode, 'purchase', env, async (server, database) => {
      const label = `${mode.name} purchase`;
      const added = await withPool(database.url, (pool) =>
        addBenchConcerts(pool, Math.ceil((purchase.users * 1.2) / 50)),
      );
      progress.line(
        label,
        `${added.concertIds.length} bench concerts (${added.seats} seats) added`,
      );
      return shop(ctx, server, database.url, {
        target: mode.name,
        label,
        firstUserId: FIRST_USER,
        users: purchase.users,
        seats: added.seats,
      });
    });
    ctx.results.push(result);
  }
}

/** A step's "p50 / p99" cell. */
export const step = (name: string) => (result: PurchaseResult) => {
  const summary = result.steps[name];
  return summary && summary.count > 0 ? `${ms(summary.p50)} / ${ms(summary.p99)}` : '–';
};

export const purchaseScenario: Scenario = {
  name: 'purchase',
  run,
  /** The purchase flow's table, and beside it PostgreSQL's own rate for the payment (pgbench). */
  section(report) {
    const results = resultsOf(report.results, 'purchase');
    const pgbench = resultsOf(report.results, 'pgbench')[0];
    if (results.length === 0 && !pgbench) return undefined;
    const parts = ['### Full purchase flow', ''];
    if (results.length > 0) {
      parts.push(
        'Users join, poll until ACTIVE (every ~poll interval ±50%), list concerts and a seat map, hold a random free seat (another on 409), charge the price, pay. ' +
          'Purchases/s from the first to the last completed purchase. Step latencies are p50 / p99 in ms.',
        '',
        table(results, [
          ['mode', (r) => r.target],
          ['users', (r) => count(r.users)],
          ['MAX_ACTIVE', (r) => String(r.maxActive)],
          ['poll ms', (r) => String(r.pollIntervalMs)],
          ['completed', (r) => count(r.completed)],
          ['purchases/s', (r) => r.purchasesPerSecond.toFixed(1)],
          ['peak/s', (r) => String(r.peakPurchasesPerSecond)],
          ['requests', (r) => count(r.requests)],
          ...['join', 'poll', 'concerts', 'seats', 'hold', 'charge', 'pay'].map(
            (name): [string, (result: PurchaseResult) => string] => [name, step(name)],
          ),
          ['failures', (r) => tally(r.failures)],
          [
            'invariants',
            (r) => (r.violations.length === 0 ? 'hold' : `**${r.violations.length} violated**`),
          ],
          cpuColumn((r) => r.usage),
        ]),
        '',
      );
    }
    if (pgbench) {
      parts.push(
        `PostgreSQL alone (pgbench, ${pgbench.clients} clients like the server's pool, ${pgbench.protocol}): ` +
          `**${pgbench.transactionsPerSecond.toLocaleString('en-US')} payment transactions/s**, ${pgbench.latencyAverageMs} ms average, ` +
          `${pgbench.statementsPerTransaction} statements per transaction, ${count(pgbench.transactions)} transactions.` +
          (pgbench.drift ? ` Warning: ${pgbench.drift}.` : ''),
        '',
      );
    }
    return parts.join('\n');
  },

  verdicts(input) {
    const target =
      "Full purchase flow: purchases/s beside PostgreSQL's own rate for the payment, round trips per payment";
    const purchases = resultsOf(input.results, 'purchase');
    if (purchases.length === 0)
      return [{ target, verdict: 'not measured', detail: 'no purchase run' }];
    const pgbench = resultsOf(input.results, 'pgbench')[0];
    const parts = purchases.map((result) => {
      const rounds = resultsOf(input.results, 'round-trips')
        .find((item) => item.target === result.target)
        ?.steps.find((item) => item.step === 'pay');
      return (
        `${result.target}: ${result.purchasesPerSecond} purchases/s (${result.completed}/${result.users} done)` +
        (pgbench
          ? ` vs pgbench ${pgbench.transactionsPerSecond} payment transactions/s = ${ratio(result.purchasesPerSecond, pgbench.transactionsPerSecond)}×`
          : '') +
        (rounds
          ? `; a payment makes ${rounds.roundTrips} round trips (${rounds.statements} statements)`
          : '')
      );
    });
    return [{ target, verdict: 'reported', detail: parts.join('; ') }];
  },
};
