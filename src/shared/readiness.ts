import type { LoopProgress } from './loop.js';

/** One reason this instance should not take traffic: a stable reason code, what, and why. */
export interface NotReady {
  /** Stable: worker-stalled, outbox-lag, kafka-producer, kafka-queue-log, kafka-consumer, … */
  reason: string;
  /** The worker, consumer group or client concerned. */
  component: string;
  message: string;
}

/** A component's own account of whether it is ready: nothing when it is. Read from memory. */
export type ReadinessCheck = () => NotReady[];

export interface Readiness {
  /** A periodic worker: stalled when it has not completed a run for too long. */
  watch(progress: () => LoopProgress): void;
  /** A component that reports for itself (the Kafka producer and group members). */
  require(check: ReadinessCheck): void;
  /** Every reason the in-memory state gives, now (empty: ready as far as it knows). */
  problems(): NotReady[];
}

export interface ReadinessOptions {
  /** A worker is stalled after this many of its intervals without a completed run… */
  missedRuns: number;
  /** …and never sooner than this, so a short interval does not flap on one slow run. */
  minStallMs: number;
  now?: () => number;
}

/**
 * The readiness registry: workers and clients report in, the probe reads. A loop's last completed
 * run is counted from when it started, so a worker that never completes one is stalled as well;
 * a stopped worker (shutting down) is not judged: the probe says `closing` then.
 */
export function createReadiness(options: ReadinessOptions): Readiness {
  const now = options.now ?? Date.now;
  const loops: (() => LoopProgress)[] = [];
  const checks: ReadinessCheck[] = [];

  const stalled = (progress: LoopProgress): NotReady | undefined => {
    if (progress.startedAt === undefined) return undefined;
    const allowedMs = Math.max(options.minStallMs, options.missedRuns * progress.intervalMs);
    const since = progress.lastCompletedAt ?? progress.startedAt;
    const silentMs = now() - since;
    if (silentMs <= allowedMs) return undefined;
    const last =
      progress.lastCompletedAt === undefined
        ? 'no run completed since it started'
        : 'its last completed run was';
    return {
      reason: 'worker-stalled',
      component: progress.name,
      message: `${last} ${(silentMs / 1000).toFixed(1)} s ago (allowed: ${(allowedMs / 1000).toFixed(1)} s).`,
    };
  };

  return {
    watch(progress) {
      loops.push(progress);
    },
    require(check) {
      checks.push(check);
    },
    problems() {
      const found: NotReady[] = [];
      for (const progress of loops) {
        const problem = stalled(progress());
        if (problem) found.push(problem);
      }
      for (const check of checks) found.push(...check());
      return found;
    },
  };
}
