import { afterAll, expect, it } from 'vitest';
import { createClient } from '../support/client.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, paidReservations } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { spawnServer, type ServerProcess } from '../support/process.js';
import { useTestDatabase } from '../support/suite.js';

const KEY = 'show-cancel-crash-operator-key-0123456789a';
const RESERVATIONS = 2_000;

/**
 * Proves: a show-cancel job survives kill -9 of the instance running it. 2,000 paid
 * reservations; the show is cancelled on a server process that is killed (SIGKILL) once some
 * but not all are refunded; a new instance picks the job up and finishes it: exactly one REFUND
 * per reservation, every balance equal to its ledger, the job's total = refunded. The log line
 * gives the job's refund rate (reservations/s) on this machine (decision 0039).
 */
describeWithPostgres('show cancellation across a crash', () => {
  const db = useTestDatabase();
  const processes: ServerProcess[] = [];

  afterAll(() => {
    for (const server of processes)
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  const job = async (concertId: number) =>
    (
      await db.pool.query<{ state: string; total: number; refunded: number }>(
        `SELECT state, total, refunded FROM show_cancel_jobs WHERE concert_id = $1`,
        [concertId],
      )
    ).rows[0];

  it('finishes the job on a new instance after kill -9, refunding each reservation once', async () => {
    const { concertId } = await createConcert(db.pool, { seats: RESERVATIONS, price: 5_000 });
    expect(await paidReservations(db.pool, concertId, 200_001)).toBe(RESERVATIONS);
    const env = { DATABASE_URL: db.url, OPERATOR_KEY: KEY };

    const victim = await spawnServer(env);
    processes.push(victim);
    const startedAt = performance.now();
    const started = await createClient(victim.url).call(
      'POST',
      `/api/v1/admin/concerts/${concertId}/cancel`,
      { headers: { authorization: `Bearer ${KEY}` } },
    );
    expect(started.status).toBe(202);

    // Killed as soon as a batch committed: some refunded, most not.
    let before = await job(concertId);
    while ((before?.refunded ?? 0) === 0) {
      if (performance.now() - startedAt > 30_000) throw new Error('no batch committed');
      await new Promise((resolve) => setTimeout(resolve, 5));
      before = await job(concertId);
    }
    victim.child.kill('SIGKILL');
    await victim.exited;
    const killedAt = performance.now();
    const atKill = (await job(concertId))!;
    expect(atKill.state).toBe('running');
    expect(atKill.refunded).toBeGreaterThan(0);
    expect(atKill.refunded).toBeLessThan(RESERVATIONS);
    // What committed is whole: every cancelled reservation has its refund, no more.
    expect(await invariantViolations(db.pool)).toEqual([]);

    const successor = await spawnServer(env);
    processes.push(successor);
    const resumedAt = performance.now();
    let after = await job(concertId);
    while (after?.state !== 'done') {
      if (performance.now() - resumedAt > 45_000)
        throw new Error(`job not done: ${JSON.stringify(after)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await job(concertId);
    }
    const doneAt = performance.now();
    successor.child.kill('SIGTERM');
    await successor.exited;

    expect(after.refunded).toBe(RESERVATIONS);
    expect(after.total).toBe(RESERVATIONS);
    const { rows } = await db.pool.query<{ refunds: number; reservations: number; live: number }>(
      `SELECT (SELECT count(*)::int FROM point_transactions WHERE type = 'REFUND') AS refunds,
              (SELECT count(DISTINCT reservation_id)::int FROM point_transactions WHERE type = 'REFUND') AS reservations,
              (SELECT count(*)::int FROM reservations WHERE cancelled_at IS NULL) AS live`,
    );
    expect(rows[0]).toEqual({ refunds: RESERVATIONS, reservations: RESERVATIONS, live: 0 });
    const balances = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM users WHERE id > 200000 AND balance = 5000`,
    );
    expect(balances.rows[0]?.n).toBe(RESERVATIONS);
    expect(await invariantViolations(db.pool)).toEqual([]);

    const firstRate = atKill.refunded / ((killedAt - startedAt) / 1000);
    const resumedRate = (RESERVATIONS - atKill.refunded) / ((doneAt - resumedAt) / 1000);
    process.stdout.write(
      `show-cancel: ${atKill.refunded} refunded before kill -9 (${firstRate.toFixed(0)}/s incl. the POST), ` +
        `${RESERVATIONS - atKill.refunded} by the new instance at ${resumedRate.toFixed(0)} reservations/s ` +
        `(from its listening, batches of 100)\n`,
    );
  });
});
