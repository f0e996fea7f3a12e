/**
 * The seed's k6 load test: POST /api/v1/queue/token at an open-loop arrival rate rising to
 * 1,667 requests/s, held, and falling to 0, with at most 1000 requests in flight. Variant
 * random-user: each request from a random user among 1000 (mostly re-entries, as the seed ran
 * it); new-user: every request a user never seen (the line only grows).
 */
import { measureUsage, withOverture, type Context } from '../lib/context.js';
import type { Profile } from '../lib/options.js';
import { stagesSeconds } from '../lib/arrivals.js';
import { progress } from '../lib/progress.js';
import type { SeedResult } from '../lib/results.js';
import type { ServerProcess } from '../lib/server.js';
import { summarize, round } from '../lib/stats.js';
import { runWorker } from '../lib/workers.js';
import type { OpenLoopJob, OpenLoopResult } from '../workers/open-loop.js';

/** First user id of the new-user variant, far from every other scenario's users. */
const NEW_USER_BASE = 10_000_001;

export function seedJob(
  targets: string[],
  seed: Profile['seed'],
  variant: SeedResult['variant'],
  stages = seed.stages,
): OpenLoopJob {
  return {
    targets,
    schedule: { kind: 'stages', stages },
    requests:
      variant === 'random-user'
        ? { kind: 'join', users: 'random', userCount: seed.users }
        : { kind: 'join', users: 'unique', firstUserId: NEW_USER_BASE },
    maxInFlight: seed.maxInFlight,
    requestTimeoutMs: seed.requestTimeoutSeconds * 1000,
    drainTimeoutMs: seed.drainSeconds * 1000,
    // k6 counts every status below 400 as a success (http_req_failed).
    successStatuses: [200, 201, 202, 204, 301, 302, 304],
    readErrorCodes: false,
  };
}

export function seedResult(
  target: string,
  variant: SeedResult['variant'],
  instances: number,
  result: OpenLoopResult,
): SeedResult {
  const latency = summarize(result.latencies);
  const failureRate = result.scheduled > 0 ? result.failed / result.scheduled : 0;
  const thresholds = {
    p90: latency.p90 < 1000,
    p95: latency.p95 < 1000,
    max: latency.max < 2000,
    failures: failureRate < 0.01,
    pass: false,
  };
  thresholds.pass = thresholds.p90 && thresholds.p95 && thresholds.max && thresholds.failures;
  return {
    kind: 'seed',
    target,
    variant,
    instances,
    scheduled: result.scheduled,
    answered: result.answered,
    failed: result.failed,
    failureRate: round(failureRate, 5),
    requestsPerSecond:
      result.durationMs > 0 ? round(result.answered / (result.durationMs / 1000), 1) : 0,
    latency,
    serviceTime: summarize(result.serviceTimes),
    waitedForSlot: result.waitedForSlot,
    sendLag: result.sendLag,
    statuses: result.statuses,
    errorSamples: result.errorSamples,
    thresholds,
    p99Under10ms: thresholds.pass && latency.p99 < 10,
  };
}

export async function runSeedAgainst(
  servers: ServerProcess[],
  target: string,
  variant: SeedResult['variant'],
  profile: Profile,
  stages = profile.seed.stages,
): Promise<SeedResult> {
  const usage = measureUsage(servers);
  const label = `${target}${servers.length > 1 ? `×${servers.length}` : ''} seed ${variant}`;
  const job = seedJob(
    servers.map((server) => server.url),
    profile.seed,
    variant,
    stages,
  );
  const timeoutMs = (stagesSeconds(stages) + profile.seed.drainSeconds + 60) * 1000;
  const result = await runWorker<OpenLoopResult>('open-loop.ts', job, { label, timeoutMs });
  const seed = seedResult(target, variant, servers.length, result);
  seed.usage = usage(result.cpuSeconds);
  progress.line(
    label,
    `done: ${seed.requestsPerSecond} req/s, p95 ${seed.latency.p95} ms, p99 ${seed.latency.p99} ms, ` +
      `max ${seed.latency.max} ms, failed ${seed.failed} → seed thresholds ${seed.thresholds.pass ? 'PASS' : 'FAIL'}`,
  );
  return seed;
}

export async function seedScenario(ctx: Context): Promise<void> {
  const { profile } = ctx.options;
  progress.phase('seed load test (open loop, latency from each request’s due time)');
  ctx.results.push(await runSeedAgainst([ctx.bare], 'bare', 'random-user', profile));
  for (const mode of ctx.modes) {
    for (const variant of profile.seed.variants) {
      ctx.results.push(
        await withOverture(ctx, mode, `seed_${variant}`, {}, (server) =>
          runSeedAgainst([server], mode.name, variant, profile),
        ),
      );
    }
  }
}
