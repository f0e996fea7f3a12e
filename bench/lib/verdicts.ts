/** The targets, judged with ratios measured in the same run (absolute numbers are noisy). */
import { bareCapacityFor, bareStormFor } from './results.js';
import type {
  BenchReport,
  CapacityResult,
  PgbenchResult,
  PurchaseResult,
  RoundTripResult,
  ScenarioResult,
  SeedResult,
  StormResult,
  Verdict,
} from './results.js';
import { ratio } from './stats.js';

/** Milliseconds as a reader wants them: 3 significant digits, no noise. */
const ms = (value: number): string => `${Number(value.toPrecision(3))} ms`;

type Input = Pick<BenchReport, 'results' | 'modes' | 'profile'>;

const of = <K extends ScenarioResult['kind']>(results: ScenarioResult[], kind: K) =>
  results.filter((result): result is Extract<ScenarioResult, { kind: K }> => result.kind === kind);

const capacityAt = (
  results: ScenarioResult[],
  target: string,
  connections: number,
): CapacityResult | undefined =>
  of(results, 'capacity').find(
    (result) =>
      result.target === target && result.connections === connections && result.instances === 1,
  );

function modeMissing(input: Input, name: string): string {
  const mode = input.modes.find((item) => item.name === name);
  return mode && !mode.available
    ? `${name} mode not available: ${mode.reason ?? 'unknown'}`
    : `${name} mode not measured`;
}

function seedVerdict(input: Input): Verdict {
  const target = "Seed load test: every mode passes the seed's thresholds with p99 under 10 ms";
  const seeds = of(input.results, 'seed').filter(
    (result): result is SeedResult => result.target !== 'bare' && result.instances === 1,
  );
  const main = seeds.filter((result) => result.variant === 'random-user');
  if (main.length === 0) return { target, verdict: 'not measured', detail: 'no seed run' };
  const parts = seeds.map(
    (result) =>
      `${result.target}/${result.variant}: p95 ${ms(result.latency.p95)}, p99 ${ms(result.latency.p99)}, ` +
      `max ${ms(result.latency.max)}, ${(result.failureRate * 100).toFixed(2)}% failed → ${result.thresholds.pass ? 'pass' : 'FAIL'}`,
  );
  const met = main.every((result) => result.p99Under10ms);
  const judged = seeds.length > main.length ? " (judged on the seed's own random-user runs)" : '';
  const note = input.profile === 'quick' ? ' (quick profile: a 4 s ramp instead of 60 s)' : '';
  return { target, verdict: met ? 'met' : 'not met', detail: parts.join('; ') + judged + note };
}

function capacityVerdicts(input: Input): Verdict[] {
  const bare100 = bareCapacityFor(input.results, 'redis', 100);
  const bare1000 = bareCapacityFor(input.results, 'redis', 1000);
  const pgBare100 = bareCapacityFor(input.results, 'postgres', 100);
  const pgBare1000 = bareCapacityFor(input.results, 'postgres', 1000);
  const redis100 = capacityAt(input.results, 'redis', 100);
  const redis1000 = capacityAt(input.results, 'redis', 1000);
  const pg100 = capacityAt(input.results, 'postgres', 100);
  const pg1000 = capacityAt(input.results, 'postgres', 1000);
  const context100 =
    pg100 && pgBare100
      ? ` (postgres mode: ${ratio(pg100.requestsPerSecond, pgBare100.requestsPerSecond)}× bare)`
      : '';
  const context1000 =
    pg1000 && pgBare1000
      ? ` (postgres mode: p99 ${ratio(pg1000.latency.p99, pgBare1000.latency.p99)}× bare)`
      : '';
  const first: Verdict = {
    target:
      "Capacity at 100 connections: redis-mode queue entry reaches ≥ 0.5× the bare route's requests/s",
    verdict: 'not measured',
    detail: modeMissing(input, 'redis') + context100,
  };
  if (redis100 && bare100) {
    const value = ratio(redis100.requestsPerSecond, bare100.requestsPerSecond) ?? 0;
    first.verdict = value >= 0.5 ? 'met' : 'not met';
    first.detail = `redis ${Math.round(redis100.requestsPerSecond)} req/s vs bare ${Math.round(bare100.requestsPerSecond)} req/s = ${value}×${context100}`;
  }
  const second: Verdict = {
    target: "Capacity at 1000 connections: redis-mode p99 within 1.5× the bare route's p99",
    verdict: 'not measured',
    detail: modeMissing(input, 'redis') + context1000,
  };
  if (redis1000 && bare1000) {
    const value = ratio(redis1000.latency.p99, bare1000.latency.p99) ?? Number.POSITIVE_INFINITY;
    second.verdict = value <= 1.5 ? 'met' : 'not met';
    second.detail = `redis p99 ${ms(redis1000.latency.p99)} vs bare ${ms(bare1000.latency.p99)} = ${value}×${context1000}`;
  }
  return [first, second];
}

function stormVerdict(input: Input): Verdict {
  const storms = of(input.results, 'storm');
  const bare = storms.find((result) => result.target === 'bare');
  const modes = storms.filter((result): result is StormResult => result.target !== 'bare');
  const bareOf = (target: string) => bareStormFor(input.results, target) ?? bare!;
  const target =
    "Hot-seat storm of 10,000: exactly one winner, drained at ≥ 0.4× the bare route's rate";
  if (!bare || modes.length === 0)
    return { target, verdict: 'not measured', detail: 'no storm run' };
  const rounds = of(input.results, 'round-trips');
  const parts = modes.map((result) => {
    const value = ratio(result.requestsPerSecond, bareOf(result.target).requestsPerSecond) ?? 0;
    const loser = rounds
      .find((item): item is RoundTripResult => item.target === result.target)
      ?.steps.find((step) => step.step.startsWith('hold (seat already held'));
    return (
      `${result.target}: ${result.winners} winner(s), ${Math.round(result.requestsPerSecond)} req/s = ${value}× bare` +
      (result.transactionsPerRequest === null
        ? ''
        : `, ${result.transactionsPerRequest} transactions/request`) +
      (loser ? `, a losing hold costs ${loser.roundTrips} database round trips` : '')
    );
  });
  const met = modes.every(
    (result) =>
      result.winners === 1 &&
      (ratio(result.requestsPerSecond, bareOf(result.target).requestsPerSecond) ?? 0) >= 0.4,
  );
  const size = bare.users === 10_000 ? '' : ` (this run: N = ${bare.users})`;
  return { target, verdict: met ? 'met' : 'not met', detail: parts.join('; ') + size };
}

function purchaseVerdict(input: Input): Verdict {
  const target =
    "Full purchase flow: purchases/s beside PostgreSQL's own rate for the payment, round trips per payment";
  const purchases = of(input.results, 'purchase');
  if (purchases.length === 0) return { target, verdict: 'not measured', detail: 'no purchase run' };
  const pgbench: PgbenchResult | undefined = of(input.results, 'pgbench')[0];
  const parts = purchases.map((result: PurchaseResult) => {
    const rounds = of(input.results, 'round-trips')
      .find((item) => item.target === result.target)
      ?.steps.find((step) => step.step === 'pay');
    return (
      `${result.target}: ${result.purchasesPerSecond} purchases/s (${result.completed}/${result.users} done)` +
      (pgbench
        ? ` vs pgbench ${pgbench.transactionsPerSecond} payment transactions/s = ${ratio(result.purchasesPerSecond, pgbench.transactionsPerSecond)}×`
        : '') +
      (rounds
        ? `; a payment makes ${rounds.roundTrips} round trips (${rounds.statements} statements)`
        : '')
    );
  });
  return { target, verdict: 'reported', detail: parts.join('; ') };
}

export function judge(input: Input): Verdict[] {
  return [
    seedVerdict(input),
    ...capacityVerdicts(input),
    stormVerdict(input),
    purchaseVerdict(input),
  ];
}
