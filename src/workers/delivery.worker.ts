import type { Logger } from 'pino';
import type { Delivery, DeliveriesStore } from '../modules/events/deliveries.store.js';
import {
  PermanentDeliveryError,
  RetryLaterError,
  type EventConsumer,
} from '../modules/events/events.js';
import { afterFailure, type RetryPolicy } from '../modules/events/retry.policy.js';
import { createLoop, type Loop } from '../shared/loop.js';
import type { SaleMetrics } from '../shared/metrics.js';
import { SpanKind, inTracedSpan } from '../shared/tracing.js';

export interface DeliveryWorkerOptions {
  policy: RetryPolicy;
  intervalMs: number;
  /** Rows taken per run; they are worked on concurrently. */
  batchSize?: number;
  /** How long a taken row is reserved for this worker (longer than any single attempt). */
  leaseMs?: number;
  logger: Logger;
  metrics?: Pick<SaleMetrics, 'deliveryDone'>;
}

/**
 * Works the retry queue (event_deliveries) of its own consumers — rows of a consumer this
 * instance does not run are left to the instances that do: due PENDING rows are leased, retried
 * (concurrently, each attempt bounded by the consumer's own timeout), and then kept as
 * DELIVERED on success, rescheduled with capped exponential backoff and jitter on failure, or
 * turned DEAD when the retry policy gives up (a permanent refusal, or failing for longer than
 * its horizon) — with the event and the last error kept for an operator to inspect and replay.
 */
export function createDeliveryWorker(
  deliveries: DeliveriesStore,
  consumers: EventConsumer[],
  options: DeliveryWorkerOptions,
): Loop {
  const byName = new Map(consumers.map((consumer) => [consumer.name, consumer]));
  const batchSize = options.batchSize ?? 16;
  const leaseMs = options.leaseMs ?? 60_000;

  async function attempt(delivery: Delivery): Promise<void> {
    const consumer = byName.get(delivery.consumer);
    // claimDue takes only rows of these consumers.
    if (!consumer) return;
    try {
      // Continues the event's trace: the data-platform send's request then carries it on.
      await inTracedSpan(
        `${consumer.name} deliver`,
        delivery.event.traceContext,
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            'messaging.consumer.group.name': consumer.name,
            'messaging.message.id': delivery.event.eventId,
            'overture.delivery.attempt': delivery.attempts + 1,
          },
        },
        () => (consumer.retry ?? consumer.handle).call(consumer, delivery.event),
      );
      await deliveries.succeeded(delivery);
      options.metrics?.deliveryDone(delivery.consumer, 'delivered');
    } catch (error) {
      const attempts = delivery.attempts + 1;
      const next = afterFailure(
        {
          attempts,
          failingForMs: delivery.failingForMs,
          retryAfterMs: error instanceof RetryLaterError ? error.retryAfterMs : 0,
          permanent: error instanceof PermanentDeliveryError,
        },
        options.policy,
      );
      await deliveries.failed(delivery, error, next);
      options.metrics?.deliveryDone(delivery.consumer, next.dead ? 'dead' : 'retry');
      const log = {
        err: error,
        consumer: delivery.consumer,
        eventId: delivery.event.eventId,
        attempts,
        failingForMs: delivery.failingForMs,
      };
      if (next.dead) options.logger.error(log, 'event dead-lettered');
      else
        options.logger.warn(
          { ...log, retryInMs: next.delayMs },
          'event delivery failed; will retry',
        );
    }
  }

  return createLoop(
    'delivery-worker',
    options.intervalMs,
    // A stop waits for the batch in flight (each attempt bounded by its consumer's timeout),
    // never for the whole backlog.
    async (stopping) => {
      while (!stopping.aborted) {
        const due = await deliveries.claimDue([...byName.keys()], batchSize, leaseMs);
        await Promise.all(due.map(attempt));
        if (due.length < batchSize) return;
      }
    },
    options.logger,
  );
}
