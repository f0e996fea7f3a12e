/**
 * The seed's k6 load test: POST /api/v1/queue/token at an open-loop arrival rate rising to
 * 1,667 requests/s, held, and falling to 0, with at most 1000 requests in flight. Variant
 * random-user: each request from a random user among 1000 (mostly re-entries, as the seed ran
 * it); new-user: every request a user never seen (the line only grows).
 */
import { measureUsage, withOverture, type Scenario } from '../lib/context.js';
import {
  count,
  cpuColumn,
  latencyColumns,
  modeOnly,
  ms,
  msText,
  section,
  table,
} from '../lib/format.js';
import { stagesSeconds, type Profile } from '../lib/options.js';
import { progress } from '../lib/progress.js';
import { resultsOf, type Base, type Verdict } from '../lib/results.js';
import type { ServerProcess } from '../lib/server.js';
import { round, summarize, type LatencySummary } from '../lib/stats.js';
import { runWorker } from '../lib/workers.js';
import type { OpenLoopJob, OpenLoopResult } from '../workers/open-loop.js';

export interface SeedResult extends Base {
  kind: 'seed';
  variant: 'random-user' | 'new-user';
  instances: number;
  scheduled: number;
  answered: number;
  failed: number;
  failureRate: number;
  /** Answered requests per second over the whole run (first due time to last answer). */
  requestsPerSecond: number;
  /** From each request's due time (what a user waits). */
  latency: LatencySummary;
  /** From the moment each request was written (what the server took). */
  serviceTime: LatencySummary;
  waitedForSlot: number;
  sendLag: LatencySummary;
  statuses: Record<string, number>;
  errorSamples: string[];
  thresholds: { p90: boolean; p95: boolean; max: boolean; failures: boolean; pass: boolean };
  p99Under10ms: boolean;
}

/** First user id of the new-user variant, far from every other scenario's users. */
const NEW_USER_BASE = 10_000_001;

function seedResult(
  target: string,
  variant: SeedResult['variant'],
  instances: number,
  result: OpenLoopResult,
): SeedResult {
  const latency = summarize(result.latencies);
  const failureRate = result.scheduled > 0 ? result.failed / result.scheduled : 0;
  const limits = {
    p90: latency.p90 < 1000,
    p95: latency.p95 < 1000,
    max: latency.max < 2000,
    failures: failureRate < 0.01,
  };
  const thresholds = { ...limits, pass: Object.values(limits).every(Boolean) };
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
  const { seed } = profile;
  const job: OpenLoopJob = {
    targets: servers.map((server) => server.url),
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
  const timeoutMs = (stagesSeconds(stages) + seed.drainSeconds + 60) * 1000;
  const result = await runWorker<OpenLoopResult>('open-loop.ts', job, { label, timeoutMs });
  return {
    ...seedResult(target, variant, servers.length, result),
    usage: usage(result.cpuSeconds),
  };
}

export const seedScenario: Scenario = {
  name: 'seed',
  async run(ctx) {
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
  },

  section(report) {
    const results = resultsOf(report.results, 'seed');
    if (results.length === 0) return undefined;
    return section(
      'Seed load test (open loop)',
      'POST /api/v1/queue/token at an arrival rate of 0 → 1,667/s, held, → 0; at most 1000 in flight. ' +
        'Latency in ms from each request’s **due time** (no coordinated omission); “server p99” is from the moment it was sent. ' +
        'Seed thresholds: p90 < 1 s, p95 < 1 s, max < 2 s, failures < 1%.',
      table(results, [
        ['target', (r) => r.target + (r.instances > 1 ? ` ×${r.instances}` : '')],
        ['users', (r) => r.variant],
        ['requests', (r) => count(r.scheduled)],
        ['req/s', (r) => count(r.requestsPerSecond)],
        ...latencyColumns((r: SeedResult) => r.latency),
        ['server p99', (r) => ms(r.serviceTime.p99)],
        ['failed', (r) => `${count(r.failed)} (${(r.failureRate * 100).toFixed(2)}%)`],
        ['seed thresholds', modeOnly((r) => (r.thresholds.pass ? 'pass' : '**fail**'))],
        ['p99 < 10 ms', modeOnly((r) => (r.p99Under10ms ? 'yes' : 'no'))],
        cpuColumn((r) => r.usage),
      ]),
    );
  },

  verdicts(input): Verdict[] {
    const target = "Seed load test: every mode passes the seed's thresholds with p99 under 10 ms";
    const seeds = resultsOf(input.results, 'seed').filter(
      (result) => result.target !== 'bare' && result.instances === 1,
    );
    const main = seeds.filter((result) => result.variant === 'random-user');
    if (main.length === 0) return [{ target, verdict: 'not measured', detail: 'no seed run' }];
    const parts = seeds.map(
      ({ target, variant, latency, failureRate, thresholds }) =>
        `${target}/${variant}: p95 ${msText(latency.p95)}, p99 ${msText(latency.p99)}, ` +
        `max ${msText(latency.max)}, ${(failureRate * 100).toFixed(2)}% failed → ${thresholds.pass ? 'pass' : 'FAIL'}`,
    );
    const met = main.every((result) => result.p99Under10ms);
    const judged = seeds.length > main.length ? " (judged on the seed's own random-user runs)" : '';
    const note = input.profile === 'quick' ? ' (quick profile: a 4 s ramp instead of 60 s)' : '';
    return [{ target, verdict: met ? 'met' : 'not met', detail: parts.join('; ') + judged + note }];
  },
};
