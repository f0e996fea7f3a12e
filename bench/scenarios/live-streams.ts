/**
 * What thousands of open live-position streams (GET /api/v1/queue/token/stream) cost one server
 * (docs/decisions/0010): memory per stream, CPU while the line stands still and while it moves,
 * how fast a change reaches the last stream of the line, and how long a graceful shutdown takes
 * with them all open. The streams are plain HTTP/1.1 connections from the harness.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { withOverture, type Scenario } from '../lib/context.js';
import { section, table } from '../lib/format.js';
import { Api, joinAll, mapLimit, openStream, range } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { resultsOf, type Base } from '../lib/results.js';
import type { ServerProcess } from '../lib/server.js';
import { round } from '../lib/stats.js';

export interface LiveStreamsResult extends Base {
  kind: 'live-streams';
  streams: number;
  intervalMs: number;
  openSeconds: number;
  /** Server RSS before the streams, with them open, after a still window, after a moving one. */
  rssMb: { before: number; open: number; still: number; moving: number };
  /** Share of one core the server used: no streams, all open with the line still, moving. */
  cpu: { noStreams: number; still: number; moving: number };
  eventsWhileMoving: number;
  /** A leave → the last stream of the line sees its new position (ms). */
  lagMs: { median: number; max: number };
  /** Distinct states the streams saw last: one per position when every stream is current. */
  distinctStates: number;
  shutdown: { ms: number; exitCode: number | null; endedByServer: number };
}

const MAX_ACTIVE = 50;
const FIRST_USER = 6_000_001;
/** Shoppers who leave, and so are admitted, each second while the line moves. */
const MOVES_PER_SECOND = 5;

/** CPU share of one core the server used over `ms`. */
async function cpuOver(server: ServerProcess, ms: number): Promise<number> {
  const before = server.cpuSeconds() ?? 0;
  await sleep(ms);
  return round(((server.cpuSeconds() ?? 0) - before) / (ms / 1000), 3);
}

async function measure(
  server: ServerProcess,
  sizes: { streams: number; intervalMs: number; windowSeconds: number; settleSeconds: number },
) {
  const { streams: count, windowSeconds, settleSeconds } = sizes;
  const rss = () => round(server.rssMb() ?? 0, 1);
  const api = new Api(server.url, 100);
  const base = new URL(server.url);
  const tokens = (await joinAll(api, range(FIRST_USER, count + MAX_ACTIVE), 100)).map(
    (item) => item.token,
  );
  const active = tokens.slice(0, MAX_ACTIVE);
  const waiting = tokens.slice(MAX_ACTIVE);
  await sleep(settleSeconds * 1000);
  const rssBefore = rss();
  const cpuNoStreams = await cpuOver(server, settleSeconds * 1000);

  const opening = performance.now();
  const streams = await mapLimit(waiting, 250, (token) => openStream(base, token));
  const openSeconds = round((performance.now() - opening) / 1000, 2);
  try {
    await sleep(settleSeconds * 1000);
    const rssOpen = rss();
    const cpuStill = await cpuOver(server, windowSeconds * 1000);
    const rssStill = rss();

    // The line moves: each second some shoppers leave, as many are admitted, every position falls.
    const eventsBefore = streams.reduce((sum, stream) => sum + stream.events, 0);
    const tail = streams[streams.length - 1]!;
    const lags: number[] = [];
    const moving = (async () => {
      for (let second = 0; second < windowSeconds; second++) {
        const left = performance.now();
        const tailEvents = tail.events;
        await Promise.all(active.splice(0, MOVES_PER_SECOND).map((token) => api.leave(token)));
        while (tail.events === tailEvents && performance.now() - left < 5_000) await sleep(5);
        lags.push(tail.lastAt - left);
        // Those admitted are the next shoppers to leave.
        active.push(...waiting.splice(0, MOVES_PER_SECOND));
        await sleep(Math.max(0, 1_000 - (performance.now() - left)));
      }
    })();
    const cpuMoving = await cpuOver(server, windowSeconds * 1000);
    await moving;
    const rssMoving = rss();
    const eventsWhileMoving =
      streams.reduce((sum, stream) => sum + stream.events, 0) - eventsBefore;
    const distinctStates = new Set(streams.map((stream) => stream.lastData)).size;

    const stopping = performance.now();
    const exitCode = await server.stop();
    const shutdownMs = round(performance.now() - stopping, 1);
    await sleep(200);
    const sorted = [...lags].sort((a, b) => a - b);
    return {
      openSeconds,
      rssMb: { before: rssBefore, open: rssOpen, still: rssStill, moving: rssMoving },
      cpu: { noStreams: cpuNoStreams, still: cpuStill, moving: cpuMoving },
      eventsWhileMoving,
      lagMs: {
        median: round(sorted[Math.floor(sorted.length / 2)] ?? 0, 1),
        max: round(sorted.at(-1) ?? 0, 1),
      },
      distinctStates,
      shutdown: {
        ms: shutdownMs,
        exitCode,
        endedByServer: streams.filter((stream) => stream.ended).length,
      },
    };
  } finally {
    for (const stream of streams) stream.close();
    await api.close();
  }
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

export const liveStreamsScenario: Scenario = {
  name: 'live-streams',
  async run(ctx) {
    const sizes = ctx.options.profile.liveStreams;
    progress.phase(
      `live streams (${sizes.streams} open on one server, ticking every ${sizes.intervalMs} ms)`,
    );
    for (const mode of ctx.modes) {
      const env = {
        MAX_ACTIVE: String(MAX_ACTIVE),
        SEED_DEMO_DATA: 'false',
        SSE_INTERVAL_MS: String(sizes.intervalMs),
      };
      const measured = await withOverture(ctx, mode, 'live_streams', env, (server) =>
        measure(server, sizes),
      );
      const result: LiveStreamsResult = {
        kind: 'live-streams',
        target: mode.name,
        streams: sizes.streams,
        intervalMs: sizes.intervalMs,
        ...measured,
      };
      ctx.results.push(result);
    }
  },

  section(report) {
    const results = resultsOf(report.results, 'live-streams');
    const first = results[0];
    if (!first) return undefined;
    return section(
      'Live streams',
      `${first.streams} WAITING users each hold GET /api/v1/queue/token/stream open on one server (MAX_ACTIVE=${MAX_ACTIVE}, a tick every ${first.intervalMs} ms); ` +
        `the line stands still, then ${MOVES_PER_SECOND} shoppers leave each second. CPU is the server's share of one core; lag is a leave → the last stream of the line seeing its new position (docs/decisions/0010).`,
      table(results, [
        ['mode', (r) => r.target],
        ['streams', (r) => String(r.streams)],
        ['open all', (r) => `${r.openSeconds.toFixed(1)} s`],
        [
          'RSS before → open',
          ({ rssMb, streams }) =>
            `${rssMb.before.toFixed(0)} → ${rssMb.open.toFixed(0)} MB (≈${(((rssMb.open - rssMb.before) * 1024) / streams).toFixed(1)} KB per stream)`,
        ],
        [
          'RSS still / moved',
          ({ rssMb }) => `${rssMb.still.toFixed(0)} / ${rssMb.moving.toFixed(0)} MB`,
        ],
        [
          'CPU no streams / still / moving',
          ({ cpu }) => `${percent(cpu.noStreams)} / ${percent(cpu.still)} / ${percent(cpu.moving)}`,
        ],
        ['events while moving', (r) => String(r.eventsWhileMoving)],
        [
          'lag median / max',
          ({ lagMs }) => `${lagMs.median.toFixed(0)} / ${lagMs.max.toFixed(0)} ms`,
        ],
        ['distinct states at the end', (r) => String(r.distinctStates)],
        [
          'shutdown (SIGTERM → exit)',
          ({ shutdown, streams }) =>
            `${shutdown.ms.toFixed(0)} ms, exit ${String(shutdown.exitCode)}, ${shutdown.endedByServer}/${streams} streams ended by the server`,
        ],
      ]),
    );
  },
};
