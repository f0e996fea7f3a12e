import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * The whole relational model. Every invariant that protects seats and money is a constraint
 * here, not only a check in code: balance >= 0, one reservation per seat, one live queue token
 * per user, one hold row per seat and one HELD row per user.
 *
 * Money is integer won in bigint columns; the application keeps every amount below 2^53
 * (MAX_BALANCE), so reading them as JS numbers is exact.
 */
const id = (name: string) => bigint(name, { mode: 'number' });
const money = (name: string) => bigint(name, { mode: 'number' });
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const users = pgTable(
  'users',
  {
    id: id('id').primaryKey(),
    balance: money('balance').notNull().default(0),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [check('users_balance_non_negative', sql`${t.balance} >= 0`)],
);

export const pointTransactions = pgTable(
  'point_transactions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: id('user_id')
      .notNull()
      .references(() => users.id),
    type: text('type', { enum: ['CHARGE', 'USE'] }).notNull(),
    amount: money('amount').notNull(),
    balanceAfter: money('balance_after').notNull(),
    reservationId: id('reservation_id'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    check('point_transactions_amount_positive', sql`${t.amount} > 0`),
    check('point_transactions_type', sql`${t.type} IN ('CHARGE', 'USE')`),
    // A user's ledger in order (history, and the audit "ledger sum = balance").
    index('point_transactions_user_idx').on(t.userId, t.id),
  ],
);

export const concerts = pgTable('concerts', {
  // No secondary index: the list is a handful of rows read whole and sorted in memory by the planner.
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  title: text('title').notNull(),
  venue: text('venue').notNull(),
  showDatetime: at('show_datetime').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
});

export const seats = pgTable(
  'seats',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    concertId: id('concert_id')
      .notNull()
      .references(() => concerts.id),
    seatNumber: integer('seat_number').notNull(),
    price: money('price').notNull(),
  },
  (t) => [
    check('seats_number_positive', sql`${t.seatNumber} >= 1`),
    check('seats_price_positive', sql`${t.price} > 0`),
    // The seat map of one concert in seat order (the seed's 33x composite index), and no
    // duplicate seat numbers.
    uniqueIndex('seats_concert_number_key').on(t.concertId, t.seatNumber),
  ],
);

export const queueTokens = pgTable(
  'queue_tokens',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    // Place in arrival order, gapless: taken from queue_counter in the joining statement (see
    // queue_counter). Null only for rows older than the column.
    arrival: bigint('arrival', { mode: 'number' }),
    token: text('token').notNull(),
    userId: id('user_id').notNull(),
    status: text('status', { enum: ['WAITING', 'ACTIVE', 'EXPIRED'] }).notNull(),
    enteredAt: at('entered_at').notNull().defaultNow(),
    activatedAt: at('activated_at'),
    // End of free shopping; expires_at may reach past it while a seat hold keeps the token alive
    // for that hold's concert (hold_concert_id).
    activeUntil: at('active_until'),
    expiresAt: at('expires_at'),
    holdConcertId: id('hold_concert_id'),
    lastSeenAt: at('last_seen_at').notNull().defaultNow(),
    expiredAt: at('expired_at'),
  },
  (t) => [
    check('queue_tokens_status', sql`${t.status} IN ('WAITING', 'ACTIVE', 'EXPIRED')`),
    check(
      'queue_tokens_active_has_expiry',
      sql`${t.status} <> 'ACTIVE' OR (${t.expiresAt} IS NOT NULL AND ${t.activeUntil} IS NOT NULL)`,
    ),
    // Every queue-protected request looks its token up by value.
    uniqueIndex('queue_tokens_token_key').on(t.token),
    // One live token per user: concurrent joins of one user converge on one row, and re-entry
    // finds it by user id.
    uniqueIndex('queue_tokens_live_user_key')
      .on(t.userId)
      .where(sql`${t.status} IN ('WAITING', 'ACTIVE')`),
    // Head of the line: admission takes the lowest arrivals, a position starts from the lowest.
    index('queue_tokens_waiting_arrival_idx')
      .on(t.arrival)
      .where(sql`${t.status} = 'WAITING'`),
    // Tokens that left the line without being admitted: a position subtracts those between the
    // head and itself (a handful), instead of counting everyone ahead.
    index('queue_tokens_departed_arrival_idx')
      .on(t.arrival)
      .where(sql`${t.status} = 'EXPIRED' AND ${t.activatedAt} IS NULL`),
    // Idle WAITING tokens for the expiry sweep.
    index('queue_tokens_waiting_seen_idx')
      .on(t.lastSeenAt)
      .where(sql`${t.status} = 'WAITING'`),
    // ACTIVE tokens: the active count (at most MAX_ACTIVE rows) and the expiry sweep.
    index('queue_tokens_active_expiry_idx')
      .on(t.expiresAt)
      .where(sql`${t.status} = 'ACTIVE'`),
    // Purge of old EXPIRED rows.
    index('queue_tokens_expired_at_idx')
      .on(t.expiredAt)
      .where(sql`${t.status} = 'EXPIRED'`),
  ],
);

/**
 * The arrival counter of the Postgres waiting room: one row. A join takes the next number in the
 * same statement that inserts its token, holding the row lock until that statement commits, so
 * numbers are given out in commit order without gaps — an admission never sees a later arrival
 * while an earlier one is still being written, and a position is arithmetic:
 * my arrival − head arrival + 1 − (departed and skipped numbers in between).
 */
export const queueCounter = pgTable('queue_counter', {
  id: integer('id').primaryKey(),
  lastArrival: bigint('last_arrival', { mode: 'number' }).notNull(),
});

/**
 * Arrival numbers a join took but did not use (the user turned out to have a live token): the
 * line skips them like departures.
 */
export const queueSkippedArrivals = pgTable('queue_skipped_arrivals', {
  arrival: bigint('arrival', { mode: 'number' }).primaryKey(),
});

/**
 * The claim on each seat: at most one row per seat (primary key). A row is a live hold while
 * status = HELD and expires_at > now(); an expired HELD row is taken over atomically by the next
 * hold (INSERT … ON CONFLICT DO UPDATE … WHERE expired), and SOLD rows are never taken over.
 */
export const seatHolds = pgTable(
  'seat_holds',
  {
    seatId: id('seat_id')
      .primaryKey()
      .references(() => seats.id),
    userId: id('user_id').notNull(),
    holdUuid: uuid('hold_uuid').notNull(),
    status: text('status', { enum: ['HELD', 'SOLD'] }).notNull(),
    expiresAt: at('expires_at').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    check('seat_holds_status', sql`${t.status} IN ('HELD', 'SOLD')`),
    // One HELD row per user (live or expired): "one live hold per user" holds in the database,
    // and pay/release/grace checks find the user's hold by user id.
    uniqueIndex('seat_holds_held_user_key')
      .on(t.userId)
      .where(sql`${t.status} = 'HELD'`),
  ],
);

export const reservations = pgTable(
  'reservations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    reservationUuid: uuid('reservation_uuid').notNull(),
    userId: id('user_id')
      .notNull()
      .references(() => users.id),
    concertId: id('concert_id')
      .notNull()
      .references(() => concerts.id),
    seatId: id('seat_id')
      .notNull()
      .references(() => seats.id),
    price: money('price').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    // A seat is sold at most once, whatever the application does.
    uniqueIndex('reservations_seat_key').on(t.seatId),
    // One reservation per client key per user; also "my reservations" by user.
    uniqueIndex('reservations_user_uuid_key').on(t.userId, t.reservationUuid),
    index('reservations_user_idx').on(t.userId, t.id),
  ],
);

/**
 * Queue tokens that paid: the payment inserts its token here in its own transaction, so a second
 * payment on the same token fails on the key whichever waiting room keeps the token (a Redis
 * token is read before the transaction and expired only after commit). Purged after the
 * retention period, long after any token could still be live.
 */
export const spentQueueTokens = pgTable(
  'spent_queue_tokens',
  {
    token: text('token').primaryKey(),
    spentAt: at('spent_at').notNull().defaultNow(),
  },
  (t) => [index('spent_queue_tokens_spent_at_idx').on(t.spentAt)],
);

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

export const concertRanking = pgTable(
  'concert_ranking',
  {
    concertId: id('concert_id')
      .primaryKey()
      .references(() => concerts.id),
    confirmedCount: bigint('confirmed_count', { mode: 'number' }).notNull().default(0),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  // The popular list: top N by count, ties by concert id, read straight off the index.
  (t) => [index('concert_ranking_count_idx').on(t.confirmedCount.desc(), t.concertId)],
);

/**
 * Results of idempotent requests (charge Idempotency-Key, seatHoldUuid, reservationUuid), per
 * user and kind. The row is claimed first in the request's transaction, so a concurrent replay
 * waits on it and then reads the committed result; a failed request rolls back its claim.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: id('user_id').notNull(),
    scope: text('scope', { enum: ['charge', 'hold', 'reservation'] }).notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    response: jsonb('response'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.scope, t.key] }),
    // Purge of old keys.
    index('idempotency_keys_created_idx').on(t.createdAt),
  ],
);
