/**
 * Bulk cancel (issue 14): a show with N paid reservations is cancelled through
 * POST /api/v1/admin/concerts/{id}/cancel; the server running the show-cancel job is killed with
 * SIGKILL once its first batch committed, a new server finishes the job. Reports the job's rate
 * (reservations refunded per second) before and after the kill, and checks in SQL that every
 * reservation has exactly one REFUND row and every ledger sums to its balance.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createConcert, paidReservations } from '../../test/support/fixtures.js';
import { check, startMode, withDatabase, type Context, type Scenario } from '../lib/context.js';
import { count, section, table } from '../lib/format.js';
import { Api, OPERATOR_KEY } from '../lib/http.js';
import { checkInvariants, queryRows, withPool } from '../lib/postgres.js';
import { progress } from '../lib/progress.js';
import { resultsOf, type Base } from '../lib/results.js';
import { round } from '../lib/stats.js';

export interface ShowCancelResult extends Base {
  kind: 'show-cancel';
  reservations: number;
  /** Refunded when the first server was killed (kill -9). */
  refundedAtKill: number;
  /** From the cancel request to the kill, and the first server's rate over it. */
  firstSeconds: number;
  firstRate: number;
  /** From the new server's readiness to the job's end, and its rate over it. */
  resumedSeconds: number;
  resumedRate: number;
  /** Whether every reservation has exactly one REFUND and every ledger equals its balance. */
  exactlyOnce: boolean;
  problems: string[];
}

const FIRST_USER = 7_000_001;
const JOB_TIMEOUT_MS = 180_000;

interface Job {
  state: string;
  refunded: number;
}

/** Polls the job's row until `done(job)`; throws after JOB_TIMEOUT_MS. */
async function until(url: string, concertId: number, done: (job: Job) => boolean): Promise<Job> {
  return withPool(url, async (pool) => {
    const deadline = Date.now() + JOB_TIMEOUT_MS;
    for (;;) {
      const { rows } = await pool.query<Job>(
        `SELECT state, refunded FROM show_cancel_jobs WHERE concert_id = $1`,
        [concertId],
      );
      const job = rows[0] ?? { state: 'none', refunded: 0 };
      if (done(job)) return job;
      if (Date.now() > deadline) throw new Error(`show-cancel job: ${JSON.stringify(job)}`);
      await sleep(5);
    }
  });
}

/** Every reservation of the show cancelled with exactly one REFUND row; the invariants hold. */
async function exactlyOnce(url: string, concertId: number, reservations: number) {
  const problems = await checkInvariants(url);
  const [counts = { refunds: 0, wrong: 0, live: 0 }] = await queryRows<{
    refunds: number;
    wrong: number;
    live: number;
  }>(
    url,
    `SELECT count(*) FILTER (WHERE refunds = 1)::int AS refunds,
              count(*) FILTER (WHERE refunds <> 1)::int AS wrong,
              count(*) FILTER (WHERE cancelled_at IS NULL)::int AS live
       FROM (SELECT r.id, r.cancelled_at, count(p.id) AS refunds FROM reservations r
             LEFT JOIN point_transactions p ON p.reservation_id = r.id AND p.type = 'REFUND'
             WHERE r.concert_id = $1 GROUP BY r.id) AS each`,
    [concertId],
  );
  if (counts.refunds !== reservations)
    problems.push(`${counts.refunds} of ${reservations} reservations have exactly one REFUND`);
  if (counts.wrong > 0) problems.push(`${counts.wrong} reservations have 0 or several REFUNDs`);
  if (counts.live > 0) problems.push(`${counts.live} reservations not cancelled`);
  return problems;
}

async function run(ctx: Context): Promise<void> {
  const { reservations } = ctx.options.profile.showCancel;
  const mode = ctx.modes.find((item) => item.name === 'postgres') ?? ctx.modes[0];
  if (!mode) return;
  progress.phase(`show cancellation (${count(reservations)} reservations, kill -9 mid-job)`);
  const label = `${mode.name} show-cancel`;
  const env = { OPERATOR_KEY };
  const result = await withDatabase(ctx, mode.name, 'show-cancel', async ({ url }) => {
    const first = await startMode(ctx, mode, 'show-cancel', url, env);
    let concertId: number;
    let startedAt: number;
    try {
      concertId = await withPool(url, async (pool) => {
        const concert = await createConcert(pool, { seats: reservations, price: 5_000 });
        await paidReservations(pool, concert.concertId, FIRST_USER);
        return concert.concertId;
      });
      const api = new Api(first.url, 1);
      startedAt = performance.now();
      await api.admin('POST', `/concerts/${concertId}/cancel`, { reason: 'bench' });
      await api.close();
      await until(url, concertId, (job) => job.refunded > 0);
    } finally {
      await first.kill();
    }
    const killedAt = performance.now();
    const atKill = await until(url, concertId, () => true);
    progress.line(label, `kill -9 with ${atKill.refunded} of ${reservations} refunded`);

    const second = await startMode(ctx, mode, 'show-cancel-resumed', url, env);
    const resumedAt = performance.now();
    try {
      await until(url, concertId, (job) => job.state === 'done');
    } finally {
      await second.stop();
    }
    const doneAt = performance.now();
    const problems = await exactlyOnce(url, concertId, reservations);
    if (atKill.state === 'done' || atKill.refunded >= reservations)
      problems.push('the job had finished before the kill: nothing was resumed');
    const firstSeconds = (killedAt - startedAt) / 1000;
    const resumedSeconds = (doneAt - resumedAt) / 1000;
    const done: ShowCancelResult = {
      kind: 'show-cancel',
      target: mode.name,
      reservations,
      refundedAtKill: atKill.refunded,
      firstSeconds: round(firstSeconds),
      firstRate: round(atKill.refunded / firstSeconds, 1),
      resumedSeconds: round(resumedSeconds),
      resumedRate: round((reservations - atKill.refunded) / resumedSeconds, 1),
      exactlyOnce: problems.length === 0,
      problems,
    };
    return done;
  });
  check(
    ctx,
    `${label}: after kill -9 mid-job, every reservation refunded exactly once, ledgers equal balances`,
    result.exactlyOnce,
    result.exactlyOnce
      ? `${count(result.reservations)} reservations, ${count(result.refundedAtKill)} refunded before the kill`
      : result.problems.slice(0, 5).join('; '),
  );
  ctx.results.push(result);
}

export const showCancelScenario: Scenario = {
  name: 'show-cancel',
  run,

  section(report) {
    const results = resultsOf(report.results, 'show-cancel');
    if (results.length === 0) return undefined;
    return section(
      'Show cancellation (bulk refund, kill -9 mid-job)',
      'N paid reservations; POST /api/v1/admin/concerts/{id}/cancel; the server is killed (SIGKILL) once the job’s first batch committed, ' +
        'and a new server finishes the job. Rates are reservations refunded per second: the first server’s from the request to the kill, ' +
        'the new one’s from its readiness to the job’s end. Exactly once: every reservation has one REFUND ledger row, none is live, every ledger sums to its balance.',
      table(results, [
        ['mode', (r) => r.target],
        ['reservations', (r) => count(r.reservations)],
        ['refunded at kill', (r) => count(r.refundedAtKill)],
        ['before kill /s', (r) => count(r.firstRate)],
        ['after restart /s', (r) => count(r.resumedRate)],
        ['resumed in s', (r) => r.resumedSeconds.toFixed(2)],
        ['exactly once', (r) => (r.exactlyOnce ? 'pass' : `**FAIL**: ${r.problems.join('; ')}`)],
      ]),
    );
  },

  verdicts(input) {
    const target =
      'Bulk cancel of 5,000 reservations: refunds per second, exactly once after kill -9 mid-job';
    const [result] = resultsOf(input.results, 'show-cancel');
    if (!result) return [{ target, verdict: 'not measured', detail: 'no show-cancel run' }];
    const size = result.reservations === 5_000 ? '' : ` (this run: ${count(result.reservations)})`;
    return [
      {
        target,
        verdict: result.exactlyOnce ? 'reported' : 'not met',
        detail:
          `${result.resumedRate} refunds/s after the restart (${result.firstRate}/s before the kill); exactly once: ` +
          `${result.exactlyOnce ? 'pass' : 'FAIL'}${size}`,
      },
    ];
  },
};
