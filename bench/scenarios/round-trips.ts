/**
 * Round trips per request: the server's DATABASE_URL and REDIS_URL point at counting proxies and
 * one user at a time goes through the purchase flow (plus a hold that loses to an existing one,
 * the storm's common case). Background loops are slowed to once a minute so that each window
 * holds only the request's own work, and what it woke (admission, outbox) in the next 300 ms.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { withOverture, type Context, type Scenario } from '../lib/context.js';
import { section, table } from '../lib/format.js';
import { Api, type Reply } from '../lib/http.js';
import { redisUrl } from '../lib/modes.js';
import { postgresPort } from '../lib/postgres.js';
import { progress } from '../lib/progress.js';
import {
  difference,
  PostgresCountingProxy,
  RedisCountingProxy,
  type ProxyCounts,
} from '../lib/proxies.js';
import { resultsOf, type Base } from '../lib/results.js';
import { summarize } from '../lib/stats.js';

export interface RoundTripStep {
  step: string;
  /** Request/response exchanges with PostgreSQL while the HTTP request was open (median of runs). */
  roundTrips: number;
  statements: number;
  transactions: number;
  /** Exchanges in the 300 ms after the answer (work the request woke: admission, outbox). */
  afterwards: number;
  /** Redis commands sent while the request was open, and in the 300 ms after. */
  redisCommands: number;
  redisAfterwards: number;
  /** The Redis commands of the first run, in order (EVALSHA is a Lua script). */
  redisCommandNames: string[];
}

export interface RoundTripResult extends Base {
  kind: 'round-trips';
  runs: number;
  steps: RoundTripStep[];
  /** The SQL a payment sent, in order, as PostgreSQL received it. */
  paymentStatements: string[];
}

const FIRST_USER = 5_000_001;
const AFTERWARDS_MS = 300;

/** The lower median: the nearest-rank p50. */
const median = (values: number[]): number => summarize(values).p50;

interface Sample {
  during: Omit<ProxyCounts, 'sqlIndex'>;
  afterwards: number;
  sql: string[];
  redisCommands: number;
  redisAfterwards: number;
  redisNames: string[];
}

interface Proxies {
  postgres: PostgresCountingProxy;
  redis: RedisCountingProxy;
}

/** Walks the purchase flow once, recording what each request cost under its step's name. */
async function flowOnce(
  api: Api,
  proxies: Proxies,
  userId: number,
  samples: Map<string, Sample[]>,
) {
  const { postgres, redis } = proxies;
  /** Sends one request; its counts go under `step`. A reply outside `wanted` breaks the scenario. */
  async function measure<T>(step: string, request: () => Promise<T>, wanted?: number[]) {
    const before = postgres.snapshot();
    const redisBefore = redis.commands;
    const value = await request();
    const answered = postgres.snapshot();
    const redisAnswered = redis.commands;
    await sleep(AFTERWARDS_MS);
    const { status, body } = value as Reply<unknown>;
    if (wanted && !wanted.includes(status))
      throw new Error(`round trips: ${step} answered ${status} ${body.code}`);
    const sample: Sample = {
      during: difference(answered, before),
      afterwards: postgres.snapshot().roundTrips - answered.roundTrips,
      sql: postgres.sql.slice(before.sqlIndex, answered.sqlIndex),
      redisCommands: redisAnswered - redisBefore,
      redisAfterwards: redis.commands - redisAnswered,
      redisNames: redis.names.slice(redisBefore, redisAnswered),
    };
    samples.set(step, [...(samples.get(step) ?? []), sample]);
    return value;
  }

  const { token } = await measure('join (room free → ACTIVE)', () => api.join(userId));
  await measure('poll status', () => api.status(token));
  const concerts = await measure('list concerts', () => api.concerts(token));
  const concert = concerts.body.data.find((item) => item.isAvailable);
  if (!concert) throw new Error('round trips: no concert on sale');
  const seats = await measure('seat map', () => api.seats(token, concert.concertId));
  const seat = seats.body.data.availableSeats.find((item) => item.isAvailable);
  if (!seat) throw new Error('round trips: no free seat');
  const { concertId } = concert;
  await measure('hold (wins)', () => api.hold(token, concertId, seat.seatId), [201]);
  const rival = await api.join(userId + 500_000);
  const lose = () => api.hold(rival.token, concertId, seat.seatId);
  await measure('hold (seat already held → 409)', lose, [409]);
  await measure('charge balance', () => api.charge(userId, seat.price), [200, 201]);
  await measure('pay', () => api.pay(token, seat.seatId), [201]);
}

async function run(ctx: Context): Promise<void> {
  const { roundTrips } = ctx.options.profile;
  progress.phase(
    'round trips per request (counting proxies for PostgreSQL and Redis, one request at a time)',
  );
  for (const mode of ctx.modes) {
    const redisTarget = new URL(redisUrl);
    const proxies: Proxies = {
      postgres: new PostgresCountingProxy('127.0.0.1', postgresPort()),
      redis: new RedisCountingProxy(redisTarget.hostname, Number(redisTarget.port || 6379)),
    };
    const port = await proxies.postgres.listen();
    const redisProxyUrl = new URL(redisUrl);
    redisProxyUrl.hostname = '127.0.0.1';
    redisProxyUrl.port = String(await proxies.redis.listen());
    try {
      const env = {
        ADMISSION_INTERVAL_MS: '60000',
        OUTBOX_INTERVAL_MS: '60000',
        MAX_ACTIVE: '50',
        REDIS_URL: redisProxyUrl.toString(),
      };
      const result = await withOverture(
        ctx,
        mode,
        'round_trips',
        env,
        async (server): Promise<RoundTripResult> => {
          const api = new Api(server.url, 4);
          const samples = new Map<string, Sample[]>();
          try {
            await sleep(500); // the loops' first runs at start-up
            for (let run = 0; run < roundTrips.purchases; run++)
              await flowOnce(api, proxies, FIRST_USER + run, samples);
          } finally {
            await api.close();
          }
          const steps: RoundTripStep[] = [...samples].map(([step, list]) => ({
            step,
            roundTrips: median(list.map((item) => item.during.roundTrips)),
            statements: median(list.map((item) => item.during.statements)),
            transactions: median(list.map((item) => item.during.transactions)),
            afterwards: median(list.map((item) => item.afterwards)),
            redisCommands: median(list.map((item) => item.redisCommands)),
            redisAfterwards: median(list.map((item) => item.redisAfterwards)),
            redisCommandNames: list[0]?.redisNames ?? [],
          }));
          const payment = samples.get('pay')?.[0]?.sql ?? [];
          return {
            kind: 'round-trips',
            target: mode.name,
            runs: roundTrips.purchases,
            steps,
            paymentStatements: payment.map((text) => text.replace(/\s+/g, ' ').trim()),
          };
        },
        port,
      );
      ctx.results.push(result);
    } finally {
      await proxies.postgres.close();
      await proxies.redis.close();
    }
  }
}

/** ["EVALSHA", "EVALSHA", "GET"] → "EVALSHA ×2, GET". */
const summarizeNames = (names: string[] | undefined): string => {
  if (!names || names.length === 0) return '';
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, n]) => (n > 1 ? `${name} ×${n}` : name)).join(', ');
};

/** Runs recorded before a field existed show a dash. */
const optional = (value: number | undefined): string => (value === undefined ? '–' : String(value));

export const roundTripScenario: Scenario = {
  name: 'round-trips',
  run,
  section(report) {
    const results = resultsOf(report.results, 'round-trips');
    if (results.length === 0) return undefined;
    const rows = results.flatMap((result) =>
      result.steps.map((step) => ({ target: result.target, ...step })),
    );
    const parts = [
      section(
        'Round trips per request',
        'Counted by protocol-aware proxies between the server and PostgreSQL / Redis, one request at a time (median of the runs). ' +
          '“after” = what the 300 ms after the answer saw (work the request woke: admission, outbox).',
        table(rows, [
          ['mode', (r) => r.target],
          ['request', (r) => r.step],
          ['PostgreSQL round trips', (r) => String(r.roundTrips)],
          ['statements', (r) => String(r.statements)],
          ['transactions', (r) => String(r.transactions)],
          ['after', (r) => String(r.afterwards)],
          ['Redis commands', (r) => optional(r.redisCommands)],
          ['after', (r) => optional(r.redisAfterwards)],
          ['Redis commands sent', (r) => summarizeNames(r.redisCommandNames)],
        ]),
      ),
    ];
    const payment = results.find((item) => item.paymentStatements.length > 0);
    if (payment) {
      parts.push(
        '',
        `<details><summary>Statements of one payment (${payment.target} mode)</summary>`,
        '',
        ...payment.paymentStatements.map(
          (text, index) =>
            `${index + 1}. \`${text.length > 160 ? `${text.slice(0, 157)}…` : text}\``,
        ),
        '',
        '</details>',
      );
    }
    return parts.join('\n');
  },
};
