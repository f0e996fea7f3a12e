import { sql } from 'drizzle-orm';
import {
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { at } from './columns.js';

/** Events written in the same transaction as the change they describe; relayed after commit. */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventId: uuid('event_id').notNull(),
    type: text('type').notNull(),
    // Ordering key (the concert id): one concert's events are relayed in order, by one relay.
    key: text('key').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    // Set once the bus has accepted the event (the relay's "sent" mark).
    publishedAt: at('published_at'),
    // W3C traceparent of the change that wrote the event, when tracing is on: the relay and the
    // consumers continue that trace (src/shared/tracing.ts).
    traceContext: text('trace_context'),
  },
  (t) => [
    uniqueIndex('outbox_event_id_key').on(t.eventId),
    // The relay reads unsent events oldest first; sent rows drop out of the index.
    index('outbox_unsent_idx')
      .on(t.id)
      .where(sql`${t.publishedAt} IS NULL`),
    // Purge of old sent events.
    index('outbox_published_at_idx')
      .on(t.publishedAt)
      .where(sql`${t.publishedAt} IS NOT NULL`),
  ],
);

/**
 * Which relay instance owns each shard of the outbox (events are sharded by hash of their key).
 * A lease expires, so a crashed relay's shards are taken over; while held, one shard's events
 * are published by one relay, in order.
 */
export const outboxRelayLeases = pgTable('outbox_relay_leases', {
  shard: integer('shard').primaryKey(),
  owner: text('owner').notNull(),
  leaseUntil: at('lease_until').notNull(),
});

/**
 * Work a consumer owes an event: a retry after a failed first delivery, or a deferred effect
 * (the data-platform send). PENDING rows are retried with backoff; after the last attempt the row
 * turns DEAD (a dead letter) and keeps the event and the last error until an operator replays
 * it. A row that succeeded turns DELIVERED and stays for RETENTION_HOURS: the primary key then
 * refuses the same (consumer, event) again, so an event the relay publishes twice is not sent
 * twice.
 */
export const eventDeliveries = pgTable(
  'event_deliveries',
  {
    consumer: text('consumer').notNull(),
    eventId: uuid('event_id').notNull(),
    event: jsonb('event').notNull(),
    status: text('status', { enum: ['PENDING', 'DEAD', 'DELIVERED'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: at('next_attempt_at').notNull().defaultNow(),
    lastError: text('last_error'),
    // First failure since the row was written or replayed: the start of its retry horizon.
    failingSince: at('failing_since'),
    replays: integer('replays').notNull().default(0),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.consumer, t.eventId] }),
    check('event_deliveries_status', sql`${t.status} IN ('PENDING', 'DEAD', 'DELIVERED')`),
    // The delivery worker takes due PENDING rows, earliest first.
    index('event_deliveries_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'PENDING'`),
    // Operators list dead letters, newest first.
    index('event_deliveries_dead_idx')
      .on(t.updatedAt)
      .where(sql`${t.status} = 'DEAD'`),
    // Housekeeping purges delivered records after the retention period.
    index('event_deliveries_delivered_idx')
      .on(t.updatedAt)
      .where(sql`${t.status} = 'DELIVERED'`),
  ],
);

/** The inbox of each consumer: an event id appears once, so a redelivered event has no effect. */
export const processedEvents = pgTable(
  'processed_events',
  {
    consumer: text('consumer').notNull(),
    eventId: uuid('event_id').notNull(),
    processedAt: at('processed_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);
