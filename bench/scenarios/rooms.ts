/**
 * A concert's own waiting room (docs/rooms.md), per queue mode, in three measures (issue 15):
 * (a) a freed slot → the next buyer ACTIVE as seen on their live stream; (b) the estimated wait a
 * buyer is shown at the join against the wait they then had, at a steady admissionPerMinute
 * (decision 0058); (c) many live streams in one room: memory per stream and the delay of the push
 * after an admission. Rooms are made through the operators' API on the demo concerts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { withOverture, type Scenario } from '../lib/context.js';
import { count, section, table } from '../lib/format.js';
import { Api, mapLimit, OPERATOR_KEY, openStream, range, type Stream } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { notMeasured, resultsOf, type Base } from '../lib/results.js';
import type { Profile } from '../lib/options.js';
import type { ServerProcess } from '../lib/server.js';
import { round, summarize } from '../lib/stats.js';

export interface RoomsResult extends Base {
  kind: 'rooms';
  /** (a) Freed slot (a leave) → the next token ACTIVE on its stream, ms. */
  refill: { samples: number; p50: number; p99: number; max: number };
  /** (b) |estimate at join − actual wait| ÷ actual wait, %; buyers with an estimate. */
  estimate: {
    perMinute: number;
    buyers: number;
    withEstimate: number;
    meanWaitSeconds: number;
    meanErrorPct: number;
    p90ErrorPct: number;
  };
  /** (c) Streams open in one room: server RSS per stream; the push after an admission. */
  streams: { count: number; kbPerStream: number; pushes: number; p50: number; p99: number };
}

const FIRST_USER = 7_000_001;
const isActive = (stream: Stream) => stream.lastData.includes('"status":"ACTIVE"');

/** Makes `concertId` a room; the operators' API. */
const makeRoom = (api: Api, concertId: number, maxActive: number, admissionPerMinute?: number) =>
  api.admin('POST', '/rooms', { concertId, maxActive, admissionPerMinute });

const until = async (done: () => boolean, timeoutMs: number) => {
  const deadline = performance.now() + timeoutMs;
  while (!done() && performance.now() < deadline) await sleep(2);
  return done();
};

/** (a) maxActive 1: the shopper leaves, the head of the line's stream turns ACTIVE. */
async function refill(api: Api, base: URL, concertId: number, samples: number, user: number) {
  await makeRoom(api, concertId, 1);
  const tokens: string[] = [];
  for (let i = 0; i <= samples; i++) tokens.push((await api.join(user + i, concertId)).token);
  const streams = await mapLimit(tokens.slice(1), 50, (token) => openStream(base, token));
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const next = streams[i]!;
      const left = performance.now();
      await api.leave(tokens[i]!);
      if (await until(() => isActive(next), 5_000)) times.push(next.lastAt - left);
      await sleep(50);
    }
  } finally {
    for (const stream of streams) stream.close();
  }
  const summary = summarize(times);
  return { samples: times.length, p50: summary.p50, p99: summary.p99, max: summary.max };
}

/** (b) A steady rate: a warm-up line sets the pace, then the measured buyers join behind it. */
async function estimates(
  api: Api,
  base: URL,
  concertId: number,
  sizes: { perMinute: number; warmup: number; buyers: number; warmupSeconds: number },
  user: number,
) {
  await makeRoom(api, concertId, 100_000, sizes.perMinute);
  await mapLimit(range(user, sizes.warmup), 20, (id) => api.join(id, concertId));
  await sleep(sizes.warmupSeconds * 1000);
  // The measured buyers join at once behind what is left of the warm-up line (a line of N).
  const measured = await mapLimit(range(user + sizes.warmup, sizes.buyers), 10, async (id) => {
    const joined = await api.join(id, concertId);
    const live = await api.call<{ estimatedWaitSeconds: number | null }>(
      'live',
      'GET',
      '/api/v1/queue/token/stream',
      { 'queue-token': joined.token },
    );
    // The wait is timed from when the buyer is shown the estimate (the join answer has none).
    const shownAt = performance.now();
    const stream = await openStream(base, joined.token);
    return { shownAt, estimate: live.body.data.estimatedWaitSeconds, stream };
  });
  const lastDue = ((sizes.warmup + sizes.buyers) / sizes.perMinute) * 60_000;
  await until(() => measured.every((buyer) => isActive(buyer.stream)), lastDue + 10_000);
  const errors: number[] = [];
  const waits: number[] = [];
  for (const buyer of measured) {
    buyer.stream.close();
    // Admitted before it read its estimate: no wait to compare (the line was shorter than thought).
    if (!isActive(buyer.stream) || buyer.estimate === null || buyer.estimate === 0) continue;
    const actual = (buyer.stream.lastAt - buyer.shownAt) / 1000;
    waits.push(actual);
    errors.push((Math.abs(buyer.estimate - actual) / Math.max(actual, 0.001)) * 100);
  }
  const sorted = [...errors].sort((a, b) => a - b);
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / (values.length || 1);
  return {
    perMinute: sizes.perMinute,
    buyers: sizes.buyers,
    withEstimate: errors.length,
    meanWaitSeconds: round(mean(waits), 2),
    meanErrorPct: round(mean(errors), 1),
    p90ErrorPct: round(sorted[Math.floor(sorted.length * 0.9)] ?? sorted.at(-1) ?? 0, 1),
  };
}

/** A stream's place in line as its last event says: 0 when ACTIVE. */
const placeOf = (stream: Stream) => {
  const state = JSON.parse(stream.lastData) as { status: string; position: number };
  return state.status === 'ACTIVE' ? 0 : state.position;
};

/**
 * (c) Every buyer of one room holds a stream; the shopper leaves, and each stream's first event
 * after the leave is timed. The shopper and the line's order are read from the streams: joins
 * sent at once have no order among themselves (on the stream backend they are placed through a
 * partitioned log), so the first user to join need not be the one admitted. Leaving a waiting
 * token instead moves only the places behind it; the streams ahead of it then had nothing to
 * say until their idle deadline moved, seconds later (the 6.8-s "push p99" of the first runs).
 */
async function manyStreams(
  api: Api,
  server: ServerProcess,
  concertId: number,
  sizes: { streams: number; moves: number },
  user: number,
) {
  await makeRoom(api, concertId, 1);
  const tokens = await mapLimit(range(user, sizes.streams + 1), 100, async (id) => {
    return (await api.join(id, concertId)).token;
  });
  await sleep(1_000);
  const before = server.rssMb() ?? 0;
  const base = new URL(server.url);
  const opened = await mapLimit(tokens, 250, async (token) => ({
    token,
    stream: await openStream(base, token),
  }));
  const delays: number[] = [];
  try {
    await sleep(2_000);
    const open = server.rssMb() ?? 0;
    // The line as the streams show it: the shopper (place 0), then places 1, 2, …
    const line = [...opened].sort((a, b) => placeOf(a.stream) - placeOf(b.stream));
    if (placeOf(line[0]!.stream) !== 0) throw new Error('rooms: no shopper among the streams');
    for (let move = 0; move < Math.min(sizes.moves, line.length - 1); move++) {
      // Every stream behind the shopper changes place (the head's turns ACTIVE): the first event
      // saying so is timed.
      const pending = line.slice(move + 1);
      const first = pending.map(() => 0);
      pending.forEach(({ stream }, i) => {
        const place = placeOf(stream);
        stream.onEvent = (at) => {
          if (first[i] === 0 && placeOf(stream) !== place) first[i] = at;
        };
      });
      const left = performance.now();
      await api.leave(line[move]!.token);
      await until(() => first.every((at) => at > 0), 10_000);
      for (const { stream } of pending) stream.onEvent = undefined;
      for (const at of first) if (at > 0) delays.push(at - left);
      await sleep(300);
    }
    const summary = summarize(delays);
    return {
      count: opened.length,
      kbPerStream: round(((open - before) * 1024) / opened.length, 2),
      pushes: delays.length,
      p50: summary.p50,
      p99: summary.p99,
    };
  } finally {
    for (const { stream } of opened) stream.close();
  }
}

async function measure(server: ServerProcess, sizes: Profile['rooms']) {
  const api = new Api(server.url, 100);
  const base = new URL(server.url);
  try {
    // The demo concerts: three of them become rooms, one per measure.
    const house = await api.join(FIRST_USER - 1);
    const concerts = (await api.concerts(house.token)).body.data.map((item) => item.concertId);
    if (concerts.length < 3) throw new Error('the rooms scenario needs three demo concerts');
    const [a, b, c] = concerts as [number, number, number];
    return {
      refill: await refill(api, base, a, sizes.refillSamples, FIRST_USER),
      estimate: await estimates(api, base, b, sizes, FIRST_USER + 100_000),
      streams: await manyStreams(api, server, c, sizes, FIRST_USER + 200_000),
    };
  } finally {
    await api.close();
  }
}

export const roomsScenario: Scenario = {
  name: 'rooms',
  async run(ctx) {
    const sizes = ctx.options.profile.rooms;
    progress.phase(
      `rooms (freed slot → admitted; estimate vs wait at ${sizes.perMinute}/min; ${count(sizes.streams)} streams in one room)`,
    );
    for (const mode of ctx.modes) {
      const env = {
        OPERATOR_KEY,
        ADMISSION_RATE_WINDOW_SECONDS: String(sizes.windowSeconds),
        ACTIVE_TOKEN_TTL_SECONDS: '3600',
      };
      const measured = await withOverture(ctx, mode, 'rooms', env, (server) =>
        measure(server, sizes),
      );
      ctx.results.push({ kind: 'rooms', target: mode.name, ...measured });
    }
  },

  section(report) {
    const results = resultsOf(report.results, 'rooms');
    const first = results[0];
    if (!first) return undefined;
    return section(
      'Rooms',
      `A concert's own waiting room per mode (docs/rooms.md). Refill: maxActive 1, the shopper leaves, time until the next buyer's live stream says ACTIVE. ` +
        `Estimate: admissionPerMinute ${first.estimate.perMinute}, a warm-up line sets the pace, then ${first.estimate.buyers} buyers join one after another; ` +
        `the estimatedWaitSeconds each is shown right after its join against the wait it then had until its stream said ACTIVE (decision 0058: estimates are rounded up to whole seconds under 20 s, so waits of a few seconds show the rounding). ` +
        `Streams: every buyer of one room (maxActive 1) holds GET /api/v1/queue/token/stream; memory is the server's RSS growth ÷ streams; push delay is the shopper's leave → each stream's first event after it (the shopper and the order of the line are read from the streams).`,
      table(results, [
        ['mode', (r) => r.target],
        [
          'refill p50 / p99 / max',
          ({ refill }) =>
            `${refill.p50.toFixed(0)} / ${refill.p99.toFixed(0)} / ${refill.max.toFixed(0)} ms (${refill.samples})`,
        ],
        [
          'estimate error mean / p90',
          ({ estimate }) =>
            `${estimate.meanErrorPct}% / ${estimate.p90ErrorPct}% (${estimate.withEstimate}/${estimate.buyers} with an estimate, mean wait ${estimate.meanWaitSeconds} s)`,
        ],
        ['streams', ({ streams }) => count(streams.count)],
        ['memory per stream', ({ streams }) => `${streams.kbPerStream} KB (RSS)`],
        [
          'push delay p50 / p99',
          ({ streams }) =>
            `${streams.p50.toFixed(0)} / ${streams.p99.toFixed(0)} ms (${count(streams.pushes)} pushes)`,
        ],
      ]),
    );
  },

  verdicts(input) {
    const results = resultsOf(input.results, 'rooms');
    const refill =
      'Freed slot → next buyer admitted (a room, seen on the live stream): p99 < 1 s per backend';
    const estimate = 'Estimated wait vs actual wait at steady admission: error < 20%';
    const streams =
      '10,000 live streams in one room: memory per stream, p99 push delay after an admission';
    if (results.length === 0) return notMeasured([refill, estimate, streams], 'no rooms run');
    const quick = input.profile === 'quick';
    const note = quick
      ? ' (quick profile: waits of a few seconds, where whole seconds are a large step)'
      : '';
    return [
      {
        target: refill,
        verdict: results.every((r) => r.refill.samples > 0 && r.refill.p99 < 1_000)
          ? 'met'
          : 'not met',
        detail: results.map((r) => `${r.target} p99 ${r.refill.p99.toFixed(0)} ms`).join(', '),
      },
      {
        target: estimate,
        verdict: quick
          ? 'reported'
          : results.every((r) => r.estimate.withEstimate > 0 && r.estimate.meanErrorPct < 20)
            ? 'met'
            : 'not met',
        detail:
          results
            .map(
              (r) => `${r.target} mean ${r.estimate.meanErrorPct}%, p90 ${r.estimate.p90ErrorPct}%`,
            )
            .join(', ') + note,
      },
      {
        target: streams,
        verdict: 'reported',
        detail: results
          .map(
            (r) =>
              `${r.target}: ${count(r.streams.count)} streams, ${r.streams.kbPerStream} KB each, push p99 ${r.streams.p99.toFixed(0)} ms`,
          )
          .join('; '),
      },
    ];
  },
};
