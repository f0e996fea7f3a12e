import type { Logger } from 'pino';
import { pause } from '../shared/pause.js';

/**
 * Joins a consumer group in the background (a join waits for the brokers, 30 s per attempt while
 * they are down), retrying with backoff until it succeeds or `signal` aborts: the service starts
 * and works without Kafka, and consumes once it is back.
 */
export function joinInBackground(
  join: () => Promise<void>,
  options: { signal: AbortSignal; logger: Logger; group: string },
): void {
  void (async () => {
    const aborted = () => options.signal.aborted;
    for (let attempt = 0; !aborted(); attempt++) {
      try {
        await join();
        return;
      } catch (error) {
        if (aborted()) return;
        options.logger.warn(
          { err: error, group: options.group },
          'kafka consumer could not connect; retrying',
        );
        await pause(Math.min(30_000, 1_000 * 2 ** attempt), options.signal);
      }
    }
  })();
}
