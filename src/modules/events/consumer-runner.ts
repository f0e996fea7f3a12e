import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../../db/sql.js';
import type { SaleMetrics } from '../../shared/metrics.js';
import { SpanKind, inTracedSpan } from '../../shared/tracing.js';
import type { DeliveriesStore } from './deliveries.store.js';
import type { EventConsumer, OutboxEvent } from './events.js';
import { retryDelayMs, type RetryPolicy } from './retry.policy.js';

/**
 * The handler a bus calls for one consumer: the consumer's first attempt; a failure becomes a PENDING delivery (retried with backoff by the delivery worker), so a
 * poison event never blocks the events behind it. Only when the failure cannot even be recorded
 * (the database is down) does the handler throw, and the bus delivers the event again.
 */
export function consumerHandler(
  consumer: EventConsumer,
  deps: {
    deliveries: DeliveriesStore;
    policy: RetryPolicy;
    logger: Logger;
    metrics?: Pick<SaleMetrics, 'deliveryDone'>;
  },
): (event: OutboxEvent) => Promise<void> {
  return (event) =>
    inTracedSpan(
      `${consumer.name} process`,
      event.traceContext,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.operation.type': 'process',
          'messaging.consumer.group.name': consumer.name,
          'messaging.message.id': event.eventId,
        },
      },
      () => handle(event),
    );

  async function handle(event: OutboxEvent): Promise<void> {
    try {
      await consumer.handle(event);
      deps.metrics?.deliveryDone(consumer.name, 'delivered');
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw error;
      deps.logger.warn(
        { err: error, consumer: consumer.name, eventId: event.eventId },
        'event consumer failed; will retry',
      );
      await deps.deliveries.schedule(consumer.name, event, {
        attempts: 1,
        error,
        delayMs: retryDelayMs(1, deps.policy),
      });
      deps.metrics?.deliveryDone(consumer.name, 'retry');
    }
  }
}
