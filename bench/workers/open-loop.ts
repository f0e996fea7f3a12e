/**
 * Open-loop load generator (child process). Requests are due at fixed times — an arrival-rate
 * ramp, or all at once for a storm — whatever the server does, and each latency is measured from
 * the request's due time, so a stalled server cannot hide its queue (no coordinated omission).
 * At most `maxInFlight` requests are on the wire (the seed's 1000 virtual users); an arrival
 * that finds them all busy waits its turn, and that wait counts in its latency.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { count, ms } from '../lib/format.js';
import type { Stage } from '../lib/options.js';
import { summarize, type LatencySummary } from '../lib/stats.js';
import { serveJob } from '../lib/workers.js';

export type OpenLoopRequests =
  | { kind: 'join'; users: 'random'; userCount: number }
  | { kind: 'join'; users: 'unique'; firstUserId: number; concertId?: number }
  | { kind: 'hold'; tokens: string[]; concertId: number; seatId: number };

export interface OpenLoopJob {
  /** Base URLs; arrivals go to them in turn (several server processes for scale-out). */
  targets: string[];
  schedule: { kind: 'stages'; stages: Stage[] } | { kind: 'burst'; count: number };
  requests: OpenLoopRequests;
  maxInFlight: number;
  requestTimeoutMs: number;
  /** After the last due time, unanswered requests get this long before they count as failed. */
  drainTimeoutMs: number;
  /** Statuses that are not failures (k6 counts every status below 400 as success). */
  successStatuses: number[];
  /** Read the envelope's `code` of failure replies (the storm's SEAT_ALREADY_HELD). */
  readErrorCodes: boolean;
}

export interface OpenLoopResult {
  scheduled: number;
  sent: number;
  answered: number;
  ok: number;
  /** Failure statuses + transport errors + requests never answered in time. */
  failed: number;
  transportErrors: number;
  unanswered: number;
  /** Arrivals that found every slot busy and waited for one. */
  waitedForSlot: number;
  statuses: Record<string, number>;
  codes: Record<string, number>;
  errorSamples: string[];
  /** From the due time, for every arrival (an unanswered one: until the run gave up on it). */
  latencies: Float64Array;
  /** From the moment the request was actually written, for answered requests. */
  serviceTimes: Float64Array;
  /** First due time to last answer. */
  durationMs: number;
  /** How late the generator itself sent requests that had a free slot (its own lag). */
  sendLag: LatencySummary;
  cpuSeconds: number;
}

/**
 * Send times (ms from the start) of an open-loop arrival-rate ramp, like k6's
 * ramping-arrival-rate executor: the rate moves linearly from the previous stage's target (0 at
 * first) to this stage's target, and request k is due when the integral of the rate reaches k.
 */
function arrivalOffsets(stages: readonly Stage[]): Float64Array {
  const times: number[] = [];
  let startRate = 0;
  let stageStart = 0;
  let issued = 0;
  let cumulative = 0;
  for (const stage of stages) {
    const duration = stage.durationSeconds;
    const slope = (stage.target - startRate) / duration; // rate change per second
    const total = ((startRate + stage.target) / 2) * duration;
    cumulative += total;
    // Arrival number k (1-based, cumulative) falls in this stage when k <= cumulative.
    while (issued + 1 <= cumulative + 1e-9) {
      const within = issued + 1 - (cumulative - total); // requests into this stage
      // Solve startRate·t + slope·t²/2 = within for t in [0, duration].
      const t =
        Math.abs(slope) < 1e-12
          ? within / startRate
          : (-startRate + Math.sqrt(Math.max(0, startRate * startRate + 2 * slope * within))) /
            slope;
      times.push((stageStart + Math.min(duration, Math.max(0, t))) * 1000);
      issued++;
    }
    startRate = stage.target;
    stageStart += duration;
  }
  return Float64Array.from(times);
}

interface Prepared {
  path: string;
  method: 'POST';
  headers: (index: number) => Record<string, string>;
  body: (index: number) => string | undefined;
}

function prepare(requests: OpenLoopRequests): Prepared {
  if (requests.kind === 'join') {
    const userOf =
      requests.users === 'random'
        ? () => 1 + Math.floor(Math.random() * requests.userCount)
        : (index: number) => requests.firstUserId + index;
    // A room's join names its concert (the opening's burst); the house room's has no body.
    const room = 'concertId' in requests ? requests.concertId : undefined;
    const body = room === undefined ? undefined : JSON.stringify({ concertId: room });
    const type: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
    return {
      path: '/api/v1/queue/token',
      method: 'POST',
      headers: (index) => ({ 'client-id': String(userOf(index)), ...type }),
      body: () => body,
    };
  }
  // Bodies are built before the clock starts: the storm measures the server, not JSON.stringify.
  const bodies = requests.tokens.map(() =>
    JSON.stringify({
      seatHoldUuid: randomUUID(),
      concertId: requests.concertId,
      seatId: requests.seatId,
    }),
  );
  return {
    path: `/api/v1/reservations/concerts/${requests.concertId}/seats/hold`,
    method: 'POST',
    headers: (index) => ({
      'queue-token': requests.tokens[index % requests.tokens.length]!,
      'content-type': 'application/json',
    }),
    body: (index) => bodies[index % bodies.length],
  };
}

async function run(job: OpenLoopJob, report: (text: string) => void): Promise<OpenLoopResult> {
  const offsets =
    job.schedule.kind === 'stages'
      ? arrivalOffsets(job.schedule.stages)
      : new Float64Array(job.schedule.count);
  const request = prepare(job.requests);
  const perTarget = Math.max(1, Math.ceil(job.maxInFlight / job.targets.length));
  const pools = job.targets.map(
    (target) =>
      new Pool(target, {
        connections: perTarget,
        pipelining: 1,
        headersTimeout: job.requestTimeoutMs,
        bodyTimeout: job.requestTimeoutMs,
        keepAliveTimeout: 60_000,
        connectTimeout: 10_000,
      }),
  );
  const success = new Set(job.successStatuses);
  let gaveUp = false;

  const latencies = new Float64Array(offsets.length).fill(Number.NaN);
  const serviceTimes: number[] = [];
  const sendLags: number[] = [];
  const window: number[] = [];
  const statuses: Record<string, number> = {};
  const codes: Record<string, number> = {};
  const errorSamples: string[] = [];
  let sent = 0;
  let answered = 0;
  let ok = 0;
  let transportErrors = 0;
  let inFlight = 0;
  let waitedForSlot = 0;
  let lastAnswer = 0;
  const waiting: number[] = [];
  let waitingHead = 0;

  const cpuStart = process.cpuUsage();
  const start = performance.now() + 20;
  const now = () => performance.now() - start;

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let next = 0;
  let finished = 0;
  const settle = () => {
    finished++;
    if (finished === offsets.length) resolveDone();
  };

  const send = (index: number) => {
    inFlight++;
    sent++;
    const sentAt = now();
    const pool = pools[index % pools.length]!;
    pool
      .request({
        path: request.path,
        method: request.method,
        headers: request.headers(index),
        body: request.body(index),
      })
      .then(async (response) => {
        const status = response.statusCode;
        let code: string | undefined;
        if (job.readErrorCodes && !success.has(status)) {
          const parsed = (await response.body.json().catch(() => ({}))) as { code?: unknown };
          code = typeof parsed.code === 'string' ? parsed.code : `HTTP ${status}`;
        } else {
          await response.body.dump();
        }
        const at = now();
        latencies[index] = at - offsets[index]!;
        serviceTimes.push(at - sentAt);
        window.push(at - offsets[index]!);
        lastAnswer = at;
        answered++;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (code !== undefined) codes[code] = (codes[code] ?? 0) + 1;
        if (success.has(status)) ok++;
      })
      .catch((error: unknown) => {
        const at = now();
        latencies[index] = at - offsets[index]!;
        window.push(at - offsets[index]!);
        if (!gaveUp) {
          transportErrors++;
          const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          if (errorSamples.length < 5 && !errorSamples.includes(text)) errorSamples.push(text);
        }
      })
      .finally(() => {
        inFlight--;
        if (waitingHead < waiting.length) send(waiting[waitingHead++]!);
        settle();
      });
  };

  const dispatch = () => {
    const t = now();
    while (next < offsets.length && offsets[next]! <= t) {
      if (inFlight < job.maxInFlight) {
        sendLags.push(t - offsets[next]!);
        send(next);
      } else {
        waitedForSlot++;
        waiting.push(next);
      }
      next++;
    }
    if (next < offsets.length)
      setTimeout(dispatch, Math.max(0, Math.min(5, offsets[next]! - t - 0.5)));
  };
  setTimeout(dispatch, 20);

  let reported = 0;
  const ticker = setInterval(() => {
    const windowSummary = summarize(window.slice(reported));
    reported = window.length;
    report(
      `t=${(now() / 1000).toFixed(0)}s due ${count(next)}/${count(offsets.length)} ` +
        `answered ${count(answered)} in-flight ${count(inFlight)} waiting ${count(waiting.length - waitingHead)} ` +
        `last 1s: ${count(windowSummary.count)} done, p99 ${ms(windowSummary.p99)} ms` +
        (transportErrors > 0 ? ` errors ${count(transportErrors)}` : ''),
    );
  }, 1000);

  const lastDue = offsets.length > 0 ? offsets[offsets.length - 1]! : 0;
  const giveUp = setTimeout(
    () => {
      gaveUp = true;
      // Destroying the pools fails every request still on the wire (not counted as transport errors).
      for (const pool of pools) void pool.destroy();
      // Arrivals still waiting for a slot were never sent: they failed at the give-up time.
      const at = now();
      for (let index = waitingHead; index < waiting.length; index++) {
        const arrival = waiting[index]!;
        latencies[arrival] = at - offsets[arrival]!;
        settle();
      }
      waitingHead = waiting.length;
      for (let index = next; index < offsets.length; index++) settle();
      next = offsets.length;
    },
    lastDue + job.drainTimeoutMs + 20,
  );
  await done;
  clearTimeout(giveUp);
  clearInterval(ticker);
  await Promise.all(pools.filter((pool) => !pool.destroyed).map((pool) => pool.destroy()));

  for (let index = 0; index < latencies.length; index++) {
    if (Number.isNaN(latencies[index])) latencies[index] = now() - offsets[index]!;
  }
  const unanswered = offsets.length - answered - transportErrors;
  const cpu = process.cpuUsage(cpuStart);
  return {
    scheduled: offsets.length,
    sent,
    answered,
    ok,
    failed: offsets.length - ok,
    transportErrors,
    unanswered,
    waitedForSlot,
    statuses,
    codes,
    errorSamples,
    latencies,
    serviceTimes: Float64Array.from(serviceTimes),
    durationMs: Math.max(lastAnswer, 0),
    sendLag: summarize(sendLags),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

serveJob(run);
