/**
 * Event buses (docs/decisions/0009): in-process, Redis Streams and Kafka behind the one port the
 * outbox relay publishes to, measured at the port in a child process (no server, no HTTP).
 */
import type { Scenario } from '../lib/context.js';
import { msText, p50p99, section, table } from '../lib/format.js';
import { redisUrl } from '../lib/modes.js';
import { progress } from '../lib/progress.js';
import { resultsOf, type Base } from '../lib/results.js';
import type { LatencySummary } from '../lib/stats.js';
import { runWorker } from '../lib/workers.js';
import type { EventBusJob, EventBusRun } from '../workers/event-buses.js';

export interface EventBusResult extends Base {
  kind: 'event-buses';
  events: number;
  rounds: number;
  batch: number;
  publishOne: LatencySummary;
  publishBatch: LatencySummary;
  publishBacklogMs: number;
  drainBacklogMs: number;
  eventsPerSecond: number;
}

/** The outbox relay's batch size. */
const BATCH = 200;

export const eventBusScenario: Scenario = {
  name: 'event-buses',
  async run(ctx) {
    const { events, rounds } = ctx.options.profile.eventBuses;
    progress.phase(`event buses (${events} events drained in batches of ${BATCH})`);
    const job: EventBusJob = { redisUrl, events, rounds, batch: BATCH };
    const timeoutMs = 3 * 150_000 + 60_000;
    const run = await runWorker<EventBusRun>('event-buses.ts', job, {
      label: 'event buses',
      timeoutMs,
    });
    for (const { bus, reason } of run.skipped)
      ctx.skipped.push({ scenario: 'event-buses', target: bus, reason });
    ctx.results.push(...run.results);
  },

  section(report) {
    const results = resultsOf(report.results, 'event-buses');
    const first = results[0];
    if (!first) return undefined;
    return section(
      'Event buses',
      `The outbox relay's bus alone, in one process with a handler that does nothing: publish latency over ${first.rounds} publishes of 1 event and of a ${first.batch}-event batch, ` +
        `then ${first.events} events published as a backlog in batches and drained by one consumer group (docs/decisions/0009). Kafka is the in-memory mock: a floor, not a broker's numbers.`,
      table(results, [
        ['bus', (r) => r.target],
        ['publish 1 event p50 / p99', (r) => p50p99(r.publishOne)],
        [`publish ${first.batch} p50 / p99`, (r) => p50p99(r.publishBatch)],
        ['publish backlog', (r) => msText(r.publishBacklogMs)],
        ['drain backlog', (r) => msText(r.drainBacklogMs)],
        ['events/s', (r) => String(r.eventsPerSecond)],
      ]),
    );
  },
};
