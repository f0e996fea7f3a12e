/**
 * Full purchase flow (child process): every user joins the line, polls until ACTIVE, lists the
 * concerts and a seat map, holds a random free seat (another on 409), charges the price and pays.
 * Users arrive spread over `arrivalSeconds`; the run stops at `timeoutMs` whatever is left.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { count } from '../lib/format.js';
import { Api, type Reply, type Reservation, type Seat } from '../lib/http.js';
import { pickFreeSeat } from '../lib/seat-bytes.js';
import { serveJob } from '../lib/workers.js';

export interface PurchaseJob {
  target: string;
  firstUserId: number;
  users: number;
  pollIntervalMs: number;
  arrivalSeconds: number;
  connections: number;
  timeoutMs: number;
  /** Shop only these concerts (default: any on sale). */
  concertIds?: number[];
  /** Read the seat map one section at a time (…/sections, then a section's seats), as a large venue's buyer does. */
  bySection?: boolean;
}

export interface Purchase extends Reservation {
  userId: number;
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
  /** The generator's own event loop: its delay (p99, max in ms) and the JSON.parse time per step (ms in all). */
  generator: { loopDelayP99Ms: number; loopDelayMaxMs: number; parseMs: Record<string, number> };
}

const stepNames = [
  'join',
  'poll',
  'concerts',
  'sections',
  'seats',
  'hold',
  'charge',
  'pay',
] as const;

const pick = <T>(items: readonly T[]): T | undefined =>
  items.length === 0 ? undefined : items[Math.floor(Math.random() * items.length)];

const ok = (reply: Reply<unknown>) => reply.status === 200 || reply.status === 201;

async function run(job: PurchaseJob, report: (text: string) => void): Promise<PurchaseRunResult> {
  const steps = new Map<string, number[]>(stepNames.map((step) => [step, []]));
  const failures: Record<string, number> = {};
  const purchases: Purchase[] = [];
  const counters = { requests: 0, joined: 0, active: 0 };
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  const deadline = job.timeoutMs;
  const cpuStart = process.cpuUsage();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const parseMs: Record<string, number> = {};
  const api = new Api(job.target, job.connections, (step, { status, body }, ms, parsing) => {
    counters.requests++;
    steps.get(step)?.push(ms);
    parseMs[step] = (parseMs[step] ?? 0) + parsing;
    // A 409 on a hold is the race this flow expects: the shopper picks another seat.
    if (status >= 400 && !(step === 'hold' && status === 409)) {
      const key = `${step} ${status} ${body.code}`;
      failures[key] = (failures[key] ?? 0) + 1;
    }
  });

  /**
   * A free seat to hold: from the whole map, or from a random section with free seats — read as
   * the server's bytes, only the chosen seat parsed (seat-bytes.ts: a 1,000-seat section's full
   * parse stalled this process's timers, decision 0065).
   */
  async function freeSeat(token: string, concertId: number): Promise<Seat | undefined> {
    if (!job.bySection) {
      const seats = await api.seats(token, concertId);
      if (seats.status !== 200) return undefined;
      return pick(seats.body.data.availableSeats.filter((item) => item.isAvailable));
    }
    const sections = await api.sections(token, concertId);
    const section = pick(sections.body.data?.sections?.filter((item) => item.free > 0) ?? []);
    if (!section) return undefined;
    const seats = await api.sectionSeatBytes(token, concertId, section.sectionKey);
    return seats.status === 200 ? pickFreeSeat(seats.bytes) : undefined;
  }

  async function shopper(userId: number, arrivalMs: number): Promise<void> {
    await sleep(arrivalMs);
    let token = '';
    let admitted = false;
    for (let attempt = 0; attempt < 10 && elapsed() < deadline; attempt++) {
      if (!admitted) {
        const joined = await api.enter(userId);
        if (joined.status !== 201) continue;
        if (attempt === 0) counters.joined++;
        token = joined.body.data.token;
        let status = joined.body.data.status;
        while (status === 'WAITING' && elapsed() < deadline) {
          await sleep(job.pollIntervalMs * (0.5 + Math.random()));
          const polled = await api.poll(token);
          if (polled.status !== 200) break;
          status = polled.body.data.status;
        }
        if (status !== 'ACTIVE') continue;
        admitted = true;
        counters.active++;
      }
      const concerts = await api.concerts(token);
      if (concerts.status !== 200) {
        admitted = false;
        continue;
      }
      const concert = pick(
        concerts.body.data.filter(
          (item) => item.isAvailable && (job.concertIds?.includes(item.concertId) ?? true),
        ),
      );
      if (!concert) return; // sold out
      const seat = await freeSeat(token, concert.concertId);
      if (!seat) continue;
      const hold = await api.hold(token, concert.concertId, seat.seatId);
      if (hold.status === 409) continue; // someone was faster: pick another seat
      if (!ok(hold)) {
        admitted = hold.body.code.startsWith('QUEUE_TOKEN') ? false : admitted;
        continue;
      }
      if (!ok(await api.charge(userId, seat.price))) continue;
      const paid = await api.pay(token, seat.seatId);
      if (ok(paid)) {
        purchases.push({ userId, ...paid.body.data, atMs: elapsed() });
        return;
      }
      admitted = paid.body.code.startsWith('QUEUE_TOKEN') ? false : admitted;
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
  await api.close();

  const durationMs = elapsed();
  loop.disable();
  const perSecond = new Array<number>(Math.ceil(durationMs / 1000) + 1).fill(0);
  for (const purchase of purchases) perSecond[Math.floor(purchase.atMs / 1000)]!++;
  const cpu = process.cpuUsage(cpuStart);
  return {
    purchases,
    unfinished: job.users - purchases.length,
    requests: counters.requests,
    failures,
    steps: Object.fromEntries(
      [...steps].map(([step, samples]) => [step, Float64Array.from(samples)]),
    ),
    perSecond,
    durationMs,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    generator: {
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      parseMs: Object.fromEntries(Object.entries(parseMs).map(([k, v]) => [k, Math.round(v)])),
    },
  };
}

serveJob(run);
