import type { GitState, Machine } from './machine.js';
import type { ProfileSummary } from './profile.js';
import type { LatencySummary } from './stats.js';

/** What one process used while a scenario ran, and how busy both cores were. */
export interface Usage {
  seconds: number;
  serverCpuSeconds: number | null;
  generatorCpuSeconds: number | null;
  /** Busy fraction of all cores (server + generator + PostgreSQL + anything else). */
  machineBusy: number | null;
  serverLogErrors: number;
  serverLogWarnings: number;
  serverLogSamples: string[];
}

interface Base {
  /** A queue mode's name, or "bare" for the do-nothing route. */
  target: string;
  /**
   * For a bare-route run: the mode measured right after it. Each mode is compared with its own
   * bare run, so load from elsewhere on the machine drifts less between the two.
   */
  pairedWith?: string;
  usage?: Usage;
}

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

export interface CapacityResult extends Base {
  kind: 'capacity';
  connections: number;
  instances: number;
  requests: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  non2xx: number;
  errors: number;
  statuses: Record<string, number>;
  /** Seconds until every connection had its first answer (warm-up included; undefined: never). */
  allConnectionsAnsweredSeconds?: number;
}

export interface PollingResult extends Base {
  kind: 'polling';
  waitingUsers: number;
  connections: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  non2xx: number;
  errors: number;
  positions: { sampled: number; distinct: boolean; inRange: boolean; waiting: number };
  sse: {
    available: boolean;
    reason?: string;
    streams: number;
    opened: number;
    events: number;
    errors: number;
  };
}

export interface StormResult extends Base {
  kind: 'storm';
  users: number;
  connections: number;
  winners: number;
  alreadyHeld: number;
  otherOutcomes: Record<string, number>;
  drainSeconds: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  /** pg_stat_database delta over the storm, less an idle restart's own count. */
  transactions: number | null;
  transactionsPerRequest: number | null;
  heldRowsForSeat: number | null;
}

export interface PurchaseResult extends Base {
  kind: 'purchase';
  users: number;
  maxActive: number;
  pollIntervalMs: number;
  seats: number;
  completed: number;
  unfinished: number;
  durationSeconds: number;
  purchasesPerSecond: number;
  peakPurchasesPerSecond: number;
  steps: Record<string, LatencySummary>;
  requests: number;
  failures: Record<string, number>;
  violations: string[];
  reservationsInDatabase: number;
}

export interface RoundTripStep {
  step: string;
  /** Request/response exchanges with PostgreSQL while the HTTP request was open (median of runs). */
  roundTrips: number;
  statements: number;
  transactions: number;
  /** Exchanges in the 300 ms after the answer (work the request woke: admission, outbox). */
  afterwards: number;
  /** Redis commands sent while the request was open, and in the 300 ms after. */
  redisCommands: number;
  redisAfterwards: number;
  /** The Redis commands of the first run, in order (EVALSHA is a Lua script). */
  redisCommandNames: string[];
}

export interface RoundTripResult extends Base {
  kind: 'round-trips';
  runs: number;
  steps: RoundTripStep[];
  /** The SQL a payment sent, in order, as PostgreSQL received it. */
  paymentStatements: string[];
}

export interface PgbenchResult extends Base {
  kind: 'pgbench';
  clients: number;
  transactions: number;
  transactionsPerSecond: number;
  latencyAverageMs: number;
  statementsPerTransaction: number;
  protocol: string;
  /** Set when the service's payment no longer matches the script's statements. */
  drift: string | null;
}

export interface ScaleOutResult extends Base {
  kind: 'scale-out';
  instances: number;
  seed: SeedResult;
  capacity: CapacityResult;
}

export type ScenarioResult =
  | SeedResult
  | CapacityResult
  | PollingResult
  | StormResult
  | PurchaseResult
  | RoundTripResult
  | PgbenchResult
  | ScaleOutResult;

export interface ModeStatus {
  name: string;
  description: string;
  available: boolean;
  reason?: string;
}

/** Correctness checks: a failed one fails the run (speed never does). */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Verdict {
  target: string;
  verdict: 'met' | 'not met' | 'not measured' | 'reported';
  detail: string;
}

export interface BenchReport {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  profile: 'full' | 'quick';
  git: GitState;
  machine: Machine;
  settings: Record<string, string>;
  notes: string[];
  modes: ModeStatus[];
  results: ScenarioResult[];
  skipped: { scenario: string; target: string; reason: string }[];
  checks: Check[];
  verdicts: Verdict[];
  problems: string[];
  /** With --cpu-prof: the hottest functions of each server process. */
  profiles: ProfileSummary[];
}

const byKind = <K extends ScenarioResult['kind']>(results: ScenarioResult[], kind: K) =>
  results.filter((result): result is Extract<ScenarioResult, { kind: K }> => result.kind === kind);

/** The bare-route capacity run a mode's run is compared with (its pair, else any at that size). */
export function bareCapacityFor(
  results: ScenarioResult[],
  target: string,
  connections: number,
): CapacityResult | undefined {
  const bare = byKind(results, 'capacity').filter(
    (result) =>
      result.target === 'bare' && result.connections === connections && result.instances === 1,
  );
  return bare.find((result) => result.pairedWith === target) ?? bare[0];
}

export function bareStormFor(results: ScenarioResult[], target: string): StormResult | undefined {
  const bare = byKind(results, 'storm').filter((result) => result.target === 'bare');
  return bare.find((result) => result.pairedWith === target) ?? bare[0];
}
