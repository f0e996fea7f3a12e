/**
 * `npm run bench` — builds Overture, starts the compiled server per queue mode (plus a bare
 * Fastify route as the machine's ceiling), runs every scenario (scenarios/) and writes
 * bench/results/<time>.{json,md,svg,png}; a full run also rewrites docs/benchmarks.md.
 * Speed never fails the run; a broken harness or a failed correctness check does (exit code 1).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { check, profileDir, type Context } from './lib/context.js';
import { describeMachine, gitState } from './lib/machine.js';
import { benchServerEnv, probeModes, provideKafka, redisUrl } from './lib/modes.js';
import { parseOptions, usage, type Options } from './lib/options.js';
import { adminUrl, openPool, takeBenchLock } from './lib/postgres.js';
import { summarizeProfiles } from './lib/profile.js';
import { progress } from './lib/progress.js';
import { judge, writeReport } from './lib/report.js';
import type { BenchReport } from './lib/results.js';
import { killAllChildren, projectRoot, startBare } from './lib/server.js';
import { scenarios } from './scenarios/index.js';

function build(): void {
  progress.phase('npm run build');
  const result = spawnSync('npm', ['run', 'build'], { cwd: projectRoot, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`npm run build failed with exit code ${result.status}`);
}

/** How the servers ran and what to keep in mind reading the numbers. */
function runSettings(options: Options, cpus: number): Pick<BenchReport, 'settings' | 'notes'> {
  return {
    settings: {
      server: 'node dist/main.js (compiled), one process per mode unless stated',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      DB_POOL_SIZE: benchServerEnv.DB_POOL_SIZE!,
      ...options.serverEnv,
      REDIS_URL: redisUrl,
      databases:
        'overture_bench_<mode>_<scenario>, dropped and recreated for each scenario; the server migrates and seeds on start',
      openLoopGenerator: 'undici Pool in a child process; latency from each request’s due time',
      closedLoopGenerator: 'autocannon (programmatic) in a child process',
      identity: 'Client-Id header, as in the seed (AUTH_MODE=client-id, ALLOW_CLIENT_ID_AUTH=true)',
      rateLimits:
        'on, with every RATE_LIMIT_*_MAX and SSE_MAX_STREAMS_PER_ADDRESS raised to 1,000,000: all simulated users share one loopback address',
    },
    notes: [
      'Servers run as production would: compiled JavaScript (`node dist/main.js`), NODE_ENV=production, LOG_LEVEL=warn.',
      `Both cores are shared: the server, the load generator (a separate Node process), PostgreSQL and Redis all run on the same ${cpus} cores, ` +
        'with whatever else the machine is doing. Judge by the ratios measured in one run, not by absolute numbers.',
      'Users are named by the Client-Id header (the seed’s contract). Rate limiting stays on with its limits raised out of reach: ' +
        'every simulated user shares one loopback address.',
      ...(options.quick
        ? [
            'Quick profile: small sizes and 4-second ramps — a smoke run that keeps the harness alive, not a measurement.',
          ]
        : []),
    ],
  };
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  const options = parsed;
  const lock = await takeBenchLock(adminUrl);
  if (!lock) {
    process.stderr.write(
      `bench: another run is using ${new URL(adminUrl).host} (its overture_bench_* databases and ` +
        `the bench's Redis database would be dropped under it); wait for it to end\n`,
    );
    return 1;
  }
  const startedAt = new Date();
  const runId = startedAt.toISOString().replace(/[:.]/g, '-');
  mkdirSync(options.resultsDir, { recursive: true });
  const admin = openPool(adminUrl, 2);
  const git = gitState(projectRoot);
  const machine = await describeMachine(admin, redisUrl);
  progress.phase(
    `Overture benchmark, ${options.profile.name} profile, commit ${git.commit.slice(0, 12)}${git.dirty ? ' (dirty)' : ''}, ` +
      `${machine.cpus} cores, load average ${machine.loadAverageAtStart}`,
  );

  if (options.build) build();
  if (options.modes.includes('stream')) await provideKafka();
  const probed = await probeModes(options, admin);
  const problems = [...probed.failures];
  const bare = await startBare();
  const ctx: Context = {
    options,
    admin,
    modes: probed.available,
    bare,
    runId,
    results: [],
    checks: [],
    skipped: [],
    problems,
  };
  let broken = probed.failures.length > 0;
  for (const scenario of scenarios.filter((item) => options.scenarios.includes(item.name))) {
    try {
      await scenario.run(ctx);
      // The live display's summary of a scenario is its section of the report.
      const section = scenario.section?.({ results: ctx.results });
      if (section) process.stderr.write(`\n${section}\n\n`);
    } catch (error) {
      broken = true;
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      problems.push(`scenario ${scenario.name} broke: ${text.split('\n').slice(0, 4).join(' | ')}`);
      progress.line('error', `${scenario.name}: ${text}`);
    }
  }
  await bare.stop();
  if (
    ctx.checks.length === 0 &&
    ctx.modes.length > 0 &&
    options.scenarios.length === scenarios.length
  )
    check(ctx, 'correctness checks ran', false, 'no check ran');

  const report: BenchReport = {
    schema: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    profile: options.profile.name,
    git,
    machine,
    ...runSettings(options, machine.cpus),
    modes: probed.statuses,
    results: ctx.results,
    skipped: ctx.skipped,
    checks: ctx.checks,
    verdicts: [],
    problems,
    profiles: summarizeProfiles(profileDir(ctx)),
  };
  report.verdicts = judge(report);
  await writeReport(report, options.resultsDir, runId, options.writeDocs && !broken);
  await admin.end();
  await lock.release();

  const failedChecks = ctx.checks.filter((item) => !item.ok);
  if (failedChecks.length > 0) progress.phase(`${failedChecks.length} correctness check(s) FAILED`);
  if (broken) progress.phase('the run is incomplete: see "Problems seen"');
  return failedChecks.length > 0 || broken ? 1 : 0;
}

const exit = (code: number) => {
  killAllChildren();
  process.exit(code);
};
const crashed = (error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  exit(1);
};
process.once('SIGINT', () => exit(130));
process.once('SIGTERM', () => exit(130));
process.on('uncaughtException', crashed);
main().then(exit, crashed);
