import type { AuditContext } from '../audit/audit.store.js';
import type { OutboxEvent } from './events.js';
import type { NextStep } from './retry.policy.js';

export interface Delivery {
  consumer: string;
  event: OutboxEvent;
  attempts: number;
  /** How long it has been failing when claimed, by the database's clock (0 before any failure). */
  failingForMs: number;
}

export interface DeadLetter {
  consumer: string;
  eventId: string;
  eventType: string;
  event: OutboxEvent;
  attempts: number;
  lastError: string | null;
  replays: number;
  deadSince: string;
}

/**
 * The deliveries of events to consumers (docs/decisions/0017): the retry queue, the dead letters
 * and the record of what was delivered, per consumer and event.
 */
export interface DeliveriesStore {
  /**
   * Records work a consumer owes an event, due after `delayMs`. The record is the claim of the
   * effect, written before it is performed: the same (consumer, event) is recorded once, so
   * copies of an event delivered at the same time, or published again after it was delivered,
   * add nothing. A record of failed attempts starts its retry horizon now.
   */
  schedule(
    consumer: string,
    event: OutboxEvent,
    options: { delayMs: number; error?: unknown; attempts: number },
  ): Promise<void>;
  /**
   * Takes up to `limit` due pending deliveries of the named consumers and leases them for
   * `leaseMs`, so instances never work on the same one at once and a crashed worker's come back
   * after the lease. Only the caller's consumers: an instance configured without one (no
   * DATA_PLATFORM_URL) leaves that consumer's deliveries to the instances that have it.
   */
  claimDue(consumers: readonly string[], limit: number, leaseMs: number): Promise<Delivery[]>;
  /** The effect is done: kept as DELIVERED (purged after the retention period). */
  succeeded(delivery: Delivery): Promise<void>;
  /** Counts a failed attempt: due again after the step's delay, or DEAD. The first failure starts the retry horizon. */
  failed(delivery: Delivery, error: unknown, next: NextStep): Promise<void>;
  /** Newest first. */
  listDead(limit: number): Promise<DeadLetter[]>;
  /**
   * Puts a dead letter back in the retry queue with fresh attempts and a fresh retry horizon,
   * recorded in the audit log in the same transaction (who, and the letter before and after).
   * Replaying what is not dead (never was, or already replayed and pending) changes nothing:
   * false.
   */
  replay(consumer: string, eventId: string, context: AuditContext): Promise<boolean>;
  countByStatus(): Promise<{ pending: number; dead: number }>;
}
