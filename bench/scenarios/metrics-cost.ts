/**
 * The cost of metrics on the hot path (issue 17): the capacity scenario's closed loop on
 * POST /api/v1/queue/token against two servers on one database, METRICS=on and METRICS=off,
 * measured in turns (on, off, then off, on…) so drift on a shared machine falls on both alike.
 * The cost is the share of requests/s metrics take: 1 − on ÷ off (target: under 3%).
 */
import { startMode, withDatabase, type Context, type Scenario } from '../lib/context.js';
import { count, cpuColumn, ms, section, table } from '../lib/format.js';
import { progress } from '../lib/progress.js';
import { resultsOf, type Base } from '../lib/results.js';
import type { ServerProcess } from '../lib/server.js';
import { round } from '../lib/stats.js';
import { runCapacityAgainst, type CapacityResult } from './capacity.js';

export interface MetricsCostResult extends Base {
  kind: 'metrics-cost';
  connections: number;
  runs: { metrics: 'on' | 'off'; run: CapacityResult }[];
  /** Requests/s over every turn of each setting. */
  onRequestsPerSecond: number;
  offRequestsPerSecond: number;
  /** 1 − on ÷ off: the share of capacity metrics cost (negative: noise larger than the cost). */
  cost: number;
  /** Largest ÷ smallest req/s among the turns of one setting, less 1: the run's own noise. */
  spread: number | null;
}

const TARGET = 0.03;

/** How far apart the turns of one setting are (the noise the cost is read against). */
function spread(runs: MetricsCostResult['runs']): number | null {
  if (runs.length < 4) return null;
  const spans = (['on', 'off'] as const).map((metrics) => {
    const rates = runs
      .filter((item) => item.metrics === metrics)
      .map((item) => item.run.requestsPerSecond);
    return Math.min(...rates) > 0 ? Math.max(...rates) / Math.min(...rates) - 1 : 0;
  });
  return round(Math.max(...spans), 4);
}

const overall = (runs: MetricsCostResult['runs'], metrics: 'on' | 'off') => {
  const mine = runs.filter((item) => item.metrics === metrics).map((item) => item.run);
  const requests = mine.reduce((sum, run) => sum + run.requests, 0);
  const seconds = mine.reduce((sum, run) => sum + run.requests / run.requestsPerSecond, 0);
  return seconds > 0 ? requests / seconds : 0;
};

async function run(ctx: Context): Promise<void> {
  const { metricsCost: sizes } = ctx.options.profile;
  const mode =
    ctx.modes.find((item) => item.name === 'redis') ??
    ctx.modes.find((item) => item.name === 'postgres');
  if (!mode) return;
  progress.phase(
    `metrics on the hot path (${mode.name} mode, ${sizes.rounds} × on/off, ${sizes.connections} connections)`,
  );
  const result = await withDatabase(ctx, mode.name, 'metrics-cost', async ({ url }) => {
    const servers: Partial<Record<'on' | 'off', ServerProcess>> = {};
    try {
      for (const metrics of ['on', 'off'] as const)
        servers[metrics] = await startMode(ctx, mode, `metrics-${metrics}`, url, {
          METRICS: metrics,
        });
      const runs: MetricsCostResult['runs'] = [];
      for (let turn = 0; turn < sizes.rounds; turn++) {
        const order = turn % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
        for (const metrics of order) {
          const target = `${mode.name} METRICS=${metrics}`;
          const measured = await runCapacityAgainst(
            [servers[metrics]!],
            target,
            sizes.connections,
            ctx.options.profile,
            { durationSeconds: sizes.durationSeconds },
          );
          runs.push({ metrics, run: measured });
        }
      }
      const on = overall(runs, 'on');
      const off = overall(runs, 'off');
      const measured: MetricsCostResult = {
        kind: 'metrics-cost',
        target: mode.name,
        connections: sizes.connections,
        runs,
        onRequestsPerSecond: round(on, 1),
        offRequestsPerSecond: round(off, 1),
        cost: off > 0 ? round(1 - on / off, 4) : 0,
        spread: spread(runs),
      };
      return measured;
    } finally {
      for (const server of Object.values(servers)) await server.stop();
    }
  });
  ctx.results.push(result);
}

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

const noise = (result: MetricsCostResult) =>
  result.spread === null
    ? 'one turn of each: no noise measured'
    : `the turns of one setting differ by up to ${percent(result.spread)}, the noise to read the cost against`;

export const metricsCostScenario: Scenario = {
  name: 'metrics-cost',
  run,

  section(report) {
    const [result] = resultsOf(report.results, 'metrics-cost');
    if (!result) return undefined;
    return section(
      `Metrics on the hot path (${result.target} mode)`,
      `POST /api/v1/queue/token in the capacity scenario's closed loop (${result.connections} connections) against two servers on one database, ` +
        'METRICS=on and METRICS=off, in turns. ' +
        `Over all turns: on ${count(result.onRequestsPerSecond)} req/s, off ${count(result.offRequestsPerSecond)} req/s, ` +
        `**cost ${percent(result.cost)}** of capacity (target < 3%); ${noise(result)}.`,
      table(result.runs, [
        ['turn', (r) => `METRICS=${r.metrics}`],
        ['req/s', (r) => count(r.run.requestsPerSecond)],
        ['p50', (r) => ms(r.run.latency.p50)],
        ['p99', (r) => ms(r.run.latency.p99)],
        ['non-2xx / errors', (r) => `${count(r.run.non2xx)} / ${count(r.run.errors)}`],
        cpuColumn((r) => r.run.usage),
      ]),
    );
  },

  verdicts(input) {
    const target = 'Metrics cost on the hot path under 3% of capacity (METRICS=on vs off)';
    const [result] = resultsOf(input.results, 'metrics-cost');
    if (!result) return [{ target, verdict: 'not measured', detail: 'no metrics-cost run' }];
    return [
      {
        target,
        // One turn of each (the quick profile) is too short to judge a few percent.
        verdict: result.spread === null ? 'reported' : result.cost < TARGET ? 'met' : 'not met',
        detail: `${result.target}: on ${Math.round(result.onRequestsPerSecond)} req/s ÷ off ${Math.round(result.offRequestsPerSecond)} req/s = ${round(result.onRequestsPerSecond / result.offRequestsPerSecond, 3)}×, cost ${percent(result.cost)}; ${noise(result)}`,
      },
    ];
  },
};
