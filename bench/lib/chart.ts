/**
 * The chart: the seed load test's latency percentiles per mode (log scale), and throughput as a
 * fraction of the bare route measured in the same run. Vega-Lite compiled to Vega, rendered
 * headless to SVG, and to PNG with resvg for viewers that do not show SVG.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { bareCapacityFor, bareStormFor, type BenchReport, type ScenarioResult } from './results.js';
import { ratio } from './stats.js';

const of = <K extends ScenarioResult['kind']>(results: ScenarioResult[], kind: K) =>
  results.filter((result): result is Extract<ScenarioResult, { kind: K }> => result.kind === kind);

const percentiles = ['p50', 'p90', 'p95', 'p99', 'max'] as const;

function latencyRows(report: BenchReport) {
  return of(report.results, 'seed').flatMap((result) =>
    percentiles.map((percentile) => ({
      mode: result.target,
      variant: result.target === 'bare' ? 'random-user' : result.variant,
      percentile,
      // A log scale has no zero; a sub-10 µs reading is drawn at 0.01 ms.
      ms: Math.max(0.01, result.latency[percentile]),
    })),
  );
}

function throughputRows(report: BenchReport) {
  const rows: { measure: string; target: string; fraction: number }[] = [];
  const capacities = of(report.results, 'capacity');
  for (const result of capacities) {
    if (result.target === 'bare') continue;
    const bare = bareCapacityFor(report.results, result.target, result.connections);
    const value = bare ? ratio(result.requestsPerSecond, bare.requestsPerSecond) : null;
    if (value !== null)
      rows.push({
        measure: `queue entry, ${result.connections} connections`,
        target: result.target,
        fraction: value,
      });
  }
  const storms = of(report.results, 'storm');
  for (const result of storms) {
    const bareStorm = bareStormFor(report.results, result.target);
    if (result.target === 'bare' || !bareStorm) continue;
    const value = ratio(result.requestsPerSecond, bareStorm.requestsPerSecond);
    if (value !== null)
      rows.push({
        measure: `hot-seat storm, N=${result.users}`,
        target: result.target,
        fraction: value,
      });
  }
  return rows;
}

/** One colour per mode in both panels: the bare route grey, then the modes in a fixed order. */
const palette: Record<string, string> = {
  bare: '#8c8c8c',
  postgres: '#4c78a8',
  redis: '#e45756',
  stream: '#54a24b',
};

export function chartSpec(report: BenchReport): TopLevelSpec {
  const latency = latencyRows(report);
  const throughput = throughputRows(report);
  const modes = [
    ...new Set([...latency.map((row) => row.mode), ...throughput.map((row) => row.target)]),
  ];
  const colors = { domain: modes, range: modes.map((mode) => palette[mode] ?? '#b279a2') };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `Overture benchmark (${report.profile}) — ${report.git.commit.slice(0, 10)}`,
      subtitle: `${report.machine.cpus} cores shared by server, load generator and PostgreSQL · ${report.startedAt}`,
    },
    config: { font: 'DejaVu Sans', view: { stroke: null } },
    vconcat: [
      {
        title: {
          text: 'Seed load test: latency from due time (ms, log scale)',
          subtitle:
            'solid: a random user among 1000 (as the seed ran it) · dashed: every request a new user',
        },
        width: 640,
        height: 260,
        data: { values: latency },
        mark: { type: 'line', point: { size: 60 }, tooltip: true },
        encoding: {
          x: {
            field: 'percentile',
            type: 'ordinal',
            sort: [...percentiles],
            title: null,
            axis: { labelAngle: 0 },
          },
          y: {
            field: 'ms',
            type: 'quantitative',
            scale: { type: 'log' },
            title: 'ms',
            axis: { format: '~s' },
          },
          color: {
            field: 'mode',
            type: 'nominal',
            title: 'mode',
            scale: colors,
            legend: { orient: 'bottom' },
          },
          strokeDash: {
            field: 'variant',
            type: 'nominal',
            title: 'users',
            scale: {
              domain: ['random-user', 'new-user'],
              range: [
                [1, 0],
                [6, 4],
              ],
            },
            legend: null,
          },
          detail: { field: 'variant', type: 'nominal' },
        },
      },
      {
        title: 'Throughput as a fraction of the bare route (same run)',
        width: 640,
        height: { step: 22 },
        data: {
          values:
            throughput.length > 0 ? throughput : [{ measure: 'no data', target: '-', fraction: 0 }],
        },
        layer: [
          {
            mark: { type: 'bar', tooltip: true },
            encoding: {
              y: { field: 'measure', type: 'nominal', title: null, axis: { labelLimit: 320 } },
              yOffset: { field: 'target', type: 'nominal' },
              x: {
                field: 'fraction',
                type: 'quantitative',
                title: '× bare route (1.0 = the bare route)',
                scale: { domain: [0, Math.max(1, ...throughput.map((row) => row.fraction))] },
                axis: { format: '.1f' },
              },
              color: {
                field: 'target',
                type: 'nominal',
                title: 'mode',
                scale: colors,
                legend: null,
              },
            },
          },
          {
            mark: { type: 'rule', color: '#444', strokeDash: [4, 3] },
            encoding: { x: { datum: 1 } },
          },
          {
            mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
            encoding: {
              y: { field: 'measure', type: 'nominal' },
              yOffset: { field: 'target', type: 'nominal' },
              x: { field: 'fraction', type: 'quantitative' },
              text: { field: 'fraction', type: 'quantitative', format: '.2f' },
            },
          },
        ],
      },
    ],
  };
}

export async function renderChart(
  report: BenchReport,
): Promise<{ svg: string; png: Buffer | undefined }> {
  // Vega-Lite's warnings about merging the shared colour scale are expected; keep stderr for progress.
  const compiled = compile(chartSpec(report), { logger: vega.logger(vega.None) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  let png: Buffer | undefined;
  try {
    const rendered = new Resvg(svg, {
      background: 'white',
      fitTo: { mode: 'zoom', value: 1.5 },
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    }).render();
    png = rendered.asPng();
  } catch {
    png = undefined; // the SVG is the chart; the PNG is a convenience
  }
  return { svg, png };
}
