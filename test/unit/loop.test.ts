import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../src/modules/queue/queue.admission.js';
import { createLoop, MORE_WORK } from '../../src/shared/loop.js';

interface Line {
  level: number;
  msg: string;
  worker?: string;
  failedRuns?: number;
  outageMs?: number;
  err?: { message: string };
}

/** A pino logger at debug level whose lines are kept, parsed, for the test to read. */
function capturedLogger() {
  const lines: Line[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => lines.push(JSON.parse(line) as Line) },
  );
  const at = (level: 'error' | 'info' | 'debug') =>
    lines.filter((line) => line.level === pino.levels.values[level]);
  return { logger, lines, at };
}

/** A run whose outcome the test sets: it throws `failure` while one is set. */
function scriptedRun() {
  let failure: Error | undefined;
  let runs = 0;
  return {
    run: () => {
      runs++;
      return failure ? Promise.reject(failure) : Promise.resolve();
    },
    fail(error: Error | undefined) {
      failure = error;
    },
    runs: () => runs,
  };
}

/**
 * Proves issue 12 item 8: a worker loop whose dependency is down (every run failing, 4 runs a
 * second per instance for admission) logs the outage once at error level, not once per run, then
 * logs its end once with how many runs failed — and a later outage is logged again.
 */
describe('worker loop: an outage is logged once, then its end', () => {
  it('logs the first failure, keeps the repeats at debug, and logs the recovery', async () => {
    const { logger, at } = capturedLogger();
    const script = scriptedRun();
    const loop = createLoop('probe', 60_000, script.run, logger);

    script.fail(new Error('redis unavailable'));
    for (let i = 0; i < 20; i++) await loop.runNow();
    expect(script.runs()).toBe(20);
    expect(at('error')).toHaveLength(1);
    expect(at('error')[0]).toMatchObject({
      worker: 'probe',
      err: { message: 'redis unavailable' },
    });
    expect(at('debug')).toHaveLength(19);

    script.fail(undefined);
    await loop.runNow();
    await loop.runNow();
    expect(at('info')).toHaveLength(1);
    expect(at('info')[0]).toMatchObject({
      worker: 'probe',
      msg: 'worker recovered',
      failedRuns: 20,
    });
    expect(at('info')[0]!.outageMs).toBeGreaterThanOrEqual(0);

    // A second outage is a new event: logged once again, and its end too.
    script.fail(new Error('redis unavailable again'));
    for (let i = 0; i < 5; i++) await loop.runNow();
    script.fail(undefined);
    await loop.runNow();
    expect(at('error')).toHaveLength(2);
    expect(at('error')[1]!.err?.message).toBe('redis unavailable again');
    expect(at('info')).toHaveLength(2);
    expect(at('info')[1]).toMatchObject({ failedRuns: 5 });
  });

  it('applies to the admission worker during a store outage', async () => {
    const { logger, at } = capturedLogger();
    let down = true;
    const admission = createAdmission(
      {
        admit: () =>
          down
            ? Promise.reject(new Error('Connection is closed.'))
            : Promise.resolve({ expired: 0, admitted: 0, active: 0, waiting: 0 }),
      },
      { maxActive: 50, intervalMs: 60_000, logger },
    );
    for (let i = 0; i < 40; i++) await admission.admitNow();
    expect(at('error')).toHaveLength(1);
    expect(at('error')[0]).toMatchObject({ worker: 'admission' });
    down = false;
    await admission.admitNow();
    expect(at('info').map((line) => line.msg)).toEqual(['worker recovered']);
  });
});

/**
 * Proves the stop signal behind issue 12 item 4: a run working through a backlog in batches sees
 * `stopping` abort when stop() is called, so stop() resolves after the batch in progress instead
 * of after the whole backlog; a run queued behind it (a wake-up during the run) starts stopped
 * too; a run asked for after the stop gets a fresh signal.
 */
describe('worker loop: stop between batches', () => {
  it('aborts the run in progress and the run queued behind it', { timeout: 5_000 }, async () => {
    const { logger } = capturedLogger();
    let batches = 0;
    let releaseBatch: () => void = () => undefined;
    let batchStarted: () => void = () => undefined;
    let started = new Promise<void>((resolve) => (batchStarted = resolve));
    const seen: boolean[] = [];
    const loop = createLoop(
      'backlog',
      60_000,
      async (stopping) => {
        seen.push(stopping.aborted);
        // An endless backlog: only the stop ends this run.
        while (!stopping.aborted) {
          await new Promise<void>((resolve) => {
            releaseBatch = resolve;
            batchStarted();
          });
          batches++;
        }
      },
      logger,
    );
    void loop.start();
    loop.wake();
    await started;
    loop.wake(); // queued behind the run in progress
    started = new Promise<void>((resolve) => (batchStarted = resolve));
    const stopped = loop.stop();
    releaseBatch();
    await stopped;
    expect(batches).toBe(1);
    // The run queued behind it ran with the signal already aborted: no batch.
    expect(seen).toEqual([false, true]);

    // Once stopped, an explicit run works normally (and stops at the next stop).
    const explicit = loop.runNow();
    await started;
    expect(seen).toEqual([false, true, false]);
    const stoppedAgain = loop.stop();
    releaseBatch();
    await stoppedAgain;
    await explicit;
    expect(batches).toBe(2);
  });
});

/**
 * Decision 0066: a run that stops with work left (its time budget spent) says so, and a started
 * loop runs again at once instead of sleeping its interval — after one turn of the event loop,
 * so timers and requests still get theirs; a run with nothing left sleeps the interval.
 */
describe('worker loop: straight on while work is left, asleep when idle', () => {
  const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** A loop (interval 60 s) whose every run reports work left; `runs()` counts its runs. */
  const endless = (name: string) => {
    const { logger } = capturedLogger();
    let runs = 0;
    const loop = createLoop(
      name,
      60_000,
      () => {
        runs++;
        return Promise.resolve(MORE_WORK);
      },
      logger,
    );
    return { loop, runs: () => runs };
  };

  it('runs back to back while runs report work left, then waits the interval', async () => {
    const { logger } = capturedLogger();
    let left = 5;
    let runs = 0;
    const loop = createLoop(
      'mover',
      60_000,
      () => {
        runs++;
        left = Math.max(0, left - 1);
        return Promise.resolve(left > 0 ? MORE_WORK : undefined);
      },
      logger,
    );
    void loop.start();
    loop.wake();
    await tick(100);
    // Five runs with no interval between them (60 s would have allowed one), then idle.
    expect(runs).toBe(5);
    await tick(200);
    expect(runs).toBe(5);
    await loop.stop();
  });

  it('yields to the event loop between runs, and stop() ends the chain', async () => {
    const { loop, runs } = endless('endless');
    void loop.start();
    loop.wake();
    // A timer due while the loop goes on fires: the runs do not starve the event loop.
    const runsWhenTimerFired = await new Promise<number>((resolve) =>
      setTimeout(() => resolve(runs()), 5),
    );
    expect(runsWhenTimerFired).toBeGreaterThan(1);
    await loop.stop();
    const atStop = runs();
    await tick(50);
    expect(runs()).toBe(atStop);
  });

  it('an explicit run on a loop never started runs once, whatever it reports', async () => {
    const { loop, runs } = endless('manual');
    await loop.runNow();
    await tick(50);
    expect(runs()).toBe(1);
  });
});
