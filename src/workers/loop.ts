import type { Logger } from 'pino';

export interface Worker {
  start: () => void | Promise<void>;
  /** Stops the timer and waits for the run in progress, if any. */
  stop: () => Promise<void>;
}

export interface Loop extends Worker {
  /** Asks for a run as soon as possible; calls during a run coalesce into one more run. */
  wake: () => void;
  /** Resolves after a run that started after this call has finished (runs even when stopped). */
  runNow: () => Promise<void>;
}

/**
 * A periodic job that never overlaps itself: one run at a time per process, every `intervalMs`
 * and whenever woken. Errors are logged and the next tick tries again; a worker never crashes
 * the process.
 */
export function createLoop(
  name: string,
  intervalMs: number,
  run: () => Promise<void>,
  logger: Logger,
): Loop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again: Promise<void> | undefined;
  let stopped = true;

  const execute = async (): Promise<void> => {
    try {
      await run();
    } catch (error) {
      logger.error({ err: error, worker: name }, 'worker run failed');
    }
  };

  const runNow = (): Promise<void> => {
    if (again) return again;
    if (!running) {
      running = execute().finally(() => (running = undefined));
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
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await again;
      await running;
    },
    wake() {
      void runNow();
    },
    runNow,
  };
}
