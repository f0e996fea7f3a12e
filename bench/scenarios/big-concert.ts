/**
 * A large concert (issue 14): a 20,000-seat venue made through the admin API in its compact form
 * and a concert on it (timed), its seat map per section and the sections' summary under a closed
 * loop beside the bare route, and holds and payments on it against a 50-seat concert on the same
 * server: the hot-seat storm on one seat of each, and the purchase flow on each.
 */
import { check, startMode, withDatabase, type Context, type Scenario } from '../lib/context.js';
import { count, cpuColumn, ms, section, table, times } from '../lib/format.js';
import { Api, joinAll, OPERATOR_KEY, range, untilAllActive } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { notMeasured, resultsOf, type Base, type BenchReport } from '../lib/results.js';
import { ratio, round } from '../lib/stats.js';
import { runCapacityAgainst, type CapacityResult } from './capacity.js';
import { shop, step, type PurchaseResult } from './purchase.js';
import { burst, type StormResult } from './storm.js';

export interface BigConcertResult extends Base {
  kind: 'big-concert';
  seats: number;
  sections: number;
  /** POST /admin/venues and POST /admin/concerts, in seconds: the large one and a 50-seat one. */
  create: { venueSeconds: number; concertSeconds: number; smallConcertSeconds: number };
  /** Each seat-map route under the closed loop, and the bare route on the same paths just before. */
  seatMap: { route: string; run: CapacityResult; bare: CapacityResult }[];
  /** The same storm (one seat, every user at once) on a 50-seat concert, then on the large one. */
  storm: { small: StormResult; big: StormResult };
  /** The purchase flow (by section) on 50-seat concerts, then on the large concert. */
  purchase: { small: PurchaseResult; big: PurchaseResult };
}

const FIRST_USER = 6_000_001;
const SEATS_PER_ROW = 50;
const CATEGORY = 'All';

/** A venue of `sections` sections of 50-seat rows (compact form), then a concert on it; timed. */
async function makeConcert(api: Api, seats: number, sections: number, title: string) {
  const rows = seats / sections / SEATS_PER_ROW;
  if (!Number.isInteger(rows))
    throw new Error(`${seats} seats do not make ${sections} sections of 50-seat rows`);
  const names = range(1, sections).map((n) => `Section ${n}`);
  const venueAt = performance.now();
  const venue = await api.admin<{ venueId: number }>('POST', '/venues', {
    name: `${title} hall`,
    address: 'Bench street 1',
    sections: names.map((name) => ({
      name,
      rows: range(1, rows).map((row) => ({ name: `R${row}`, seats: SEATS_PER_ROW })),
    })),
  });
  const concertAt = performance.now();
  const concert = await api.admin<{ concertId: number; seatCount: number }>('POST', '/concerts', {
    title,
    venueId: venue.venueId,
    showAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    priceCategories: [{ name: CATEGORY, price: 10_000, sections: names }],
  });
  const doneAt = performance.now();
  if (concert.seatCount !== seats)
    throw new Error(`concert ${concert.concertId} has ${concert.seatCount} seats, not ${seats}`);
  return {
    concertId: concert.concertId,
    seconds: round((doneAt - concertAt) / 1000),
    venueSeconds: round((concertAt - venueAt) / 1000),
  };
}

/** A seat of the concert's `index`-th section (the first free one). */
async function seatOf(api: Api, token: string, concertId: number, index: number) {
  const sections = (await api.sections(token, concertId)).body.data.sections;
  const key = sections[Math.min(index, sections.length - 1)]!.sectionKey;
  const seat = (await api.sectionSeats(token, concertId, key)).body.data.seats[0]!;
  return { concertId, seatId: seat.seatId };
}

async function run(ctx: Context): Promise<void> {
  const sizes = ctx.options.profile.bigConcert;
  const mode = ctx.modes.find((item) => item.name === 'postgres') ?? ctx.modes[0];
  if (!mode) return;
  progress.phase(
    `large concert (${count(sizes.seats)} seats in ${sizes.sections} sections, ${mode.name} mode)`,
  );
  const label = `${mode.name} big-concert`;
  const maxActive = sizes.stormUsers + 2 * sizes.purchaseUsers + 100;
  const env = {
    OPERATOR_KEY,
    MAX_ACTIVE: String(maxActive),
    ACTIVE_TOKEN_TTL_SECONDS: '3600',
    SEAT_HOLD_TTL_SECONDS: '3600',
  };
  const result = await withDatabase(ctx, mode.name, 'big-concert', async (database) => {
    const server = await startMode(ctx, mode, 'big-concert', database.url, env);
    const api = new Api(server.url);
    try {
      const big = await makeConcert(api, sizes.seats, sizes.sections, 'Bench arena concert');
      const small = await makeConcert(api, SEATS_PER_ROW, 1, 'Bench club concert');
      progress.line(
        label,
        `venue of ${count(sizes.seats)} seats in ${big.venueSeconds} s, its concert in ${big.seconds} s ` +
          `(a 50-seat concert: ${small.seconds} s)`,
      );

      // Seat map: the sections' summary, then one section's seats (a random section each time).
      const [viewer] = await joinAll(api, [FIRST_USER]);
      const base = `/api/v1/reservations/concerts/${big.concertId}`;
      const keys = (await api.sections(viewer!.token, big.concertId)).body.data.sections.map(
        (item) => item.sectionKey,
      );
      const routes = [
        { route: 'sections (summary)', paths: [`${base}/sections`] },
        { route: 'one section’s seats', paths: keys.map((key) => `${base}/sections/${key}/seats`) },
      ];
      const seatMap: BigConcertResult['seatMap'] = [];
      for (const { route, paths } of routes) {
        const requests = { kind: 'get' as const, paths, token: viewer!.token };
        const measure = (target: typeof server, name: string) =>
          runCapacityAgainst([target], name, sizes.connections, ctx.options.profile, {
            durationSeconds: sizes.durationSeconds,
            requests,
          });
        const bare = await measure(ctx.bare, 'bare');
        seatMap.push({ route, bare, run: await measure(server, mode.name) });
      }

      // Storm: the same users hold one seat of the small concert, then one of the large one.
      const joined = await joinAll(api, range(FIRST_USER + 1, sizes.stormUsers));
      if ((await untilAllActive(api, joined, 60_000)) < joined.length)
        throw new Error('storm users did not all become ACTIVE');
      const tokens = joined.map((item) => item.token);
      const stormOn = async (name: string, concertId: number, index: number) => {
        const seat = await seatOf(api, viewer!.token, concertId, index);
        const storm = await burst(ctx, server, name, tokens, seat);
        check(
          ctx,
          `${label}: storm of ${tokens.length} on one seat of the ${name} has exactly one winner`,
          storm.winners === 1,
          `${storm.winners} × 201, ${storm.alreadyHeld} × SEAT_ALREADY_HELD`,
        );
        return storm;
      };
      const storm = {
        small: await stormOn('50-seat concert', small.concertId, 0),
        big: await stormOn(`${count(sizes.seats)}-seat concert`, big.concertId, sizes.sections),
      };

      // Purchases: enough 50-seat concerts for everyone, then the large concert alone.
      const smallIds = [small.concertId];
      while (smallIds.length * SEATS_PER_ROW < sizes.purchaseUsers * 1.2)
        smallIds.push((await makeConcert(api, SEATS_PER_ROW, 1, 'Bench club concert')).concertId);
      const shopping = { users: sizes.purchaseUsers, maxActive, bySection: true };
      const purchase = {
        small: await shop(ctx, server, database.url, {
          ...shopping,
          target: '50-seat concerts',
          label: `${label} purchase on 50-seat concerts`,
          firstUserId: FIRST_USER + 100_000,
          seats: smallIds.length * SEATS_PER_ROW,
          concertIds: smallIds,
        }),
        big: await shop(ctx, server, database.url, {
          ...shopping,
          target: `${count(sizes.seats)}-seat concert`,
          label: `${label} purchase on the ${count(sizes.seats)}-seat concert`,
          firstUserId: FIRST_USER + 200_000,
          seats: sizes.seats,
          concertIds: [big.concertId],
        }),
      };
      return {
        kind: 'big-concert' as const,
        target: mode.name,
        seats: sizes.seats,
        sections: sizes.sections,
        create: {
          venueSeconds: big.venueSeconds,
          concertSeconds: big.seconds,
          smallConcertSeconds: small.seconds,
        },
        seatMap,
        storm,
        purchase,
      };
    } finally {
      await api.close();
      await server.stop();
    }
  });
  ctx.results.push(result);
}

/** Per request on the large concert ÷ on the small one: the storm's drain time, the steps' p99. */
function slowdowns(result: BigConcertResult) {
  const { storm, purchase } = result;
  const p99 = (step: string) =>
    ratio(purchase.big.steps[step]?.p99 ?? 0, purchase.small.steps[step]?.p99 ?? 0);
  return {
    storm: ratio(
      storm.big.drainSeconds / storm.big.users,
      storm.small.drainSeconds / storm.small.users,
    ),
    hold: p99('hold'),
    pay: p99('pay'),
  };
}

export const bigConcertScenario: Scenario = {
  name: 'big-concert',
  run,

  section(report: BenchReport) {
    const [result] = resultsOf(report.results, 'big-concert');
    if (!result) return undefined;
    const { create, storm, purchase } = result;
    const slow = slowdowns(result);
    return section(
      `Large concert (${count(result.seats)} seats, ${result.target} mode)`,
      `A venue of ${count(result.seats)} seats in ${result.sections} sections (rows of 50, the compact form) made in ${create.venueSeconds} s, ` +
        `**a concert on it in ${create.concertSeconds} s** (its seats generated in the same transaction; a 50-seat concert: ${create.smallConcertSeconds} s). ` +
        'Seat map: closed loop on the buyers’ routes with one ACTIVE token, the bare route on the same paths just before. Latency in ms.',
      table(result.seatMap, [
        ['route', (r) => r.route],
        ['connections', (r) => String(r.run.connections)],
        ['req/s', (r) => count(r.run.requestsPerSecond)],
        ['bare req/s', (r) => count(r.bare.requestsPerSecond)],
        ['p50', (r) => ms(r.run.latency.p50)],
        ['p99', (r) => ms(r.run.latency.p99)],
        ['bare p99', (r) => ms(r.bare.latency.p99)],
        ['p99 × bare', (r) => times(ratio(r.run.latency.p99, r.bare.latency.p99))],
        ['non-2xx', (r) => count(r.run.non2xx)],
        cpuColumn((r) => r.run.usage),
      ]),
      '',
      `Holds and payments on the large concert against 50-seat concerts, same server, same run: the hot-seat storm (${count(storm.small.users)} users on one seat) ` +
        `and the purchase flow (${count(purchase.small.users)} users reading the map by section). Step latencies p50 / p99 in ms.`,
      '',
      table(
        [
          { name: '50-seat', s: storm.small, p: purchase.small },
          { name: `${count(result.seats)}-seat`, s: storm.big, p: purchase.big },
        ],
        [
          ['concert', (r) => r.name],
          ['storm winners', (r) => String(r.s.winners)],
          ['storm drain s', (r) => r.s.drainSeconds.toFixed(2)],
          ['storm req/s', (r) => count(r.s.requestsPerSecond)],
          ['storm p99', (r) => ms(r.s.latency.p99)],
          ['purchases', (r) => `${count(r.p.completed)}/${count(r.p.users)}`],
          ['purchases/s', (r) => r.p.purchasesPerSecond.toFixed(1)],
          ['sections', (r) => step('sections')(r.p)],
          ['seats', (r) => step('seats')(r.p)],
          ['hold', (r) => step('hold')(r.p)],
          ['pay', (r) => step('pay')(r.p)],
        ],
      ),
      '',
      `Large ÷ small, per request: storm ${times(slow.storm)}, hold p99 ${times(slow.hold)}, pay p99 ${times(slow.pay)}.`,
      '',
    );
  },

  verdicts(input) {
    const [result] = resultsOf(input.results, 'big-concert');
    const seatMap =
      'Seat map of a 20,000-seat concert per section and its summary: p99 beside the bare route';
    const perRequest =
      'Holds and payments on a 20,000-seat concert no slower per request than on a 50-seat concert';
    if (!result) return notMeasured([seatMap, perRequest], 'no large-concert run');
    const size = result.seats === 20_000 ? '' : ` (this run: ${count(result.seats)} seats)`;
    const slow = slowdowns(result);
    // "No slower" on a shared 2-core machine: within 1.25× of the small concert's figure.
    const met = [slow.storm, slow.hold, slow.pay].every((value) => value !== null && value <= 1.25);
    return [
      {
        target: seatMap,
        verdict: 'reported',
        detail:
          result.seatMap
            .map(
              (r) =>
                `${r.route}: p99 ${ms(r.run.latency.p99)} ms vs bare ${ms(r.bare.latency.p99)} ms = ${times(ratio(r.run.latency.p99, r.bare.latency.p99))}, ${count(r.run.requestsPerSecond)} req/s`,
            )
            .join('; ') + `; the concert made in ${result.create.concertSeconds} s${size}`,
      },
      {
        target: perRequest,
        verdict: met ? 'met' : 'not met',
        detail: `large ÷ 50-seat: storm drain per request ${times(slow.storm)}, hold p99 ${times(slow.hold)}, pay p99 ${times(slow.pay)} (met within 1.25×, the noise of a shared machine)${size}`,
      },
    ];
  },
};
