/** What a run records (bench/results/<time>.json): each scenario's results, checks and verdicts. */
import type { GitState, Machine } from './machine.js';
import type { ProfileSummary } from './profile.js';
import type { BigConcertResult } from '../scenarios/big-concert.js';
import type { CapacityResult } from '../scenarios/capacity.js';
import type { EventBusResult } from '../scenarios/event-buses.js';
import type { LiveStreamsResult } from '../scenarios/live-streams.js';
import type { MetricsCostResult } from '../scenarios/metrics-cost.js';
import type { OpeningResult } from '../scenarios/opening.js';
import type { PgbenchResult } from '../scenarios/pgbench.js';
import type { PollingResult } from '../scenarios/polling.js';
import type { PurchaseResult } from '../scenarios/purchase.js';
import type { QueueStreamResult } from '../scenarios/queue-stream.js';
import type { RoomsResult } from '../scenarios/rooms.js';
import type { RoundTripResult } from '../scenarios/round-trips.js';
import type { ScaleOutResult, WorkersResult } from '../scenarios/scale-out.js';
import type { SeedResult } from '../scenarios/seed.js';
import type { ShowCancelResult } from '../scenarios/show-cancel.js';
import type { StormResult } from '../scenarios/storm.js';

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

/** What every result has. */
export interface Base {
  /** A queue mode's name, or "bare" for the do-nothing route. */
  target: string;
  /**
   * For a bare-route run: the mode measured right after it. Each mode is compared with its own
   * bare run, so load from elsewhere on the machine drifts less between the two.
   */
  pairedWith?: string;
  usage?: Usage;
}

export type ScenarioResult =
  | SeedResult
  | CapacityResult
  | PollingResult
  | StormResult
  | PurchaseResult
  | RoundTripResult
  | PgbenchResult
  | ScaleOutResult
  | WorkersResult
  | EventBusResult
  | QueueStreamResult
  | LiveStreamsResult
  | BigConcertResult
  | ShowCancelResult
  | MetricsCostResult
  | RoomsResult
  | OpeningResult;

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

/** Every target of a scenario that did not run. */
export const notMeasured = (targets: string[], detail: string): Verdict[] =>
  targets.map((target) => ({ target, verdict: 'not measured', detail }));

/** The results of one kind, typed. */
export const resultsOf = <K extends ScenarioResult['kind']>(
  results: readonly ScenarioResult[],
  kind: K,
): Extract<ScenarioResult, { kind: K }>[] =>
  results.filter((result): result is Extract<ScenarioResult, { kind: K }> => result.kind === kind);
