import type { Logger } from 'pino';
import type { EventBus, Subscription } from '../modules/events/bus.js';
import { consumerHandler } from '../modules/events/consumer-runner.js';
import type { DeliveriesStore } from '../modules/events/deliveries.store.js';
import type { EventConsumer } from '../modules/events/events.js';
import type { RetryPolicy } from '../modules/events/retry.policy.js';
import type { Worker } from '../shared/loop.js';
import type { SaleMetrics } from '../shared/metrics.js';

/** Subscribes every consumer to the bus as a group of its own name (one group per effect). */
export function createConsumers(
  bus: EventBus,
  consumers: EventConsumer[],
  deps: {
    deliveries: DeliveriesStore;
    policy: RetryPolicy;
    logger: Logger;
    metrics?: Pick<SaleMetrics, 'deliveryDone'>;
  },
): Worker {
  let subscriptions: Subscription[] = [];
  return {
    async start() {
      subscriptions = await Promise.all(
        consumers.map((consumer) => bus.subscribe(consumer.name, consumerHandler(consumer, deps))),
      );
    },
    async stop() {
      await Promise.all(subscriptions.map((subscription) => subscription.stop()));
      subscriptions = [];
    },
  };
}
