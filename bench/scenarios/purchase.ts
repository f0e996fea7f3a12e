/**
 * Full purchase flow: thousands of users join, wait, are admitted, list, hold, charge and pay.
 * Extra concerts are inserted first so there is a seat for everyone. Afterwards the database must
 * show zero oversell, zero double charge and every ledger equal to its balance.
 */
import { check, measureUsage, withOverture, type Context } from '../lib/context.js';
import { addBenchConcerts, checkInvariants, withPool } from '../lib/postgres.js';
import { progress } from '../lib/progress.js';
import type { PurchaseResult } from '../lib/results.js';
import { round, summarize } from '../lib/stats.js';
import { runWorker } from '../lib/workers.js';
import type { PurchaseJob, PurchaseRunResult } from '../workers/purchase.js';

const FIRST_USER = 4_000_001;

export async function purchaseScenario(ctx: Context): Promise<void> {
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
      const usage = measureUsage(server);
      const job: PurchaseJob = {
        target: server.url,
        firstUserId: FIRST_USER,
        users: purchase.users,
        pollIntervalMs: purchase.pollIntervalMs,
        arrivalSeconds: purchase.arrivalSeconds,
        connections: purchase.connections,
        timeoutMs: purchase.timeoutSeconds * 1000,
      };
      const run = await runWorker<PurchaseRunResult>('purchase.ts', job, {
        label,
        timeoutMs: (purchase.timeoutSeconds + 60) * 1000,
      });
      const measured = usage(run.cpuSeconds);

      const violations = await checkInvariants(database.url, { maxActive: purchase.maxActive });
      const stored = await withPool(database.url, async (pool) => {
        const rows = await pool.query<{ user_id: string; seat_id: string; price: string }>(
          `SELECT user_id::text, seat_id::text, price::text FROM reservations WHERE user_id >= $1`,
          [FIRST_USER],
        );
        return rows.rows;
      });
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
        violations.push(
          `${mismatched.length} answered payments do not match the stored reservation`,
        );
      check(
        ctx,
        `${mode.name}: purchase flow leaves no oversell, no double charge, ledgers equal balances`,
        violations.length === 0,
        violations.length === 0
          ? `${stored.length} reservations checked against the ledger, the seats and the answers`
          : violations.slice(0, 5).join('; '),
      );

      const times = run.purchases.map((item) => item.atMs).sort((a, b) => a - b);
      const spanSeconds = times.length > 1 ? (times[times.length - 1]! - times[0]!) / 1000 : 0;
      const result: PurchaseResult = {
        kind: 'purchase',
        target: mode.name,
        users: purchase.users,
        maxActive: purchase.maxActive,
        pollIntervalMs: purchase.pollIntervalMs,
        seats: added.seats,
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
      };
      progress.line(
        label,
        `done: ${result.completed}/${result.users} purchases, ${result.purchasesPerSecond}/s (peak ${result.peakPurchasesPerSecond}/s), ` +
          `invariants ${violations.length === 0 ? 'hold' : 'VIOLATED'}`,
      );
      return result;
    });
    ctx.results.push(result);
  }
}
