/**
 * Position polling: a long line of WAITING users (MAX_ACTIVE=50, the seed's limit) polling
 * GET /api/v1/queue/token in a closed loop, while live-position streams (Server-Sent Events) stay
 * open beside them. Afterwards a sample of tokens is re-read to check that positions
 * are distinct and inside the line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { check, withOverture, type Context, type Scenario } from '../lib/context.js';
import { count, cpuColumn, latencyColumns, section, table } from '../lib/format.js';
import { Api, joinAll, mapLimit, openStream, range, type TokenData } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { resultsOf, type Base } from '../lib/results.js';
import { runCapacityAgainst, type CapacityResult } from './capacity.js';

/** The poll loop's figures are the capacity run's (`runCapacityAgainst`). */
export interface PollingResult
  extends
    Base,
    Pick<CapacityResult, 'connections' | 'requestsPerSecond' | 'latency' | 'non2xx' | 'errors'> {
  kind: 'polling';
  waitingUsers: number;
  positions: { sampled: number; distinct: boolean; inRange: boolean; waiting: number };
  sse: {
    available: boolean;
    reason?: string;
    streams: number;
    opened: number;
    events: number;
    errors: number;
  };
}

const FIRST_USER = 2_000_001;
const MAX_ACTIVE = 50;

/** Opens `count` live-position streams; the returned function closes them and counts. */
async function openStreams(baseUrl: string, tokens: TokenData[], count: number) {
  const base = new URL(baseUrl);
  const tokenOf = (index: number) => tokens[index % tokens.length]!.token;
  const settled = await Promise.allSettled(
    range(0, count).map((index) => openStream(base, tokenOf(index))),
  );
  const streams = settled.flatMap((item) => (item.status === 'fulfilled' ? [item.value] : []));
  return () => {
    // Errors: streams refused, and streams the server ended while the polling ran.
    const ended = streams.filter((stream) => stream.ended).length;
    for (const stream of streams) stream.close();
    const events = streams.reduce((sum, stream) => sum + stream.events, 0);
    return { opened: streams.length, events, errors: count - streams.length + ended };
  };
}

async function run(ctx: Context): Promise<void> {
  const { polling } = ctx.options.profile;
  progress.phase(
    `position polling (${polling.waitingUsers} users in line, MAX_ACTIVE=${MAX_ACTIVE})`,
  );
  for (const mode of ctx.modes) {
    const result = await withOverture(
      ctx,
      mode,
      'polling',
      { MAX_ACTIVE: String(MAX_ACTIVE) },
      async (server) => {
        const api = new Api(server.url);
        try {
          const label = `${mode.name} polling`;
          const joined = await joinAll(api, range(FIRST_USER, polling.waitingUsers));
          // Let admission fill the free slots, then read the whole line once: it must be exactly 1..W.
          await sleep(1500);
          const settled = await mapLimit(joined, 32, (token) => api.status(token.token));
          const waiting = settled.filter((token) => token.status === 'WAITING');
          const positions = waiting.map((token) => token.position).sort((a, b) => a - b);
          check(
            ctx,
            `${mode.name}: the waiting line's positions are exactly 1..${waiting.length}`,
            positions.every((position, index) => position === index + 1),
            `${settled.length - waiting.length} ACTIVE, ${waiting.length} WAITING; positions ` +
              (positions.every((position, index) => position === index + 1)
                ? 'form 1..N'
                : `do not form 1..N (first ${positions.slice(0, 5).join(', ')}; last ${positions.slice(-3).join(', ')})`),
          );
          progress.line(label, `${joined.length} joined, ${waiting.length} waiting`);

          const closeStreams =
            polling.sseStreams === 0
              ? undefined
              : await openStreams(server.url, waiting, polling.sseStreams);

          const requests = { kind: 'poll' as const, tokens: waiting.map((token) => token.token) };
          const loop = await runCapacityAgainst(
            [server],
            mode.name,
            polling.connections,
            ctx.options.profile,
            { durationSeconds: polling.durationSeconds, requests, label },
          );
          const sse = closeStreams?.();

          // Nobody left and no slot freed: every sampled position must be what it was before.
          const sample = waiting
            .map((token) => ({ token, order: Math.random() }))
            .sort((a, b) => a.order - b.order)
            .slice(0, polling.positionSample)
            .map((item) => item.token);
          const reread = await mapLimit(sample, 16, (token) => api.status(token.token));
          const unchanged = reread.filter(
            (token, index) =>
              token.status === 'WAITING' && token.position === sample[index]!.position,
          ).length;
          const distinct = new Set(reread.map((token) => token.position)).size === reread.length;
          const inRange = unchanged === reread.length;
          check(
            ctx,
            `${mode.name}: positions unchanged after ${polling.durationSeconds} s of polling`,
            distinct && inRange,
            `${unchanged} of ${reread.length} sampled tokens still WAITING at the same position`,
          );
          const polled: PollingResult = {
            kind: 'polling',
            target: mode.name,
            waitingUsers: waiting.length,
            connections: polling.connections,
            requestsPerSecond: loop.requestsPerSecond,
            latency: loop.latency,
            non2xx: loop.non2xx,
            errors: loop.errors,
            positions: { sampled: reread.length, distinct, inRange, waiting: waiting.length },
            sse:
              sse === undefined
                ? {
                    available: false,
                    reason: 'disabled for this profile',
                    streams: 0,
                    opened: 0,
                    events: 0,
                    errors: 0,
                  }
                : { available: true, streams: polling.sseStreams, ...sse },
            usage: loop.usage,
          };
          return polled;
        } finally {
          await api.close();
        }
      },
    );
    ctx.results.push(result);
  }
}

export const pollingScenario: Scenario = {
  name: 'polling',
  run,
  section(report) {
    const results = resultsOf(report.results, 'polling');
    if (results.length === 0) return undefined;
    return section(
      'Position polling',
      'WAITING users (MAX_ACTIVE=50) polling GET /api/v1/queue/token in a closed loop; a sample of tokens re-read afterwards.',
      table(results, [
        ['mode', (r) => r.target],
        ['waiting users', (r) => count(r.waitingUsers)],
        ['connections', (r) => String(r.connections)],
        ['polls/s', (r) => count(r.requestsPerSecond)],
        ...latencyColumns((r: PollingResult) => r.latency),
        ['non-2xx / errors', (r) => `${count(r.non2xx)} / ${count(r.errors)}`],
        [
          'positions',
          ({ positions }) =>
            `${positions.sampled} sampled, ${positions.distinct && positions.inRange ? 'consistent' : '**inconsistent**'}`,
        ],
        [
          'SSE streams',
          ({ sse }) =>
            sse.available
              ? `${sse.opened}/${sse.streams} open, ${sse.events} events, ${sse.errors} errors`
              : `not available (${sse.reason ?? ''})`,
        ],
        cpuColumn((r) => r.usage),
      ]),
    );
  },
};
