/** The markdown report: one table per scenario, the verdicts, the machine and the caveats. */
import type { BenchReport, CapacityResult, ScenarioResult, SeedResult, Usage } from './results.js';
import { bareCapacityFor, bareStormFor } from './results.js';
import type { LatencySummary } from './stats.js';
import { ratio } from './stats.js';

const ms = (value: number): string =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

const times = (value: number | null): string => (value === null ? '–' : `${value.toFixed(2)}×`);

function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) =>
    `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

const latencyCells = (latency: LatencySummary): string[] => [
  ms(latency.p50),
  ms(latency.p90),
  ms(latency.p95),
  ms(latency.p99),
  ms(latency.max),
];

const cpu = (usage: Usage | undefined): string => {
  if (!usage) return '–';
  const server =
    usage.serverCpuSeconds === null
      ? '?'
      : `${Math.round((usage.serverCpuSeconds / usage.seconds) * 100)}%`;
  const generator =
    usage.generatorCpuSeconds === null
      ? '?'
      : `${Math.round((usage.generatorCpuSeconds / usage.seconds) * 100)}%`;
  const machine = usage.machineBusy === null ? '?' : `${Math.round(usage.machineBusy * 100)}%`;
  return `${server} / ${generator} / ${machine}`;
};

const ratioToBare = (value: number, bare: { requestsPerSecond: number } | undefined) =>
  bare ? ratio(value, bare.requestsPerSecond) : null;

/** Runs recorded before a field existed show a dash. */
const optional = (value: number | undefined): string => (value === undefined ? '–' : String(value));

/** ["EVALSHA", "EVALSHA", "GET"] → "EVALSHA ×2, GET". */
const summarizeNames = (names: string[] | undefined): string => {
  if (!names || names.length === 0) return '';
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, n]) => (n > 1 ? `${name} ×${n}` : name)).join(', ');
};

const of = <K extends ScenarioResult['kind']>(results: ScenarioResult[], kind: K) =>
  results.filter((result): result is Extract<ScenarioResult, { kind: K }> => result.kind === kind);

function seedSection(report: BenchReport): string | undefined {
  const seeds = of(report.results, 'seed');
  if (seeds.length === 0) return undefined;
  const rows = seeds.map((result: SeedResult) => [
    result.target + (result.instances > 1 ? ` ×${result.instances}` : ''),
    result.variant,
    count(result.scheduled),
    count(result.requestsPerSecond),
    ...latencyCells(result.latency),
    ms(result.serviceTime.p99),
    `${count(result.failed)} (${(result.failureRate * 100).toFixed(2)}%)`,
    result.target === 'bare' ? '–' : result.thresholds.pass ? 'pass' : '**fail**',
    result.target === 'bare' ? '–' : result.p99Under10ms ? 'yes' : 'no',
    cpu(result.usage),
  ]);
  return [
    '### Seed load test (open loop)',
    '',
    'POST /api/v1/queue/token at an arrival rate of 0 → 1,667/s, held, → 0; at most 1000 in flight. ' +
      'Latency in ms from each request’s **due time** (no coordinated omission); “server p99” is from the moment it was sent. ' +
      'Seed thresholds: p90 < 1 s, p95 < 1 s, max < 2 s, failures < 1%.',
    '',
    table(
      [
        'target',
        'users',
        'requests',
        'req/s',
        'p50',
        'p90',
        'p95',
        'p99',
        'max',
        'server p99',
        'failed',
        'seed thresholds',
        'p99 < 10 ms',
        'CPU server / generator / machine',
      ],
      rows,
    ),
  ].join('\n');
}

function capacitySection(report: BenchReport): string | undefined {
  const results = of(report.results, 'capacity');
  if (results.length === 0) return undefined;
  const rows = results.map((result: CapacityResult) => {
    const base = bareCapacityFor(report.results, result.target, result.connections);
    return [
      result.target === 'bare' && result.pairedWith !== undefined
        ? `bare (before ${result.pairedWith})`
        : result.target,
      String(result.connections),
      count(result.requestsPerSecond),
      result.target === 'bare'
        ? '1.00×'
        : times(base ? ratio(result.requestsPerSecond, base.requestsPerSecond) : null),
      ...latencyCells(result.latency),
      result.target === 'bare'
        ? '1.00×'
        : times(base ? ratio(result.latency.p99, base.latency.p99) : null),
      `${count(result.non2xx)} / ${count(result.errors)}`,
      result.allConnectionsAnsweredSeconds === undefined
        ? 'never'
        : `${result.allConnectionsAnsweredSeconds.toFixed(2)} s`,
      cpu(result.usage),
    ];
  });
  return [
    '### Capacity (closed loop, autocannon)',
    '',
    'POST /api/v1/queue/token, each request from a random user among 1000, every connection sending its next request when the answer arrives. ' +
      'The bare route runs right before each mode, and the mode is compared with that run. ' +
      'Connections open together at the start and carry an unmeasured warm-up before the measured window. ' +
      '"Every connection answered" is when the last connection got its first answer: a busy Node server accepts one connection per event-loop iteration (libuv ≥ 1.45), so a saturated server takes seconds to accept 1,000 connections opened at once (docs/decisions/0012).',
    '',
    table(
      [
        'target',
        'connections',
        'req/s',
        '× bare',
        'p50',
        'p90',
        'p95',
        'p99',
        'max',
        'p99 × bare',
        'non-2xx / errors',
        'every connection answered',
        'CPU server / generator / machine',
      ],
      rows,
    ),
  ].join('\n');
}

function scaleOutSection(report: BenchReport): string | undefined {
  const results = of(report.results, 'scale-out');
  if (results.length === 0) return undefined;
  return [
    '### Scale-out',
    '',
    'The seed load test (random users) and the closed-loop capacity run against 1 and 2 server processes sharing one database and Redis; requests alternate between the instances.',
    '',
    table(
      [
        'mode',
        'processes',
        'seed req/s',
        'seed p50',
        'seed p95',
        'seed p99',
        'seed max',
        'seed failed',
        'seed thresholds',
        'capacity connections',
        'capacity req/s',
        'capacity p99',
        'CPU servers / generator / machine (capacity)',
      ],
      results.map((result) => [
        result.target,
        String(result.instances),
        count(result.seed.requestsPerSecond),
        ms(result.seed.latency.p50),
        ms(result.seed.latency.p95),
        ms(result.seed.latency.p99),
        ms(result.seed.latency.max),
        count(result.seed.failed),
        result.seed.thresholds.pass ? 'pass' : '**fail**',
        String(result.capacity.connections),
        count(result.capacity.requestsPerSecond),
        ms(result.capacity.latency.p99),
        cpu(result.capacity.usage),
      ]),
    ),
  ].join('\n');
}

function pollingSection(report: BenchReport): string | undefined {
  const results = of(report.results, 'polling');
  if (results.length === 0) return undefined;
  return [
    '### Position polling',
    '',
    'WAITING users (MAX_ACTIVE=50) polling GET /api/v1/queue/token in a closed loop; a sample of tokens re-read afterwards.',
    '',
    table(
      [
        'mode',
        'waiting users',
        'connections',
        'polls/s',
        'p50',
        'p90',
        'p95',
        'p99',
        'max',
        'non-2xx / errors',
        'positions',
        'SSE streams',
        'CPU server / generator / machine',
      ],
      results.map((result) => [
        result.target,
        count(result.waitingUsers),
        String(result.connections),
        count(result.requestsPerSecond),
        ...latencyCells(result.latency),
        `${count(result.non2xx)} / ${count(result.errors)}`,
        `${result.positions.sampled} sampled, ${result.positions.distinct && result.positions.inRange ? 'consistent' : '**inconsistent**'}`,
        result.sse.available
          ? `${result.sse.opened}/${result.sse.streams} open, ${result.sse.events} events, ${result.sse.errors} errors`
          : `not available (${result.sse.reason ?? ''})`,
        cpu(result.usage),
      ]),
    ),
  ].join('\n');
}

function stormSection(report: BenchReport): string | undefined {
  const results = of(report.results, 'storm');
  if (results.length === 0) return undefined;
  return [
    '### Hot-seat storm',
    '',
    'N users with ACTIVE tokens POST a hold of the same seat, all due at the same instant. Latency in ms from the storm’s start. ' +
      'Transactions: pg_stat_database commits + rollbacks of the storm’s database during the storm (less an idle server start).',
    '',
    table(
      [
        'target',
        'N',
        'connections',
        'winners',
        '409 SEAT_ALREADY_HELD',
        'other',
        'drain s',
        'req/s',
        '× bare',
        'p50',
        'p90',
        'p95',
        'p99',
        'max',
        'DB transactions',
        'per request',
        'CPU server / generator / machine',
      ],
      results.map((result) => [
        result.target === 'bare' && result.pairedWith !== undefined
          ? `bare (before ${result.pairedWith})`
          : result.target,
        count(result.users),
        String(result.connections),
        result.target === 'bare' ? '–' : String(result.winners),
        result.target === 'bare' ? '–' : count(result.alreadyHeld),
        result.target === 'bare'
          ? '–'
          : Object.entries(result.otherOutcomes)
              .map(([key, value]) => `${key}: ${value}`)
              .join(', ') || '0',
        result.drainSeconds.toFixed(2),
        count(result.requestsPerSecond),
        result.target === 'bare'
          ? '1.00×'
          : times(
              ratioToBare(result.requestsPerSecond, bareStormFor(report.results, result.target)),
            ),
        ...latencyCells(result.latency),
        result.transactions === null ? '–' : count(result.transactions),
        result.transactionsPerRequest === null ? '–' : result.transactionsPerRequest.toFixed(2),
        cpu(result.usage),
      ]),
    ),
  ].join('\n');
}

function purchaseSection(report: BenchReport): string | undefined {
  const results = of(report.results, 'purchase');
  const pgbench = of(report.results, 'pgbench')[0];
  if (results.length === 0 && !pgbench) return undefined;
  const parts = ['### Full purchase flow', ''];
  if (results.length > 0) {
    parts.push(
      'Users join, poll until ACTIVE (every ~poll interval ±50%), list concerts and a seat map, hold a random free seat (another on 409), charge the price, pay. ' +
        'Purchases/s from the first to the last completed purchase. Step latencies are p50 / p99 in ms.',
      '',
      table(
        [
          'mode',
          'users',
          'MAX_ACTIVE',
          'poll ms',
          'completed',
          'purchases/s',
          'peak/s',
          'requests',
          'join',
          'poll',
          'concerts',
          'seats',
          'hold',
          'charge',
          'pay',
          'failures',
          'invariants',
          'CPU server / generator / machine',
        ],
        results.map((result) => {
          const step = (name: string) => {
            const summary = result.steps[name];
            return summary && summary.count > 0 ? `${ms(summary.p50)} / ${ms(summary.p99)}` : '–';
          };
          const failures = Object.entries(result.failures)
            .map(([key, value]) => `${key}: ${value}`)
            .join(', ');
          return [
            result.target,
            count(result.users),
            String(result.maxActive),
            String(result.pollIntervalMs),
            count(result.completed),
            result.purchasesPerSecond.toFixed(1),
            String(result.peakPurchasesPerSecond),
            count(result.requests),
            step('join'),
            step('poll'),
            step('concerts'),
            step('seats'),
            step('hold'),
            step('charge'),
            step('pay'),
            failures || '0',
            result.violations.length === 0 ? 'hold' : `**${result.violations.length} violated**`,
            cpu(result.usage),
          ];
        }),
      ),
      '',
    );
  }
  if (pgbench) {
    parts.push(
      `PostgreSQL alone (pgbench, ${pgbench.clients} clients like the server's pool, ${pgbench.protocol}): ` +
        `**${pgbench.transactionsPerSecond.toLocaleString('en-US')} payment transactions/s**, ${pgbench.latencyAverageMs} ms average, ` +
        `${pgbench.statementsPerTransaction} statements per transaction, ${count(pgbench.transactions)} transactions.` +
        (pgbench.drift ? ` Warning: ${pgbench.drift}.` : ''),
      '',
    );
  }
  return parts.join('\n');
}

function roundTripSection(report: BenchReport): string | undefined {
  const results = of(report.results, 'round-trips');
  if (results.length === 0) return undefined;
  const parts = [
    '### Round trips per request',
    '',
    'Counted by protocol-aware proxies between the server and PostgreSQL / Redis, one request at a time (median of the runs). ' +
      '“after” = what the 300 ms after the answer saw (work the request woke: admission, outbox).',
    '',
    table(
      [
        'mode',
        'request',
        'PostgreSQL round trips',
        'statements',
        'transactions',
        'after',
        'Redis commands',
        'after',
        'Redis commands sent',
      ],
      results.flatMap((result) =>
        result.steps.map((step) => [
          result.target,
          step.step,
          String(step.roundTrips),
          String(step.statements),
          String(step.transactions),
          String(step.afterwards),
          optional(step.redisCommands),
          optional(step.redisAfterwards),
          summarizeNames(step.redisCommandNames),
        ]),
      ),
    ),
  ];
  const payment = results.find((item) => item.paymentStatements.length > 0);
  if (payment) {
    parts.push(
      '',
      `<details><summary>Statements of one payment (${payment.target} mode)</summary>`,
      '',
      ...payment.paymentStatements.map(
        (text, index) => `${index + 1}. \`${text.length > 160 ? `${text.slice(0, 157)}…` : text}\``,
      ),
      '',
      '</details>',
    );
  }
  return parts.join('\n');
}

export function machineLines(report: BenchReport): string[] {
  const { machine, git } = report;
  return [
    `- commit \`${git.commit}\`${git.dirty ? ' (work tree had uncommitted changes)' : ''}`,
    `- ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.os}`,
    `- Node ${machine.node}, PostgreSQL ${machine.postgres}, Redis ${machine.redis}, ${machine.pgbench}`,
    `- load average when the run started: ${machine.loadAverageAtStart}`,
  ];
}

export function verdictTable(report: BenchReport): string {
  return table(
    ['target', 'verdict', 'measured'],
    report.verdicts.map((verdict) => [
      verdict.target,
      verdict.verdict === 'met'
        ? '✅ met'
        : verdict.verdict === 'not met'
          ? '❌ not met'
          : verdict.verdict,
      verdict.detail,
    ]),
  );
}

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
    table(
      ['mode', 'measured', 'what it is'],
      report.modes.map((mode) => [
        mode.name,
        mode.available ? 'yes' : `not available: ${mode.reason ?? ''}`,
        mode.description,
      ]),
    ),
    '',
    '### Targets',
    '',
    verdictTable(report),
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
  for (const section of [
    seedSection(report),
    capacitySection(report),
    scaleOutSection(report),
    pollingSection(report),
    stormSection(report),
    purchaseSection(report),
    roundTripSection(report),
  ]) {
    if (section) sections.push(section, '');
  }
  if (report.profiles.length > 0) {
    sections.push('### CPU profiles (self time, busy samples)', '');
    for (const profile of report.profiles) {
      sections.push(
        `**${profile.file}** — ${profile.busySeconds} s busy, ${Math.round(profile.idleShare * 100)}% idle, ` +
          `${Math.round(profile.garbageCollectionShare * 100)}% of busy time in GC`,
        '',
        table(
          ['self', 'function', 'where', 'mostly called from'],
          profile.top.map((entry) => [
            `${(entry.selfShare * 100).toFixed(1)}%`,
            entry.function,
            entry.where,
            entry.via,
          ]),
        ),
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

export function runMarkdown(report: BenchReport, chart?: string): string {
  return `# Overture benchmark — ${report.startedAt}\n\n${reportBody(report, chart)}\n`;
}
