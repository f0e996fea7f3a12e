/**
 * Hot-seat storm: N users with ACTIVE tokens (MAX_ACTIVE above N) POST a hold of the same seat at
 * the same instant — all N due at t=0, `connections` on the wire at once. Exactly one may win
 * (201); the rest must get 409 SEAT_ALREADY_HELD. Reports the drain time and rate (vs the bare
 * route under the same burst), the latency from the storm's start, and PostgreSQL transactions
 * per storm (pg_stat_database, read with the server stopped so every backend has reported).
 */
import { randomBytes } from 'node:crypto';
import {
  check,
  databaseName,
  serverEnv,
  measureUsage,
  profileDir,
  type Context,
} from '../lib/context.js';
import { Api, joinAll, range, untilAllActive } from '../lib/http.js';
import { resetBenchRedis, type QueueMode } from '../lib/modes.js';
import { dropDatabase, recreateDatabase, transactionCount, withPool } from '../lib/postgres.js';
import { progress } from '../lib/progress.js';
import type { StormResult } from '../lib/results.js';
import { startOverture, type ServerProcess } from '../lib/server.js';
import { round, summarize } from '../lib/stats.js';
import { runWorker } from '../lib/workers.js';
import type { OpenLoopJob, OpenLoopResult } from '../workers/open-loop.js';

const FIRST_USER = 3_000_001;

interface Seat {
  concertId: number;
  seatId: number;
}

async function burst(
  server: ServerProcess,
  target: string,
  tokens: string[],
  seat: Seat,
  ctx: Context,
): Promise<{ result: OpenLoopResult; usage: ReturnType<ReturnType<typeof measureUsage>> }> {
  const { storm } = ctx.options.profile;
  const usage = measureUsage(server);
  const job: OpenLoopJob = {
    targets: [server.url],
    schedule: { kind: 'burst', count: tokens.length },
    requests: { kind: 'hold', tokens, ...seat },
    maxInFlight: Math.min(storm.connections, tokens.length),
    requestTimeoutMs: storm.timeoutSeconds * 1000,
    drainTimeoutMs: storm.timeoutSeconds * 1000,
    successStatuses: [200, 201],
    readErrorCodes: true,
  };
  const result = await runWorker<OpenLoopResult>('open-loop.ts', job, {
    label: `${target} storm`,
    timeoutMs: (storm.timeoutSeconds + 60) * 1000,
  });
  return { result, usage: usage(result.cpuSeconds) };
}

function stormResult(
  target: string,
  users: number,
  connections: number,
  result: OpenLoopResult,
): StormResult {
  const winners = (result.statuses['201'] ?? 0) + (result.statuses['200'] ?? 0);
  const alreadyHeld = result.codes.SEAT_ALREADY_HELD ?? 0;
  // Every failure reply was read for its code; the ones other than SEAT_ALREADY_HELD are listed.
  const otherOutcomes: Record<string, number> = {};
  for (const [code, count] of Object.entries(result.codes)) {
    if (code !== 'SEAT_ALREADY_HELD') otherOutcomes[code] = count;
  }
  if (result.transportErrors > 0) otherOutcomes['transport error'] = result.transportErrors;
  if (result.unanswered > 0) otherOutcomes.unanswered = result.unanswered;
  const drainSeconds = result.durationMs / 1000;
  return {
    kind: 'storm',
    target,
    users,
    connections,
    winners,
    alreadyHeld,
    otherOutcomes,
    drainSeconds: round(drainSeconds, 3),
    requestsPerSecond: drainSeconds > 0 ? round(result.answered / drainSeconds, 1) : 0,
    latency: summarize(result.latencies),
    transactions: null,
    transactionsPerRequest: null,
    heldRowsForSeat: null,
  };
}

async function modeStorm(ctx: Context, mode: QueueMode): Promise<StormResult> {
  const { storm } = ctx.options.profile;
  const name = databaseName(mode.name, 'storm');
  const url = await recreateDatabase(ctx.admin, name);
  await resetBenchRedis();
  const env = serverEnv(ctx, mode, {
    MAX_ACTIVE: String(storm.users + 100),
    ACTIVE_TOKEN_TTL_SECONDS: '3600',
    SEAT_HOLD_TTL_SECONDS: '3600',
  });
  const start = (label: string) =>
    startOverture({
      label: `${mode.name}-storm-${label}`,
      databaseUrl: url,
      env,
      cpuProfileDir: profileDir(ctx),
    });
  const label = `${mode.name} storm`;
  try {
    // 1. Users join and are admitted; find a free seat.
    const setup = await start('setup');
    let tokens: string[];
    let seat: Seat;
    try {
      const api = new Api(setup.url);
      const joined = await joinAll(api, range(FIRST_USER, storm.users));
      const active = await untilAllActive(api, joined, 60_000);
      if (active < joined.length)
        throw new Error(`only ${active} of ${joined.length} storm users became ACTIVE`);
      tokens = joined.map((token) => token.token);
      const concerts = await api.call<{ concertId: number; isAvailable: boolean }[]>(
        'GET',
        '/api/v1/reservations/concerts',
        { 'queue-token': tokens[0]! },
      );
      const concert = concerts.body.data.find((item) => item.isAvailable);
      if (!concert) throw new Error('no concert on sale for the storm');
      const seats = await api.call<{ availableSeats: { seatId: number; isAvailable: boolean }[] }>(
        'GET',
        `/api/v1/reservations/concerts/${concert.concertId}/seats`,
        { 'queue-token': tokens[0]! },
      );
      const free = seats.body.data.availableSeats.find((item) => item.isAvailable);
      if (!free) throw new Error('no free seat for the storm');
      seat = { concertId: concert.concertId, seatId: free.seatId };
      await api.close();
      progress.line(
        label,
        `${active} users ACTIVE; storm on concert ${seat.concertId} seat ${seat.seatId}`,
      );
    } finally {
      await setup.stop();
    }

    // 2. What a start and stop alone cost in transactions (migration check, seed check, ticks).
    const beforeIdle = await transactionCount(ctx.admin, name);
    await (await start('idle')).stop();
    const idleCost = (await transactionCount(ctx.admin, name)) - beforeIdle;

    // 3. The bare route under the same burst, just before: the rate the storm is compared with.
    const bare = await burst(
      ctx.bare,
      'bare',
      fakeTokens(storm.users),
      { concertId: 1, seatId: 1 },
      ctx,
    );
    const bareResult = stormResult(
      'bare',
      storm.users,
      Math.min(storm.connections, storm.users),
      bare.result,
    );
    ctx.results.push({ ...bareResult, usage: bare.usage, pairedWith: mode.name });
    progress.line(
      'bare storm',
      `done: drained in ${bareResult.drainSeconds} s (${bareResult.requestsPerSecond} req/s)`,
    );

    // 4. The storm, on a fresh server, counted from stopped to stopped.
    const before = await transactionCount(ctx.admin, name);
    const server = await start('run');
    let measured;
    try {
      measured = await burst(server, mode.name, tokens, seat, ctx);
    } finally {
      await server.stop();
    }
    const transactions = (await transactionCount(ctx.admin, name)) - before - idleCost;
    const result = stormResult(
      mode.name,
      storm.users,
      Math.min(storm.connections, storm.users),
      measured.result,
    );
    result.usage = measured.usage;
    result.transactions = transactions;
    result.transactionsPerRequest = round(transactions / storm.users, 3);
    result.heldRowsForSeat = await withPool(url, async (pool) => {
      const rows = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM seat_holds WHERE seat_id = $1 AND status = 'HELD'`,
        [seat.seatId],
      );
      return rows.rows[0]?.n ?? 0;
    });
    check(
      ctx,
      `${mode.name}: storm of ${storm.users} on one seat has exactly one winner`,
      result.winners === 1 && result.heldRowsForSeat === 1,
      `${result.winners} × 201, ${result.alreadyHeld} × SEAT_ALREADY_HELD, ` +
        (Object.keys(result.otherOutcomes).length === 0
          ? 'nothing else'
          : `other ${JSON.stringify(result.otherOutcomes)}`) +
        `, ${result.heldRowsForSeat} hold row(s) in the database`,
    );
    progress.line(
      label,
      `done: drained in ${result.drainSeconds} s (${result.requestsPerSecond} req/s), p99 ${result.latency.p99} ms, ` +
        `${transactions} transactions (${result.transactionsPerRequest}/request)`,
    );
    return result;
  } finally {
    if (!ctx.options.keepDatabases) await dropDatabase(ctx.admin, name);
  }
}

const fakeTokens = (count: number) =>
  range(0, count).map(() => randomBytes(24).toString('base64url'));

export async function stormScenario(ctx: Context): Promise<void> {
  const { storm } = ctx.options.profile;
  progress.phase(
    `hot-seat storm (${storm.users} users, one seat, ${storm.connections} connections)`,
  );
  for (const mode of ctx.modes) ctx.results.push(await modeStorm(ctx, mode));
}
