/**
 * Capacity: POST /api/v1/queue/token in a closed loop (autocannon) at each connection count,
 * for every mode and the bare route, each request from a random user among 1000; then every mode
 * again with every request from a user never seen (a first join). Beside the redis mode, its
 * floor: Fastify + ioredis running the same join script and nothing else (floor-route.ts).
 */
import { measureUsage, profileDir, withOverture, type Scenario } from '../lib/context.js';
import {
  count,
  cpuColumn,
  latencyColumns,
  msText,
  section,
  table,
  times,
  targetColumn,
} from '../lib/format.js';
import type { Profile } from '../lib/options.js';
import { progress } from '../lib/progress.js';
import {
  resultsOf,
  type Base,
  type BenchReport,
  type ScenarioResult,
  type Verdict,
} from '../lib/results.js';
import { redisUrl } from '../lib/modes.js';
import { startFloor, type ServerProcess } from '../lib/server.js';
import { ratio, round, summarize, type LatencySummary } from '../lib/stats.js';
import { runWorker } from '../lib/workers.js';
import type {
  ClosedLoopJob,
  ClosedLoopRequests,
  ClosedLoopResult,
} from '../workers/closed-loop.js';

export interface CapacityResult extends Base {
  kind: 'capacity';
  /** new-user: every request a first join (absent: a random user among 1000). */
  variant?: 'new-user';
  connections: number;
  instances: number;
  requests: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  non2xx: number;
  errors: number;
  statuses: Record<string, number>;
  /** Seconds until every connection had its first answer (warm-up included; undefined: never). */
  allConnectionsAnsweredSeconds?: number;
}

/** The redis mode's floor target (it runs in the redis mode's turn, beside its bare run). */
const FLOOR = 'floor';

/** First user id of each new-user run (one range per connection count), far from the seed's. */
const newUserBase = (run: number) => 20_000_001 + run * 2_000_000;

/** The bare-route capacity run a mode's run is compared with (its pair, else any at that size). */
export function bareCapacityFor(
  results: readonly ScenarioResult[],
  target: string,
  connections: number,
): CapacityResult | undefined {
  const bare = resultsOf(results, 'capacity').filter(
    (result) =>
      result.target === 'bare' && result.connections === connections && result.instances === 1,
  );
  const paired = target === FLOOR ? 'redis' : target;
  return bare.find((result) => result.pairedWith === paired) ?? bare[0];
}

/** The closed loop against `servers`: joins of random users for the profile's duration unless told. */
export async function runCapacityAgainst(
  servers: ServerProcess[],
  target: string,
  connections: number,
  profile: Profile,
  {
    durationSeconds = profile.capacity.durationSeconds,
    requests = { kind: 'join', userCount: profile.seed.users },
    label = `${target}${servers.length > 1 ? `×${servers.length}` : ''} capacity c=${connections}`,
  }: { durationSeconds?: number; requests?: ClosedLoopRequests; label?: string } = {},
): Promise<CapacityResult> {
  const usage = measureUsage(servers);
  const job: ClosedLoopJob = {
    targets: servers.map((server) => server.url),
    connections,
    durationSeconds,
    warmupSeconds: profile.capacity.warmupSeconds,
    requests,
  };
  const result = await runWorker<ClosedLoopResult>('closed-loop.ts', job, {
    label,
    timeoutMs: (durationSeconds + profile.capacity.warmupSeconds + 90) * 1000,
  });
  const answered = result.allConnectionsAnsweredSeconds;
  const capacity: CapacityResult = {
    kind: 'capacity',
    target,
    connections,
    instances: servers.length,
    requests: result.requests,
    requestsPerSecond: round(result.requestsPerSecond, 1),
    latency: summarize(result.latencies),
    non2xx: result.non2xx,
    errors: result.errors,
    statuses: result.statuses,
    ...(answered === undefined ? {} : { allConnectionsAnsweredSeconds: round(answered, 2) }),
    usage: usage(result.cpuSeconds),
  };
  return capacity;
}

/**
 * One unmeasured closed-loop run against each server (the profile's `primeSeconds`, at its first
 * connection count): the service and the floor start fresh in a mode's turn while the bare route
 * has served every earlier run, and the 2 s warm-up alone left the service's JIT cold for its
 * first measured window (docs/decisions/0012).
 */
async function prime(servers: ServerProcess[], profile: Profile): Promise<void> {
  const { primeSeconds, connections } = profile.capacity;
  if (primeSeconds <= 0) return;
  for (const server of servers)
    await runCapacityAgainst([server], server.label, connections[0] ?? 100, profile, {
      durationSeconds: primeSeconds,
      label: `${server.label} capacity, unmeasured first run`,
    });
}

type Input = Pick<BenchReport, 'results' | 'modes'>;

function modeMissing(input: Input, name: string): string {
  const mode = input.modes.find((item) => item.name === name);
  return mode && !mode.available
    ? `${name} mode not available: ${mode.reason ?? 'unknown'}`
    : `${name} mode not measured`;
}

/** A target's single-process run of `variant` (undefined: random users) at one size. */
const runOf = (
  results: readonly ScenarioResult[],
  target: string,
  connections: number,
  variant?: CapacityResult['variant'],
) =>
  resultsOf(results, 'capacity').find(
    (item) =>
      item.target === target &&
      item.connections === connections &&
      item.instances === 1 &&
      item.variant === variant,
  );

/** A mode's own run and the bare run it is compared with, at one connection count. */
function pair(
  input: Input,
  target: string,
  connections: number,
  variant?: CapacityResult['variant'],
) {
  const run = runOf(input.results, target, connections, variant);
  const bare = bareCapacityFor(input.results, target, connections);
  return run && bare ? { run, bare } : undefined;
}

/** "; floor N req/s = F× bare, redis = R× floor" for a verdict's detail ('' without a floor run). */
function floorDetail(input: Input, connections: number, value: (r: CapacityResult) => number) {
  const floor = pair(input, FLOOR, connections);
  const redis = runOf(input.results, 'redis', connections);
  if (!floor || !redis) return '';
  const shown =
    value === requestsPerSecond ? `${count(value(floor.run))} req/s` : msText(value(floor.run));
  return `; floor ${shown} = ${ratio(value(floor.run), value(floor.bare))}× bare, redis = ${ratio(value(redis), value(floor.run))}× floor`;
}

const requestsPerSecond = (result: CapacityResult) => result.requestsPerSecond;

export const capacityScenario: Scenario = {
  name: 'capacity',
  async run(ctx) {
    const { profile } = ctx.options;
    progress.phase('capacity (closed loop, autocannon; the bare route right before each mode)');
    if (ctx.modes.length === 0) {
      await prime([ctx.bare], profile);
      for (const connections of profile.capacity.connections)
        ctx.results.push(await runCapacityAgainst([ctx.bare], 'bare', connections, profile));
    }
    for (const mode of ctx.modes) {
      await withOverture(ctx, mode, 'capacity', {}, async (server) => {
        // Started after withOverture emptied the bench's Redis; its own key prefix.
        const floor =
          mode.name === 'redis' ? await startFloor(redisUrl, profileDir(ctx)) : undefined;
        try {
          // Equal treatment: every target of the turn gets the same unmeasured first traffic.
          await prime([ctx.bare, ...(floor ? [floor] : []), server], profile);
          for (const [index, connections] of profile.capacity.connections.entries()) {
            const bare = await runCapacityAgainst([ctx.bare], 'bare', connections, profile);
            ctx.results.push({ ...bare, pairedWith: mode.name });
            if (floor)
              ctx.results.push(await runCapacityAgainst([floor], FLOOR, connections, profile));
            ctx.results.push(await runCapacityAgainst([server], mode.name, connections, profile));
            const run = await runCapacityAgainst([server], mode.name, connections, profile, {
              requests: { kind: 'new-user', firstUserId: newUserBase(index) },
              label: `${mode.name} capacity new users c=${connections}`,
            });
            ctx.results.push({ ...run, variant: 'new-user' });
          }
        } finally {
          await floor?.stop();
        }
      });
    }
  },

  section(report) {
    const results = resultsOf(report.results, 'capacity');
    if (results.length === 0) return undefined;
    const toBare = (value: (result: CapacityResult) => number) => (result: CapacityResult) => {
      if (result.target === 'bare') return '1.00×';
      const base = bareCapacityFor(report.results, result.target, result.connections);
      return times(base ? ratio(value(result), value(base)) : null);
    };
    const toFloor = (result: CapacityResult) => {
      const floor = runOf(report.results, FLOOR, result.connections);
      const compared = result.target === 'redis' && result.variant === undefined;
      if (!floor || !(compared || result.target === FLOOR)) return '–';
      return times(ratio(result.requestsPerSecond, floor.requestsPerSecond));
    };
    return section(
      'Capacity (closed loop, autocannon)',
      'POST /api/v1/queue/token, each request from a random user among 1000 (users "new": every request a user never seen, a first join), every connection sending its next request when the answer arrives. ' +
        'The bare route runs right before each mode, and the mode is compared with that run. ' +
        "The floor (redis mode's turn) is Fastify + ioredis running the service's join script for the same users with the same keys and arguments, and nothing else (no rate limits, identity, metrics, validation); \"× floor\" is the redis mode's req/s against it. " +
        "Connections open together at the start and carry an unmeasured warm-up before the measured window; before a mode's runs, every target of its turn (the bare route, the floor, the service) first gets one unmeasured run of its own, so none is measured on its first traffic. " +
        '"Every connection answered" is when the last connection got its first answer: a busy Node server accepts one connection per event-loop iteration (libuv ≥ 1.45), so a saturated server takes seconds to accept 1,000 connections opened at once (docs/decisions/0012).',
      table(results, [
        targetColumn,
        ['users', (r) => (r.target === 'bare' ? '–' : r.variant === 'new-user' ? 'new' : 'random')],
        ['connections', (r) => String(r.connections)],
        ['req/s', (r) => count(r.requestsPerSecond)],
        ['× bare', toBare((r) => r.requestsPerSecond)],
        ['× floor', toFloor],
        ...latencyColumns((r: CapacityResult) => r.latency),
        ['p99 × bare', toBare((r) => r.latency.p99)],
        ['non-2xx / errors', (r) => `${count(r.non2xx)} / ${count(r.errors)}`],
        [
          'every connection answered',
          (r) =>
            r.allConnectionsAnsweredSeconds === undefined
              ? 'never'
              : `${r.allConnectionsAnsweredSeconds.toFixed(2)} s`,
        ],
        cpuColumn((r) => r.usage),
      ]),
    );
  },

  verdicts(input) {
    const pg100 = pair(input, 'postgres', 100);
    const pg1000 = pair(input, 'postgres', 1000);
    const context100 = pg100
      ? ` (postgres mode: ${ratio(pg100.run.requestsPerSecond, pg100.bare.requestsPerSecond)}× bare)`
      : '';
    const context1000 = pg1000
      ? ` (postgres mode: p99 ${ratio(pg1000.run.latency.p99, pg1000.bare.latency.p99)}× bare)`
      : '';
    const missing = modeMissing(input, 'redis');
    const at100 = pair(input, 'redis', 100);
    const at1000 = pair(input, 'redis', 1000);
    const throughput =
      at100 && (ratio(at100.run.requestsPerSecond, at100.bare.requestsPerSecond) ?? 0);
    const tail =
      at1000 &&
      (ratio(at1000.run.latency.p99, at1000.bare.latency.p99) ?? Number.POSITIVE_INFINITY);
    return [
      {
        target:
          "Capacity at 100 connections: redis-mode queue entry reaches ≥ 0.5× the bare route's requests/s",
        ...(at100 && throughput !== undefined
          ? {
              verdict: throughput >= 0.5 ? 'met' : 'not met',
              detail: `redis ${Math.round(at100.run.requestsPerSecond)} req/s vs bare ${Math.round(at100.bare.requestsPerSecond)} req/s = ${throughput}×${floorDetail(input, 100, requestsPerSecond)}${context100}`,
            }
          : { verdict: 'not measured', detail: missing + context100 }),
      },
      {
        target: "Capacity at 1000 connections: redis-mode p99 within 1.5× the bare route's p99",
        ...(at1000 && tail !== undefined
          ? {
              verdict: tail <= 1.5 ? 'met' : 'not met',
              detail: `redis p99 ${msText(at1000.run.latency.p99)} vs bare ${msText(at1000.bare.latency.p99)} = ${tail}×${floorDetail(input, 1000, (r) => r.latency.p99)}${context1000}`,
            }
          : { verdict: 'not measured', detail: missing + context1000 }),
      },
      newUserVerdict(input),
    ];
  },
};

/** Item 9 of issue 17: first joins in the postgres mode (a durable insert each) ≥ 0.12× bare. */
function newUserVerdict(input: Input): Verdict {
  const target =
    "Capacity at 100 connections, every request a new user: postgres-mode queue entry reaches ≥ 0.12× the bare route's requests/s";
  const fresh = (mode: string) => {
    const found = pair(input, mode, 100, 'new-user');
    return found && ratio(found.run.requestsPerSecond, found.bare.requestsPerSecond);
  };
  const others = ['redis', 'stream']
    .map((mode) => [mode, fresh(mode)] as const)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([mode, value]) => `${mode} ${value}×`);
  const context = others.length > 0 ? ` (new users: ${others.join(', ')})` : '';
  const run = pair(input, 'postgres', 100, 'new-user');
  const value = run && (ratio(run.run.requestsPerSecond, run.bare.requestsPerSecond) ?? 0);
  if (!run || value === undefined)
    return { target, verdict: 'not measured', detail: modeMissing(input, 'postgres') + context };
  return {
    target,
    verdict: value >= 0.12 ? 'met' : 'not met',
    detail: `postgres ${Math.round(run.run.requestsPerSecond)} req/s vs bare ${Math.round(run.bare.requestsPerSecond)} req/s = ${value}×${context}`,
  };
}
