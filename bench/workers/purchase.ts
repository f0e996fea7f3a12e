/**
 * Full purchase flow (child process): every user joins the line, polls until ACTIVE, lists the
 * concerts and a seat map, holds a random free seat (another on 409), charges the price and pays.
 * Users arrive spread over `arrivalSeconds`; the run stops at `timeoutMs` whatever is left.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { count } from '../lib/format.js';
import { SampleBuffer } from '../lib/stats.js';
import { serveJob } from '../lib/workers.js';

export interface PurchaseJob {
  target: string;
  firstUserId: number;
  users: number;
  pollIntervalMs: number;
  arrivalSeconds: number;
  connections: number;
  timeoutMs: number;
}

export interface Purchase {
  userId: number;
  seatId: number;
  price: number;
  reservationId: number;
  atMs: number;
}

export interface PurchaseRunResult {
  purchases: Purchase[];
  unfinished: number;
  requests: number;
  failures: Record<string, number>;
  steps: Record<string, Float64Array>;
  /** Completed purchases in each second of the run. */
  perSecond: number[];
  durationMs: number;
  cpuSeconds: number;
}

interface Reply<T> {
  status: number;
  code: string;
  data: T;
}

const stepNames = ['join', 'poll', 'concerts', 'seats', 'hold', 'charge', 'pay'] as const;
type Step = (typeof stepNames)[number];

const pick = <T>(items: readonly T[]): T | undefined =>
  items.length === 0 ? undefined : items[Math.floor(Math.random() * items.length)];

async function run(job: PurchaseJob, report: (text: string) => void): Promise<PurchaseRunResult> {
  const pool = new Pool(job.target, {
    connections: job.connections,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
    keepAliveTimeout: 60_000,
  });
  const steps = Object.fromEntries(
    stepNames.map((step) => [step, new SampleBuffer(job.users * 2)]),
  ) as Record<Step, SampleBuffer>;
  const failures: Record<string, number> = {};
  const purchases: Purchase[] = [];
  const counters = { requests: 0, joined: 0, active: 0 };
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  const deadline = job.timeoutMs;
  const cpuStart = process.cpuUsage();

  async function call<T>(
    step: Step,
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<Reply<T>> {
    const sentAt = performance.now();
    counters.requests++;
    const response = await pool.request({
      method,
      path,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const envelope = (await response.body.json()) as { code: string; data: T };
    steps[step].push(performance.now() - sentAt);
    if (response.statusCode >= 400 && !(step === 'hold' && response.statusCode === 409)) {
      const key = `${step} ${response.statusCode} ${envelope.code}`;
      failures[key] = (failures[key] ?? 0) + 1;
    }
    return { status: response.statusCode, code: envelope.code, data: envelope.data };
  }

  async function shopper(userId: number, arrivalMs: number): Promise<void> {
    await sleep(arrivalMs);
    const client = { 'client-id': String(userId) };
    let token = '';
    let admitted = false;
    for (let attempt = 0; attempt < 10 && elapsed() < deadline; attempt++) {
      if (!admitted) {
        const joined = await call<{ token: string; status: string }>(
          'join',
          'POST',
          '/api/v1/queue/token',
          client,
        );
        if (joined.status !== 201) continue;
        if (attempt === 0) counters.joined++;
        token = joined.data.token;
        let status = joined.data.status;
        while (status === 'WAITING' && elapsed() < deadline) {
          await sleep(job.pollIntervalMs * (0.5 + Math.random()));
          const polled = await call<{ status: string }>('poll', 'GET', '/api/v1/queue/token', {
            'queue-token': token,
          });
          if (polled.status !== 200) break;
          status = polled.data.status;
        }
        if (status !== 'ACTIVE') continue;
        admitted = true;
        counters.active++;
      }
      const auth = { 'queue-token': token };
      const concerts = await call<{ concertId: number; isAvailable: boolean }[]>(
        'concerts',
        'GET',
        '/api/v1/reservations/concerts',
        auth,
      );
      if (concerts.status !== 200) {
        admitted = false;
        continue;
      }
      const concert = pick(concerts.data.filter((item) => item.isAvailable));
      if (!concert) return; // sold out
      const seats = await call<{
        availableSeats: { seatId: number; price: number; isAvailable: boolean }[];
      }>('seats', 'GET', `/api/v1/reservations/concerts/${concert.concertId}/seats`, auth);
      if (seats.status !== 200) continue;
      const seat = pick(seats.data.availableSeats.filter((item) => item.isAvailable));
      if (!seat) continue;
      const hold = await call(
        'hold',
        'POST',
        `/api/v1/reservations/concerts/${concert.concertId}/seats/hold`,
        auth,
        {
          seatHoldUuid: randomUUID(),
          concertId: concert.concertId,
          seatId: seat.seatId,
        },
      );
      if (hold.status === 409) continue; // someone was faster: pick another seat
      if (hold.status !== 201 && hold.status !== 200) {
        admitted = hold.code.startsWith('QUEUE_TOKEN') ? false : admitted;
        continue;
      }
      const charge = await call(
        'charge',
        'POST',
        '/api/v1/balance/charge',
        {
          ...client,
          'idempotency-key': randomUUID(),
        },
        { amount: seat.price },
      );
      if (charge.status !== 200 && charge.status !== 201) continue;
      const paid = await call<{ reservationId: number; seatId: number; price: number }>(
        'pay',
        'POST',
        '/api/v1/reservations',
        auth,
        { reservationUuid: randomUUID(), seatId: seat.seatId },
      );
      if (paid.status === 201 || paid.status === 200) {
        purchases.push({
          userId,
          seatId: paid.data.seatId,
          price: paid.data.price,
          reservationId: paid.data.reservationId,
          atMs: elapsed(),
        });
        return;
      }
      admitted = paid.code.startsWith('QUEUE_TOKEN') ? false : admitted;
    }
  }

  let lastCount = 0;
  const ticker = setInterval(() => {
    const done = purchases.length;
    report(
      `t=${(elapsed() / 1000).toFixed(0)}s joined ${count(counters.joined)} admitted ${count(counters.active)} ` +
        `purchased ${count(done)} (+${count(done - lastCount)}/s) requests ${count(counters.requests)}`,
    );
    lastCount = done;
  }, 1000);

  const shoppers = Array.from({ length: job.users }, (_, index) =>
    shopper(job.firstUserId + index, (index / job.users) * job.arrivalSeconds * 1000).catch(
      (error: unknown) => {
        const key = `transport ${error instanceof Error ? error.message : String(error)}`.slice(
          0,
          120,
        );
        failures[key] = (failures[key] ?? 0) + 1;
      },
    ),
  );
  const timedOut = sleep(deadline + 5000).then(() => 'timeout' as const);
  await Promise.race([Promise.all(shoppers), timedOut]);
  clearInterval(ticker);
  await pool.destroy();

  const durationMs = elapsed();
  const perSecond = new Array<number>(Math.ceil(durationMs / 1000) + 1).fill(0);
  for (const purchase of purchases) perSecond[Math.floor(purchase.atMs / 1000)]!++;
  const cpu = process.cpuUsage(cpuStart);
  return {
    purchases,
    unfinished: job.users - purchases.length,
    requests: counters.requests,
    failures,
    steps: Object.fromEntries(stepNames.map((step) => [step, steps[step].values()])),
    perSecond,
    durationMs,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

serveJob(run);
