/**
 * Joining at the store (docs/decisions/0011): the Redis waiting room against the stream backend
 * with 6 and 1 partitions, waiting for the placement or not, measured in a child process.
 */
import type { Scenario } from '../lib/context.js';
import { msText, p50p99, section, table } from '../lib/format.js';
import { redisUrl } from '../lib/modes.js';
import { progress } from '../lib/progress.js';
import { resultsOf, type Base } from '../lib/results.js';
import type { LatencySummary } from '../lib/stats.js';
import { runWorker } from '../lib/workers.js';
import type { QueueStreamJob, QueueStreamRun } from '../workers/queue-stream.js';

export interface QueueStreamResult extends Base {
  kind: 'queue-stream';
  joins: number;
  burst: number;
  /** Joins one after another: until each answered, until each had its real place. */
  answered: LatencySummary;
  placed: LatencySummary;
  burstAnswered: LatencySummary;
  burstAllAnsweredMs: number;
  burstAllPlacedMs: number;
  burstJoinsPerSecond: number;
  /** Joins sent one after another that were placed behind a later one. */
  overtaken: number;
}

export const queueStreamScenario: Scenario = {
  name: 'queue-stream',
  async run(ctx) {
    const { joins, burst } = ctx.options.profile.queueStream;
    progress.phase(
      `joining at the store (${joins} joins one after another, then ${burst} at once)`,
    );
    const job: QueueStreamJob = { redisUrl, joins, burst };
    const run = await runWorker<QueueStreamRun>('queue-stream.ts', job, {
      label: 'queue stores',
      timeoutMs: 5 * 120_000,
    });
    if (run.streamMissing !== '')
      ctx.skipped.push({ scenario: 'queue-stream', target: 'stream', reason: run.streamMissing });
    ctx.results.push(...run.results);
  },

  section(report) {
    const results = resultsOf(report.results, 'queue-stream');
    const first = results[0];
    if (!first) return undefined;
    return section(
      'Joining at the store',
      `The waiting room's store alone, one process with one consumer member (docs/decisions/0011): ${first.joins} joins one after another, then ${first.burst} at once. ` +
        '“Real place”: when the join was placed from the log (at once on Redis). Kafka is the in-memory mock.',
      table(results, [
        ['backend', (r) => r.target],
        ['join answered p50 / p99', (r) => p50p99(r.answered)],
        ['real place after p50 / p99', (r) => p50p99(r.placed)],
        ['burst: join answered p50 / p99', (r) => p50p99(r.burstAnswered)],
        [
          'burst: all answered / all placed',
          (r) => `${msText(r.burstAllAnsweredMs)} / ${msText(r.burstAllPlacedMs)}`,
        ],
        ['burst joins/s', (r) => String(r.burstJoinsPerSecond)],
        ['back-to-back joins placed behind a later one', (r) => `${r.overtaken} of ${r.joins}`],
      ]),
    );
  },
};
