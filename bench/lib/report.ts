/**
 * The report of a run: bench/results/<time>.json (every number), <time>.md (the tables, also
 * printed), <time>.svg and .png (the chart) and, after a full run, docs/benchmarks.md. The frame is
 * here (machine, notes, modes, targets, checks, profiles, problems); each scenario writes its own
 * section and judges its own targets (scenarios/).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { reportOrder, scenarios } from '../scenarios/index.js';
import { bareCapacityFor } from '../scenarios/capacity.js';
import { stormRatio } from '../scenarios/storm.js';
import { table } from './format.js';
import { progress } from './progress.js';
import { resultsOf, type BenchReport } from './results.js';
import { projectRoot } from './server.js';
import { ratio } from './stats.js';

export function machineLines({ machine, git }: BenchReport): string[] {
  return [
    `- commit \`${git.commit}\`${git.dirty ? ' (work tree had uncommitted changes)' : ''}`,
    `- ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.os}`,
    `- Node ${machine.node}, PostgreSQL ${machine.postgres}, Redis ${machine.redis}, ${machine.pgbench}`,
    `- load average when the run started: ${machine.loadAverageAtStart}`,
  ];
}

const verdictMark = { met: '✅ met', 'not met': '❌ not met' } as Record<string, string>;

/** The targets, in the order the scenarios run. */
export const judge = (report: Pick<BenchReport, 'results' | 'modes' | 'profile'>) =>
  scenarios.flatMap((scenario) => scenario.verdicts?.(report) ?? []);

/** Everything after the title: used for the per-run file and for docs/benchmarks.md. */
export function reportBody(report: BenchReport, chart?: string): string {
  const sections = [
    `Run ${report.startedAt} → ${report.finishedAt}, **${report.profile}** profile.`,
    '',
    ...machineLines(report),
    '',
    ...report.notes.map((note) => `> ${note}`),
    '',
    '### Modes',
    '',
    table(report.modes, [
      ['mode', (mode) => mode.name],
      ['measured', (mode) => (mode.available ? 'yes' : `not available: ${mode.reason ?? ''}`)],
      ['what it is', (mode) => mode.description],
    ]),
    '',
    '### Targets',
    '',
    table(report.verdicts, [
      ['target', (verdict) => verdict.target],
      ['verdict', (verdict) => verdictMark[verdict.verdict] ?? verdict.verdict],
      ['measured', (verdict) => verdict.detail],
    ]),
    '',
    '### Correctness checks',
    '',
    report.checks.length === 0
      ? 'none ran'
      : report.checks
          .map((item) => `- ${item.ok ? '✅' : '❌'} ${item.name}: ${item.detail}`)
          .join('\n'),
    '',
  ];
  if (chart) sections.push(`![latency percentiles and throughput vs the bare route](${chart})`, '');
  for (const scenario of reportOrder) {
    const section = scenario.section?.(report);
    if (section) sections.push(section, '');
  }
  if (report.profiles.length > 0) {
    sections.push('### CPU profiles (self time, busy samples)', '');
    for (const profile of report.profiles) {
      sections.push(
        `**${profile.file}** — ${profile.busySeconds} s busy, ${Math.round(profile.idleShare * 100)}% idle, ` +
          `${Math.round(profile.garbageCollectionShare * 100)}% of busy time in GC`,
        '',
        table(profile.top, [
          ['self', (entry) => `${(entry.selfShare * 100).toFixed(1)}%`],
          ['function', (entry) => entry.function],
          ['where', (entry) => entry.where],
          ['mostly called from', (entry) => entry.via],
        ]),
        '',
      );
    }
  }
  if (report.skipped.length > 0) {
    sections.push(
      '### Not measured',
      '',
      ...report.skipped.map((item) => `- ${item.scenario} (${item.target}): ${item.reason}`),
      '',
    );
  }
  if (report.problems.length > 0) {
    sections.push('### Problems seen', '', ...report.problems.map((problem) => `- ${problem}`), '');
  }
  sections.push(
    'CPU columns: share of one core used by the server process(es) / the load generator, and how busy the whole machine was ' +
      '(PostgreSQL and anything else included), over the measured window.',
  );
  return sections.join('\n');
}

export const runMarkdown = (report: BenchReport, chart?: string): string =>
  `# Overture benchmark — ${report.startedAt}\n\n${reportBody(report, chart)}\n`;

const percentiles = ['p50', 'p90', 'p95', 'p99', 'max'] as const;

/** One colour per mode in both panels: the bare route grey, then the modes in a fixed order. */
const palette: Record<string, string> = {
  bare: '#8c8c8c',
  postgres: '#4c78a8',
  redis: '#e45756',
  stream: '#54a24b',
};

/**
 * The chart: the seed load test's latency percentiles per mode (log scale), and throughput as a
 * fraction of the bare route measured in the same run.
 */
export function chartSpec(report: BenchReport): TopLevelSpec {
  const latency = resultsOf(report.results, 'seed').flatMap((result) =>
    percentiles.map((percentile) => ({
      mode: result.target,
      variant: result.target === 'bare' ? 'random-user' : result.variant,
      percentile,
      // A log scale has no zero; a sub-10 µs reading is drawn at 0.01 ms.
      ms: Math.max(0.01, result.latency[percentile]),
    })),
  );
  const throughput: { measure: string; target: string; fraction: number }[] = [];
  for (const result of resultsOf(report.results, 'capacity')) {
    if (result.target === 'bare') continue;
    const bare = bareCapacityFor(report.results, result.target, result.connections);
    const fraction = bare ? ratio(result.requestsPerSecond, bare.requestsPerSecond) : null;
    const users = result.variant === 'new-user' ? ', new users' : '';
    const measure = `queue entry${users}, ${result.connections} connections`;
    if (fraction !== null) throughput.push({ measure, target: result.target, fraction });
  }
  for (const result of resultsOf(report.results, 'storm')) {
    const fraction = result.target === 'bare' ? null : stormRatio(report.results, result);
    const measure = `hot-seat storm, N=${result.users}`;
    if (fraction !== null) throughput.push({ measure, target: result.target, fraction });
  }
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
          color: { field: 'target', type: 'nominal', title: 'mode', scale: colors, legend: null },
        },
      },
    ],
  };
}

/** Vega-Lite compiled to Vega, rendered headless to SVG, and to PNG with resvg for viewers without SVG. */
export async function renderChart(report: BenchReport): Promise<{ svg: string; png?: Buffer }> {
  // Vega-Lite's warnings about merging the shared colour scale are expected; keep stderr for progress.
  const compiled = compile(chartSpec(report), { logger: vega.logger(vega.None) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  try {
    const png = new Resvg(svg, {
      background: 'white',
      fitTo: { mode: 'zoom', value: 1.5 },
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    })
      .render()
      .asPng();
    return { svg, png };
  } catch {
    return { svg }; // the SVG is the chart; the PNG is a convenience
  }
}

const docsIntroduction = `# Benchmarks

This page is written by \`npm run bench\` after each full run; do not edit it by hand.
\`bench/README.md\` says how to run the bench, what each scenario measures and what it needs;
\`docs/decisions/0012-performance.md\` what the profiles showed. The run's raw numbers, report and
chart are in \`bench/results/\`, the only run committed there (decision 0022).

## Latest full run
`;

/**
 * Writes the run's files and prints the markdown; with `writeDocs` (a full run of every scenario
 * that broke nothing) rewrites docs/benchmarks.md too.
 */
export async function writeReport(
  report: BenchReport,
  resultsDir: string,
  runId: string,
  writeDocs: boolean,
): Promise<void> {
  const base = path.join(resultsDir, runId);
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
    report.problems.push(
      `chart not rendered: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const markdown = runMarkdown(report, chartFile);
  writeFileSync(`${base}.md`, markdown);
  if (writeDocs) {
    const docs = path.join(projectRoot, 'docs/benchmarks.md');
    const chart = chartFile && path.relative(path.dirname(docs), path.join(resultsDir, chartFile));
    writeFileSync(docs, `${docsIntroduction}\n${reportBody(report, chart)}\n`);
    progress.phase('docs/benchmarks.md rewritten');
    // Only the run docs/benchmarks.md shows stays in the tree (decision 0022); results are ignored
    // by git, so a quick run or an experiment is never committed by accident.
    const folder = path.relative(projectRoot, resultsDir);
    const older = execFileSync('git', ['ls-files', folder], { cwd: projectRoot, encoding: 'utf8' })
      .split('\n')
      .filter((file) => file !== '' && !path.basename(file).startsWith(runId));
    progress.phase(
      `to commit this run: git add -f ${folder}/${runId}.* docs/benchmarks.md` +
        (older.length > 0 ? ` && git rm -q ${older.join(' ')}` : ''),
    );
  }
  process.stdout.write(`\n${markdown}\n`);
  progress.phase(
    `results: ${path.relative(projectRoot, base)}.{json,md${chartFile ? ',svg,png' : ''}}`,
  );
}
