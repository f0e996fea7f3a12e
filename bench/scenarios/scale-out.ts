/**
 * Scale-out: the seed load test (random-user) and the 100-connection capacity run against 1 and
 * then 2 server processes sharing one database and one Redis, requests spread over the instances.
 * On a 2-core machine both instances, the generator and PostgreSQL share the same cores, so this
 * shows the cost of coordination more than a gain.
 */
import { startMode, withDatabase, type Scenario } from '../lib/context.js';
import { count, cpuColumn, ms, section, table } from '../lib/format.js';
import { progress } from '../lib/progress.js';
import { resultsOf, type Base } from '../lib/results.js';
import type { ServerProcess } from '../lib/server.js';
import { runCapacityAgainst, type CapacityResult } from './capacity.js';
import { runSeedAgainst, type SeedResult } from './seed.js';

export interface ScaleOutResult extends Base {
  kind: 'scale-out';
  instances: number;
  seed: SeedResult;
  capacity: CapacityResult;
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
            const capacity = await runCapacityAgainst(
              servers,
              mode.name,
              connections,
              profile,
              capacitySeconds,
            );
            ctx.results.push({ kind: 'scale-out', target: mode.name, instances, seed, capacity });
          } finally {
            for (const server of servers) await server.stop();
          }
        });
      }
    }
  },

  section(report) {
    const results = resultsOf(report.results, 'scale-out');
    if (results.length === 0) return undefined;
    return section(
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
    );
  },
};
