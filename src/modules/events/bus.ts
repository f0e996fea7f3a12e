import type { ReadinessCheck } from '../../shared/readiness.js';
import type { OutboxEvent } from './events.js';

export interface Subscription {
  stop(): Promise<void>;
}

/**
 * Where the outbox relay publishes committed events and consumers receive them. Every adapter
 * (in-process, Redis Streams, Kafka) passes the same contract suite: every published event
 * reaches every subscribed group at least once; within a group each event is handled by one
 * consumer; events of one key arrive in publish order; an event whose handler throws is
 * delivered again; `publish` resolves only once the bus holds the events durably (or, in
 * process, once the handlers are done).
 */
export interface EventBus {
  readonly name: 'inprocess' | 'redis' | 'kafka';
  publish(events: OutboxEvent[]): Promise<void>;
  subscribe(group: string, handler: (event: OutboxEvent) => Promise<void>): Promise<Subscription>;
  close(): Promise<void>;
  /**
   * Why this bus cannot carry events yet (a client not connected, a group not joined), for the
   * readiness probe; absent when publishing and subscribing need nothing to be ready first.
   */
  readiness?: ReadinessCheck;
}
