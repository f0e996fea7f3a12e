import path from 'node:path';
import type pg from 'pg';
import { machineCpuTicks } from './machine.js';
import { resetBenchRedis, serverEnv, type QueueMode } from './modes.js';
import type { Options, ScenarioName } from './options.js';
import { databaseUrl, dropDatabase, recreateDatabase } from './postgres.js';
import { progress } from './progress.js';
import type { BenchReport, Check, ScenarioResult, Usage, Verdict } from './results.js';
import { startOverture, type ServerProcess } from './server.js';

export interface Context {
  options: Options;
  admin: pg.Pool;
  /** Modes whose server started in the availability probe. */
  modes: QueueMode[];
  bare: ServerProcess;
  runId: string;
  results: ScenarioResult[];
  checks: Check[];
  skipped: { scenario: string; target: string; reason: string }[];
  problems: string[];
}

/** A scenario of `npm run bench`: how it runs, its part of the report and the targets it judges. */
export interface Scenario {
  name: ScenarioName;
  run(ctx: Context): Promise<void>;
  /** Its section of the report, from the results it recorded (undefined: none). */
  section?(report: Pick<BenchReport, 'results'>): string | undefined;
  /** The targets it measures, judged on ratios measured in the same run. */
  verdicts?(report: Pick<BenchReport, 'results' | 'modes' | 'profile'>): Verdict[];
}

export interface BenchDatabase {
  name: string;
  url: string;
}

export function databaseName(mode: string, scenario: string): string {
  return `overture_bench_${mode}_${scenario}`.replace(/[^a-z0-9_]/g, '_');
}

/**
 * Runs `work` on a fresh database of its own (dropped and recreated, the bench's Redis emptied),
 * then drops it (unless --keep-databases).
 */
export async function withDatabase<T>(
  ctx: Context,
  mode: string,
  scenario: string,
  work: (database: BenchDatabase) => Promise<T>,
): Promise<T> {
  const name = databaseName(mode, scenario);
  const url = await recreateDatabase(ctx.admin, name);
  await resetBenchRedis();
  try {
    return await work({ name, url });
  } finally {
    if (!ctx.options.keepDatabases) await dropDatabase(ctx.admin, name);
  }
}

/** Starts a server of `mode` on `databaseUrl` (it migrates and seeds on start). */
export const startMode = (
  ctx: Context,
  mode: QueueMode,
  label: string,
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<ServerProcess> =>
  startOverture({
    label: `${mode.name}-${label}`,
    databaseUrl,
    env: serverEnv(ctx.options, mode, env),
    cpuProfileDir: profileDir(ctx),
  });

/** Runs `work` against a server of `mode` on a fresh database of its own, then stops both. */
export function withOverture<T>(
  ctx: Context,
  mode: QueueMode,
  scenario: string,
  env: Record<string, string>,
  work: (server: ServerProcess, database: BenchDatabase) => Promise<T>,
  /** Connect the server through this local port (a counting proxy) instead of PostgreSQL's. */
  databasePort?: number,
): Promise<T> {
  return withDatabase(ctx, mode.name, scenario, async (database) => {
    const url =
      databasePort === undefined ? database.url : databaseUrl(database.name, databasePort);
    const server = await startMode(ctx, mode, scenario, url, env);
    try {
      return await work(server, database);
    } finally {
      const code = await server.stop();
      if (code !== 0 && code !== null)
        ctx.problems.push(`${mode.name}/${scenario}: server exited with code ${code} on SIGTERM`);
    }
  });
}

export const profileDir = (ctx: Pick<Context, 'options' | 'runId'>): string | undefined =>
  ctx.options.cpuProfile ? path.join(ctx.options.resultsDir, `${ctx.runId}-profiles`) : undefined;

/** Starts measuring CPU use; the returned function ends the window. */
export function measureUsage(server: ServerProcess | ServerProcess[]) {
  const servers = Array.isArray(server) ? server : [server];
  const started = Date.now();
  const cpuBefore = servers.map((item) => item.cpuSeconds());
  const logsBefore = servers.map((item) => item.logs());
  const ticksBefore = machineCpuTicks();
  return (generatorCpuSeconds: number | null): Usage => {
    const ticksAfter = machineCpuTicks();
    let serverCpu: number | null = 0;
    let errors = 0;
    let warnings = 0;
    const samples: string[] = [];
    for (const [index, item] of servers.entries()) {
      const before = cpuBefore[index];
      const after = item.cpuSeconds();
      serverCpu =
        before === undefined || after === undefined || serverCpu === null
          ? null
          : serverCpu + after - before;
      const logs = item.logs();
      errors += logs.errors - logsBefore[index]!.errors;
      warnings += logs.warnings - logsBefore[index]!.warnings;
      for (const sample of logs.samples) if (!samples.includes(sample)) samples.push(sample);
    }
    const total = ticksAfter.total - ticksBefore.total;
    const hundredths = (value: number) => Math.round(value * 100) / 100;
    return {
      seconds: (Date.now() - started) / 1000,
      serverCpuSeconds: serverCpu === null ? null : hundredths(serverCpu),
      generatorCpuSeconds: generatorCpuSeconds === null ? null : hundredths(generatorCpuSeconds),
      machineBusy:
        total > 0 ? Math.round(((ticksAfter.busy - ticksBefore.busy) / total) * 1000) / 1000 : null,
      serverLogErrors: errors,
      serverLogWarnings: warnings,
      serverLogSamples: errors > 0 ? samples : [],
    };
  };
}

export function check(ctx: Context, name: string, ok: boolean, detail: string): void {
  ctx.checks.push({ name, ok, detail });
  progress.line('check', `${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
}
