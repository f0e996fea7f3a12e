import type { Logger } from 'pino';

export interface Worker {
  start: () => void | Promise<void>;
  /** Stops the timer and waits for the run in progress, if any. */
  stop: () => Promise<void>;
  /** A periodic worker's progress, read by the readiness probe (src/shared/readiness.ts). */
  progress?: () => LoopProgress;
}

/** Where a loop stands: read from memory, so a probe can ask as often as it likes. */
export interface LoopProgress {
  name: string;
  intervalMs: number;
  /** When it was started (ms since the epoch); undefined while stopped. */
  startedAt: number | undefined;
  /** When its last run completed without an error; undefined before the first one. */
  lastCompletedAt: number | undefined;
}

export interface Loop extends Worker {
  /** Asks for a run as soon as possible; calls during a run coalesce into one more run. */
  wake: () => void;
  /** Resolves after a run that started after this call has finished (runs even when stopped). */
  runNow: () => Promise<void>;
  progress: () => LoopProgress;
}

/**
 * One run of a loop. `stopping` aborts when `stop()` is called during the run: a run that works
 * through a backlog in batches checks it between batches and returns, so a stop waits for one
 * batch, not for the whole backlog. A run that stopped with work left (its time budget spent)
 * returns `MORE_WORK`: a started loop runs again at once, after one turn of the event loop,
 * instead of sleeping `intervalMs` (decision 0066).
 */
export type LoopRun = (stopping: AbortSignal) => Promise<unknown>;

/** What a run that may leave work says: MORE_WORK, or undefined (nothing left). */
export type RunOutcome = typeof MORE_WORK | undefined;

/** What a run returns when it left work undone: run again now, not after the interval. */
export const MORE_WORK = 'more';

/**
 * A periodic job that never overlaps itself: one run at a time per process, every `intervalMs`,
 * whenever woken, and back to back (one event-loop turn between runs, so requests are served)
 * while its runs report work left. Errors never crash the process: the next tick tries again. A failing
 * dependency fails every run until it is back, so an outage is logged once when it starts (the
 * first error, at error level) and once when it ends (with how long it lasted and how many runs
 * failed); the failures in between go to debug.
 */
export function createLoop(name: string, intervalMs: number, run: LoopRun, logger: Logger): Loop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again: Promise<void> | undefined;
  let continuing: NodeJS.Immediate | undefined;
  let stopped = true;
  let stopping = new AbortController();
  let outage: { since: number; failedRuns: number } | undefined;
  let startedAt: number | undefined;
  let lastCompletedAt: number | undefined;

  /** Runs once; true when the run reported work left. */
  const execute = async (): Promise<boolean> => {
    let more: boolean;
    try {
      more = (await run(stopping.signal)) === MORE_WORK;
    } catch (error) {
      if (outage) {
        outage.failedRuns++;
        logger.debug(
          { err: error, worker: name, failedRuns: outage.failedRuns },
          'worker run failed again',
        );
        return false;
      }
      outage = { since: Date.now(), failedRuns: 1 };
      logger.error(
        { err: error, worker: name },
        'worker run failed; retrying every tick, the recovery will be logged',
      );
      return false;
    }
    lastCompletedAt = Date.now();
    if (outage) {
      logger.info(
        { worker: name, failedRuns: outage.failedRuns, outageMs: Date.now() - outage.since },
        'worker recovered',
      );
      outage = undefined;
    }
    return more;
  };

  /** Work left: one more run after this turn of the event loop (a queued run will do it). */
  const continueSoon = () => {
    if (stopped || again || continuing) return;
    continuing = setImmediate(() => {
      continuing = undefined;
      if (!stopped) void runNow();
    });
  };

  const runNow = (): Promise<void> => {
    if (again) return again;
    if (!running) {
      running = execute().then((more) => {
        running = undefined;
        if (more) continueSoon();
      });
      return running;
    }
    // A run is in progress and may have started before the caller's change: queue one more.
    again = running.then(() => {
      again = undefined;
      return runNow();
    });
    return again;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void runNow().finally(schedule);
    }, intervalMs);
    timer.unref();
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      startedAt = Date.now();
      schedule();
    },
    async stop() {
      stopped = true;
      startedAt = undefined;
      clearTimeout(timer);
      clearImmediate(continuing);
      continuing = undefined;
      // Tells the run in progress (and one queued behind it) to return after its current
      // batch; a run asked for once stopped (runNow) gets a fresh signal.
      stopping.abort();
      await again;
      await running;
      stopping = new AbortController();
    },
    wake() {
      void runNow();
    },
    runNow,
    progress: () => ({ name, intervalMs, startedAt, lastCompletedAt }),
  };
}
