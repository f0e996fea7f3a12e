/**
 * Round trips per request: the server's DATABASE_URL and REDIS_URL point at counting proxies and
 * one user at a time goes through the purchase flow (plus a hold that loses to an existing one,
 * the storm's common case). Background loops are slowed to once a minute so that each window
 * holds only the request's own work, and what it woke (admission, outbox) in the next 300 ms.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { withOverture, type Context } from '../lib/context.js';
import { Api } from '../lib/http.js';
import { redisUrl } from '../lib/modes.js';
import { CountingProxy, difference, type ProxyCounts } from '../lib/pg-proxy.js';
import { RedisCountingProxy } from '../lib/redis-proxy.js';
import { postgresPort } from '../lib/postgres.js';
import { progress } from '../lib/progress.js';
import type { RoundTripResult, RoundTripStep } from '../lib/results.js';

const FIRST_USER = 5_000_001;
const AFTERWARDS_MS = 300;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)]!;
};

interface Sample {
  during: Omit<ProxyCounts, 'sqlIndex'>;
  afterwards: number;
  sql: string[];
  redisCommands: number;
  redisAfterwards: number;
  redisNames: string[];
}

interface Proxies {
  postgres: CountingProxy;
  redis: RedisCountingProxy;
}

async function measure<T>(
  proxies: Proxies,
  request: () => Promise<T>,
): Promise<{ value: T; sample: Sample }> {
  const { postgres: proxy, redis } = proxies;
  const before = proxy.snapshot();
  const redisBefore = redis.commands;
  const value = await request();
  const answered = proxy.snapshot();
  const redisAnswered = redis.commands;
  await sleep(AFTERWARDS_MS);
  const after = proxy.snapshot();
  return {
    value,
    sample: {
      during: difference(answered, before),
      afterwards: after.roundTrips - answered.roundTrips,
      sql: proxy.sql.slice(before.sqlIndex, answered.sqlIndex),
      redisCommands: redisAnswered - redisBefore,
      redisAfterwards: redis.commands - redisAnswered,
      redisNames: redis.names.slice(redisBefore, redisAnswered),
    },
  };
}

async function flowOnce(api: Api, proxy: Proxies, userId: number, samples: Map<string, Sample[]>) {
  const record = (step: string, sample: Sample) =>
    samples.set(step, [...(samples.get(step) ?? []), sample]);
  const expect = (step: string, status: number, wanted: number[], code: string) => {
    if (!wanted.includes(status))
      throw new Error(`round trips: ${step} answered ${status} ${code}`);
  };

  const join = await measure(proxy, () => api.join(userId));
  record('join (room free → ACTIVE)', join.sample);
  const token = join.value.token;
  const auth = { 'queue-token': token };
  record('poll status', (await measure(proxy, () => api.status(token))).sample);

  const concerts = await measure(proxy, () =>
    api.call<{ concertId: number; isAvailable: boolean }[]>(
      'GET',
      '/api/v1/reservations/concerts',
      auth,
    ),
  );
  record('list concerts', concerts.sample);
  const concert = concerts.value.body.data.find((item) => item.isAvailable);
  if (!concert) throw new Error('round trips: no concert on sale');
  const seats = await measure(proxy, () =>
    api.call<{ availableSeats: { seatId: number; price: number; isAvailable: boolean }[] }>(
      'GET',
      `/api/v1/reservations/concerts/${concert.concertId}/seats`,
      auth,
    ),
  );
  record('seat map', seats.sample);
  const seat = seats.value.body.data.availableSeats.find((item) => item.isAvailable);
  if (!seat) throw new Error('round trips: no free seat');

  const holdBody = {
    seatHoldUuid: randomUUID(),
    concertId: concert.concertId,
    seatId: seat.seatId,
  };
  const hold = await measure(proxy, () =>
    api.call(
      'POST',
      `/api/v1/reservations/concerts/${concert.concertId}/seats/hold`,
      auth,
      holdBody,
    ),
  );
  expect('hold', hold.value.status, [201], hold.value.body.code);
  record('hold (wins)', hold.sample);

  const rival = await api.join(userId + 500_000);
  const lost = await measure(proxy, () =>
    api.call(
      'POST',
      `/api/v1/reservations/concerts/${concert.concertId}/seats/hold`,
      { 'queue-token': rival.token },
      {
        ...holdBody,
        seatHoldUuid: randomUUID(),
      },
    ),
  );
  expect('losing hold', lost.value.status, [409], lost.value.body.code);
  record('hold (seat already held → 409)', lost.sample);

  const charge = await measure(proxy, () =>
    api.call(
      'POST',
      '/api/v1/balance/charge',
      { 'client-id': String(userId), 'idempotency-key': randomUUID() },
      {
        amount: seat.price,
      },
    ),
  );
  expect('charge', charge.value.status, [200, 201], charge.value.body.code);
  record('charge balance', charge.sample);

  const pay = await measure(proxy, () =>
    api.call('POST', '/api/v1/reservations', auth, {
      reservationUuid: randomUUID(),
      seatId: seat.seatId,
    }),
  );
  expect('pay', pay.value.status, [201], pay.value.body.code);
  record('pay', pay.sample);
}

export async function roundTripScenario(ctx: Context): Promise<void> {
  const { roundTrips } = ctx.options.profile;
  progress.phase(
    'round trips per request (counting proxies for PostgreSQL and Redis, one request at a time)',
  );
  for (const mode of ctx.modes) {
    const redisTarget = new URL(redisUrl);
    const proxies: Proxies = {
      postgres: new CountingProxy('127.0.0.1', postgresPort()),
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
        async (server) => {
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
          const payment = samples.get('pay')?.[0];
          const measured: RoundTripResult = {
            kind: 'round-trips',
            target: mode.name,
            runs: roundTrips.purchases,
            steps,
            paymentStatements: (payment?.sql ?? []).map((text) => text.replace(/\s+/g, ' ').trim()),
          };
          for (const step of steps)
            progress.line(
              `${mode.name} round trips`,
              `${step.step}: PostgreSQL ${step.roundTrips} round trips (${step.statements} statements, ` +
                `${step.transactions} transactions, +${step.afterwards} after the answer); ` +
                `Redis ${step.redisCommands} commands (+${step.redisAfterwards} after)`,
            );
          return measured;
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
