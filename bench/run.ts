/**
 * `npm run bench` — builds Overture, starts the compiled server per queue mode (plus a bare
 * Fastify route as the machine's ceiling), drives it from separate load-generator processes, and
 * writes bench/results/<time>.{json,md,svg,png}; a full run also rewrites docs/benchmarks.md.
 * Speed never fails the run; a broken harness or a failed correctness check does (exit code 1).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { renderChart } from './lib/chart.js';
import { benchServerEnv, check, profileDir, type Context } from './lib/context.js';
import { writeDocs } from './lib/docs.js';
import { describeMachine, gitState } from './lib/machine.js';
import {
  provideKafka,
  queueModes,
  readBuildFeatures,
  redisUrl,
  resetBenchRedis,
  type BuildFeatures,
  type QueueMode,
} from './lib/modes.js';
import { parseOptions, usage, type Options, type ScenarioName } from './lib/options.js';
import { adminUrl, dropDatabase, openPool, recreateDatabase } from './lib/postgres.js';
import { summarizeProfiles } from './lib/profile.js';
import { progress } from './lib/progress.js';
import { runMarkdown } from './lib/report.js';
import type { BenchReport, ModeStatus } from './lib/results.js';
import {
  killAllChildren,
  projectRoot,
  ServerStartError,
  startBare,
  startOverture,
} from './lib/server.js';
import { judge } from './lib/verdicts.js';
import { capacityScenario } from './scenarios/capacity.js';
import { pgbenchScenario } from './scenarios/pgbench.js';
import { pollingScenario } from './scenarios/polling.js';
import { purchaseScenario } from './scenarios/purchase.js';
import { roundTripScenario } from './scenarios/round-trips.js';
import { scaleOutScenario } from './scenarios/scale-out.js';
import { seedScenario } from './scenarios/seed.js';
import { stormScenario } from './scenarios/storm.js';

const scenarios: Record<ScenarioName, (ctx: Context) => Promise<void>> = {
  seed: seedScenario,
  capacity: capacityScenario,
  polling: pollingScenario,
  storm: stormScenario,
  // Round trips run before pgbench, which compares its script with the payment they record.
  'round-trips': roundTripScenario,
  purchase: purchaseScenario,
  pgbench: pgbenchScenario,
  'scale-out': scaleOutScenario,
};

const order: ScenarioName[] = [
  'seed',
  'capacity',
  'polling',
  'storm',
  'round-trips',
  'purchase',
  'pgbench',
  'scale-out',
];

function build(): void {
  progress.phase('npm run build');
  const result = spawnSync('npm', ['run', 'build'], { cwd: projectRoot, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`npm run build failed with exit code ${result.status}`);
}

/** Starts each requested mode once; a mode whose server refuses to start is "not available". */
async function probeModes(
  options: Options,
  admin: pg.Pool,
  features: BuildFeatures,
): Promise<{ statuses: ModeStatus[]; available: QueueMode[]; failures: string[] }> {
  const statuses: ModeStatus[] = [];
  const available: QueueMode[] = [];
  const failures: string[] = [];
  for (const name of options.modes) {
    const mode = queueModes.find((item) => item.name === name);
    if (!mode)
      throw new Error(
        `Unknown mode "${name}" (known: ${queueModes.map((item) => item.name).join(', ')})`,
      );
    const status: ModeStatus = { name, description: mode.description, available: false };
    statuses.push(status);
    const precondition = mode.unavailableBecause(features);
    if (precondition !== undefined) {
      status.reason = precondition;
      progress.line(`mode ${name}`, `not available: ${precondition}`);
      continue;
    }
    const database = `overture_bench_${name}_probe`;
    const url = await recreateDatabase(admin, database);
    await resetBenchRedis();
    try {
      const server = await startOverture({
        label: `${name}-probe`,
        databaseUrl: url,
        env: { ...benchServerEnv, ...mode.env(features), ...options.serverEnv },
      });
      await server.stop();
      status.available = true;
      available.push(mode);
      progress.line(`mode ${name}`, 'available');
    } catch (error) {
      if (!(error instanceof ServerStartError)) throw error;
      status.reason = `server refused to start: ${error.reason.split('\n').slice(-3).join(' ').slice(0, 400)}`;
      progress.line(`mode ${name}`, `not available: ${status.reason}`);
      if (mode.required) failures.push(`${name} mode (required) did not start: ${error.reason}`);
    } finally {
      await dropDatabase(admin, database);
    }
  }
  return { statuses, available, failures };
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  const options = parsed;
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
  const features = await readBuildFeatures();
  if (options.modes.includes('stream')) await provideKafka();
  const probed = await probeModes(options, admin, features);
  const problems = [...probed.failures];
  const bare = await startBare();
  const ctx: Context = {
    options,
    admin,
    features,
    modes: probed.available,
    bare,
    runId,
    results: [],
    checks: [],
    skipped: [],
    problems,
  };
  let broken = probed.failures.length > 0;
  for (const name of order.filter((item) => options.scenarios.includes(item))) {
    try {
      await scenarios[name](ctx);
    } catch (error) {
      broken = true;
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      problems.push(`scenario ${name} broke: ${text.split('\n').slice(0, 4).join(' | ')}`);
      progress.line('error', `${name}: ${text}`);
    }
  }
  await bare.stop();
  if (ctx.checks.length === 0 && ctx.modes.length > 0 && options.scenarios.length === order.length)
    check(ctx, 'correctness checks ran', false, 'no check ran');

  const report: BenchReport = {
    schema: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    profile: options.profile.name,
    git,
    machine,
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
      identity:
        'Client-Id header, as in the seed (AUTH_MODE=client-id, ALLOW_CLIENT_ID_AUTH=true when the build has them)',
      rateLimits:
        'on, with every RATE_LIMIT_*_MAX and SSE_MAX_STREAMS_PER_ADDRESS the build has raised to 1,000,000: all simulated users share one loopback address',
    },
    notes: [
      'Servers run as production would: compiled JavaScript (`node dist/main.js`), NODE_ENV=production, LOG_LEVEL=warn.',
      `Both cores are shared: the server, the load generator (a separate Node process), PostgreSQL and Redis all run on the same ${machine.cpus} cores, ` +
        'with whatever else the machine is doing. Judge by the ratios measured in one run, not by absolute numbers.',
      'Users are named by the Client-Id header (the seed’s contract). Rate limiting stays on with its limits raised out of reach: ' +
        'every simulated user shares one loopback address.',
      ...(options.quick
        ? [
            'Quick profile: small sizes and 4-second ramps — a smoke run that keeps the harness alive, not a measurement.',
          ]
        : []),
    ],
    modes: probed.statuses,
    results: ctx.results,
    skipped: ctx.skipped,
    checks: ctx.checks,
    verdicts: [],
    problems,
    profiles: summarizeProfiles(profileDir(ctx)),
  };
  report.verdicts = judge(report);

  const base = path.join(options.resultsDir, runId);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  let chartFile: string | undefined;
  try {
    const chart = await renderChart(report);
    writeFileSync(`${base}.svg`, chart.svg);
    chartFile = `${runId}.svg`;
    if (chart.png) {
      writeFileSync(`${base}.png`, chart.png);
      chartFile = `${runId}.png`;
    }
  } catch (error) {
    problems.push(`chart not rendered: ${error instanceof Error ? error.message : String(error)}`);
  }
  const markdown = runMarkdown(report, chartFile);
  writeFileSync(`${base}.md`, markdown);
  if (options.writeDocs && !broken) {
    writeDocs(
      report,
      chartFile === undefined ? undefined : path.join(options.resultsDir, chartFile),
    );
    progress.phase('docs/benchmarks.md rewritten');
  }
  process.stdout.write(`\n${markdown}\n`);
  progress.phase(
    `results: ${path.relative(projectRoot, base)}.{json,md${chartFile ? ',svg,png' : ''}}`,
  );
  await admin.end();

  const failedChecks = ctx.checks.filter((item) => !item.ok);
  if (failedChecks.length > 0) progress.phase(`${failedChecks.length} correctness check(s) FAILED`);
  if (broken) progress.phase('the run is incomplete: see "Problems seen"');
  return failedChecks.length > 0 || broken ? 1 : 0;
}

const interrupt = () => {
  killAllChildren();
  process.exit(130);
};
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);
process.on('uncaughtException', (error) => {
  killAllChildren();
  process.stderr.write(`bench crashed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});

main()
  .then((code) => {
    killAllChildren();
    process.exit(code);
  })
  .catch((error: unknown) => {
    killAllChildren();
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
