/**
 * Capacity: POST /api/v1/queue/token in a closed loop (autocannon) at each connection count,
 * for every mode and the bare route, each request from a random user among 1000.
 */
import { measureUsage, withOverture, type Context } from '../lib/context.js';
import type { Profile } from '../lib/options.js';
import { progress } from '../lib/progress.js';
import type { CapacityResult } from '../lib/results.js';
import type { ServerProcess } from '../lib/server.js';
import { round, summarize } from '../lib/stats.js';
import { runWorker } from '../lib/workers.js';
import type { ClosedLoopJob, ClosedLoopResult } from '../workers/closed-loop.js';

export async function runCapacityAgainst(
  servers: ServerProcess[],
  target: string,
  connections: number,
  profile: Profile,
  durationSeconds = profile.capacity.durationSeconds,
): Promise<CapacityResult> {
  const label = `${target}${servers.length > 1 ? `×${servers.length}` : ''} capacity c=${connections}`;
  const usage = measureUsage(servers);
  const job: ClosedLoopJob = {
    targets: servers.map((server) => server.url),
    connections,
    durationSeconds,
    warmupSeconds: profile.capacity.warmupSeconds,
    requests: { kind: 'join', userCount: profile.seed.users },
  };
  const result = await runWorker<ClosedLoopResult>('closed-loop.ts', job, {
    label,
    timeoutMs: (durationSeconds + profile.capacity.warmupSeconds + 90) * 1000,
  });
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
    ...(result.allConnectionsAnsweredSeconds === undefined
      ? {}
      : { allConnectionsAnsweredSeconds: round(result.allConnectionsAnsweredSeconds, 2) }),
    usage: usage(result.cpuSeconds),
  };
  progress.line(
    label,
    `done: ${capacity.requestsPerSecond} req/s, p99 ${capacity.latency.p99} ms, non-2xx ${capacity.non2xx}, errors ${capacity.errors}`,
  );
  return capacity;
}

export async function capacityScenario(ctx: Context): Promise<void> {
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
}
