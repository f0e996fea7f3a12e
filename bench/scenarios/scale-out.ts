/**
 * Scale-out, two ways. Instances: the seed load test (random-user) and the 100-connection capacity
 * run against 1 and then 2 server processes sharing one database and one Redis, requests spread
 * over the instances (many hosts). WORKERS: the capacity run against one server started with
 * WORKERS=N (N processes sharing the port, one host), each beside the bare route run with the same
 * N processes right before it. On a 2-core machine the processes, the generator and PostgreSQL
 * share the same cores, so this shows the cost of coordination more than a gain.
 */
import { startMode, withDatabase, type Scenario } from '../lib/context.js';
import { count, cpuColumn, ms, section, table } from '../lib/format.js';
import { progress } from '../lib/progress.js';
import { resultsOf, type Base } from '../lib/results.js';
import { startBare, type ServerProcess } from '../lib/server.js';
import { ratio } from '../lib/stats.js';
import { runCapacityAgainst, type CapacityResult } from './capacity.js';
import { runSeedAgainst, type SeedResult } from './seed.js';

export interface ScaleOutResult extends Base {
  kind: 'scale-out';
  instances: number;
  seed: SeedResult;
  capacity: CapacityResult;
}

/** One server with WORKERS=N, and the bare route with N processes run right before it. */
export interface WorkersResult extends Base {
  kind: 'scale-out-workers';
  workers: number;
  capacity: CapacityResult;
  bare: CapacityResult;
}

/** The capacity run against WORKERS=N and, right before, against the bare route with N processes. */
async function runWorkers(
  ctx: Parameters<Scenario['run']>[0],
  mode: (typeof ctx.modes)[number],
  workers: number,
): Promise<WorkersResult> {
  const { profile } = ctx.options;
  const connections = profile.capacity.connections[0] ?? 100;
  const durationSeconds = profile.scaleOut.capacitySeconds;
  const bareServer = await startBare(workers);
  const bare = await runCapacityAgainst([bareServer], 'bare', connections, profile, {
    durationSeconds,
  }).finally(() => bareServer.stop());
  return withDatabase(ctx, mode.name, `workers_${workers}`, async ({ url }) => {
    const server = await startMode(ctx, mode, `workers-${workers}`, url, {
      WORKERS: String(workers),
    });
    const capacity = await runCapacityAgainst([server], mode.name, connections, profile, {
      durationSeconds,
    }).finally(() => server.stop());
    return { kind: 'scale-out-workers', target: mode.name, workers, capacity, bare };
  });
}

export const scaleOutScenario: Scenario = {
  name: 'scale-out',
  async run(ctx) {
    const { profile } = ctx.options;
    progress.phase(`scale-out (${profile.scaleOut.instances.join(' and ')} server processes)`);
    for (const modeName of ctx.options.scaleOutModes) {
      const mode = ctx.modes.find((item) => item.name === modeName);
      if (!mode) {
        const reason = `${modeName} mode not available in this run`;
        ctx.skipped.push({ scenario: 'scale-out', target: modeName, reason });
        continue;
      }
      for (const instances of profile.scaleOut.instances) {
        await withDatabase(ctx, mode.name, `scale_${instances}`, async ({ url }) => {
          const servers: ServerProcess[] = [];
          try {
            for (let index = 1; index <= instances; index++)
              servers.push(await startMode(ctx, mode, `scale-${instances}-${index}`, url));
            const { stages, capacitySeconds } = profile.scaleOut;
            const seed = await runSeedAgainst(servers, mode.name, 'random-user', profile, stages);
            const connections = profile.capacity.connections[0] ?? 100;
            const capacity = await runCapacityAgainst(servers, mode.name, connections, profile, {
              durationSeconds: capacitySeconds,
            });
            ctx.results.push({ kind: 'scale-out', target: mode.name, instances, seed, capacity });
          } finally {
            for (const server of servers) await server.stop();
          }
        });
      }
      for (const workers of profile.scaleOut.workers)
        ctx.results.push(await runWorkers(ctx, mode, workers));
    }
  },

  section(report) {
    const results = resultsOf(report.results, 'scale-out');
    const workers = resultsOf(report.results, 'scale-out-workers');
    if (results.length === 0 && workers.length === 0) return undefined;
    const one = (r: WorkersResult, of: (w: WorkersResult) => CapacityResult) => {
      const base = workers.find((w) => w.target === r.target && w.workers === 1);
      const scale = base && ratio(of(r).requestsPerSecond, of(base).requestsPerSecond);
      return scale === null || scale === undefined ? '–' : `${scale.toFixed(2)}×`;
    };
    const byWorkers = section(
      'Scale-out with WORKERS=N',
      'The closed-loop capacity run against one server started with WORKERS=N (N processes sharing the port), and right before it against the bare route with N processes (BARE_WORKERS=N).',
      table(workers, [
        ['mode', (r) => r.target],
        ['WORKERS', (r) => String(r.workers)],
        ['req/s', (r) => count(r.capacity.requestsPerSecond)],
        ['bare req/s (same N)', (r) => count(r.bare.requestsPerSecond)],
        [
          '× bare',
          (r) =>
            `${(ratio(r.capacity.requestsPerSecond, r.bare.requestsPerSecond) ?? 0).toFixed(2)}×`,
        ],
        ['1 → N', (r) => one(r, (w) => w.capacity)],
        ['bare 1 → N', (r) => one(r, (w) => w.bare)],
        ['p99', (r) => ms(r.capacity.latency.p99)],
        ['bare p99', (r) => ms(r.bare.latency.p99)],
        ['non-2xx', (r) => count(r.capacity.non2xx)],
        cpuColumn((r) => r.capacity.usage, 'CPU server / generator / machine'),
      ]),
    );
    if (results.length === 0) return byWorkers;
    return `${section(
      'Scale-out',
      'The seed load test (random users) and the closed-loop capacity run against 1 and 2 server processes sharing one database and Redis; requests alternate between the instances.',
      table(results, [
        ['mode', (r) => r.target],
        ['processes', (r) => String(r.instances)],
        ['seed req/s', (r) => count(r.seed.requestsPerSecond)],
        ['seed p50', (r) => ms(r.seed.latency.p50)],
        ['seed p95', (r) => ms(r.seed.latency.p95)],
        ['seed p99', (r) => ms(r.seed.latency.p99)],
        ['seed max', (r) => ms(r.seed.latency.max)],
        ['seed failed', (r) => count(r.seed.failed)],
        ['seed thresholds', (r) => (r.seed.thresholds.pass ? 'pass' : '**fail**')],
        ['capacity connections', (r) => String(r.capacity.connections)],
        ['capacity req/s', (r) => count(r.capacity.requestsPerSecond)],
        ['capacity p99', (r) => ms(r.capacity.latency.p99)],
        cpuColumn((r) => r.capacity.usage, 'CPU servers / generator / machine (capacity)'),
      ]),
    )}${workers.length === 0 ? '' : `\n${byWorkers}`}`;
  },
};
