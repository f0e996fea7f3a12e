/**
 * Capacity: POST /api/v1/queue/token in a closed loop (autocannon) at each connection count,
 * for every mode and the bare route, each request from a random user among 1000.
 */
import { measureUsage, withOverture, type Scenario } from '../lib/context.js';
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
import { resultsOf, type Base, type BenchReport, type ScenarioResult } from '../lib/results.js';
import type { ServerProcess } from '../lib/server.js';
import { ratio, round, summarize, type LatencySummary } from '../lib/stats.js';
import { runWorker } from '../lib/workers.js';
import type {
  ClosedLoopJob,
  ClosedLoopRequests,
  ClosedLoopResult,
} from '../workers/closed-loop.js';

export interface CapacityResult extends Base {
  kind: 'capacity';
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
  return bare.find((result) => result.pairedWith === target) ?? bare[0];
}

export async function runCapacityAgainst(
  servers: ServerProcess[],
  target: string,
  connections: number,
  profile: Profile,
  durationSeconds = profile.capacity.durationSeconds,
  requests: ClosedLoopRequests = { kind: 'join', userCount: profile.seed.users },
  label = `${target}${servers.length > 1 ? `×${servers.length}` : ''} capacity c=${connections}`,
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

type Input = Pick<BenchReport, 'results' | 'modes'>;

function modeMissing(input: Input, name: string): string {
  const mode = input.modes.find((item) => item.name === name);
  return mode && !mode.available
    ? `${name} mode not available: ${mode.reason ?? 'unknown'}`
    : `${name} mode not measured`;
}

/** A mode's own run and the bare run it is compared with, at one connection count. */
function pair(input: Input, target: string, connections: number) {
  const run = resultsOf(input.results, 'capacity').find(
    (item) => item.target === target && item.connections === connections && item.instances === 1,
  );
  const bare = bareCapacityFor(input.results, target, connections);
  return run && bare ? { run, bare } : undefined;
}

export const capacityScenario: Scenario = {
  name: 'capacity',
  async run(ctx) {
    const { profile } = ctx.options;
    progress.phase('capacity (closed loop, autocannon; the bare route right before each mode)');
    if (ctx.modes.length === 0) {
      for (const connections of profile.capacity.connections)
        ctx.results.push(await runCapacityAgainst([ctx.bare], 'bare', connections, profile));
    }
    for (const mode of ctx.modes) {
      await withOverture(ctx, mode, 'capacity', {}, async (server) => {
        for (const connections of profile.capacity.connections) {
          const bare = await runCapacityAgainst([ctx.bare], 'bare', connections, profile);
          ctx.results.push({ ...bare, pairedWith: mode.name });
          ctx.results.push(await runCapacityAgainst([server], mode.name, connections, profile));
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
    return section(
      'Capacity (closed loop, autocannon)',
      'POST /api/v1/queue/token, each request from a random user among 1000, every connection sending its next request when the answer arrives. ' +
        'The bare route runs right before each mode, and the mode is compared with that run. ' +
        'Connections open together at the start and carry an unmeasured warm-up before the measured window. ' +
        '"Every connection answered" is when the last connection got its first answer: a busy Node server accepts one connection per event-loop iteration (libuv ≥ 1.45), so a saturated server takes seconds to accept 1,000 connections opened at once (docs/decisions/0012).',
      table(results, [
        targetColumn,
        ['connections', (r) => String(r.connections)],
        ['req/s', (r) => count(r.requestsPerSecond)],
        ['× bare', toBare((r) => r.requestsPerSecond)],
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
              detail: `redis ${Math.round(at100.run.requestsPerSecond)} req/s vs bare ${Math.round(at100.bare.requestsPerSecond)} req/s = ${throughput}×${context100}`,
            }
          : { verdict: 'not measured', detail: missing + context100 }),
      },
      {
        target: "Capacity at 1000 connections: redis-mode p99 within 1.5× the bare route's p99",
        ...(at1000 && tail !== undefined
          ? {
              verdict: tail <= 1.5 ? 'met' : 'not met',
              detail: `redis p99 ${msText(at1000.run.latency.p99)} vs bare ${msText(at1000.bare.latency.p99)} = ${tail}×${context1000}`,
            }
          : { verdict: 'not measured', detail: missing + context1000 }),
      },
    ];
  },
};
