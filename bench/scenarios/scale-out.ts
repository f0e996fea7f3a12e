/**
 * Scale-out: the seed load test (random-user) and the 100-connection capacity run against 1 and
 * then 2 server processes sharing one database and one Redis, requests spread over the instances.
 * On a 2-core machine both instances, the generator and PostgreSQL share the same cores, so this
 * shows the cost of coordination more than a gain.
 */
import { databaseName, profileDir, serverEnv, type Context } from '../lib/context.js';
import { resetBenchRedis } from '../lib/modes.js';
import { dropDatabase, recreateDatabase } from '../lib/postgres.js';
import { progress } from '../lib/progress.js';
import type { ScaleOutResult } from '../lib/results.js';
import { startOverture, type ServerProcess } from '../lib/server.js';
import { runCapacityAgainst } from './capacity.js';
import { runSeedAgainst } from './seed.js';

export async function scaleOutScenario(ctx: Context): Promise<void> {
  const { profile } = ctx.options;
  progress.phase(`scale-out (${profile.scaleOut.instances.join(' and ')} server processes)`);
  for (const modeName of ctx.options.scaleOutModes) {
    const mode = ctx.modes.find((item) => item.name === modeName);
    if (!mode) {
      ctx.skipped.push({
        scenario: 'scale-out',
        target: modeName,
        reason: `${modeName} mode not available in this run`,
      });
      continue;
    }
    for (const instances of profile.scaleOut.instances) {
      const name = databaseName(mode.name, `scale_${instances}`);
      const url = await recreateDatabase(ctx.admin, name);
      await resetBenchRedis();
      const servers: ServerProcess[] = [];
      try {
        for (let index = 0; index < instances; index++) {
          servers.push(
            await startOverture({
              label: `${mode.name}-scale-${instances}-${index + 1}`,
              databaseUrl: url,
              env: serverEnv(ctx, mode),
              cpuProfileDir: profileDir(ctx),
            }),
          );
        }
        const seed = await runSeedAgainst(
          servers,
          mode.name,
          'random-user',
          profile,
          profile.scaleOut.stages,
        );
        const connections = profile.capacity.connections[0] ?? 100;
        const capacity = await runCapacityAgainst(
          servers,
          mode.name,
          connections,
          profile,
          profile.scaleOut.capacitySeconds,
        );
        const result: ScaleOutResult = {
          kind: 'scale-out',
          target: mode.name,
          instances,
          seed,
          capacity,
        };
        ctx.results.push(result);
      } finally {
        for (const server of servers) await server.stop();
        if (!ctx.options.keepDatabases) await dropDatabase(ctx.admin, name);
      }
    }
  }
}
