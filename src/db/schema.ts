/**
 * The whole relational model, one file per module in src/db/schema/ (drizzle-kit reads it through
 * this file). Every invariant that protects seats and money is a constraint there, not only a
 * check in code: balance >= 0, one reservation per seat, one live queue token per user, one hold
 * row per seat and at most the concert's ticket limit of rows per buyer (a trigger, 0041).
 */
export * from './schema/balance.js';
export * from './schema/concerts.js';
export * from './schema/queue.js';
export * from './schema/holds.js';
export * from './schema/reservations.js';
export * from './schema/events.js';
export * from './schema/ranking.js';
export * from './schema/idempotency.js';
export * from './schema/venues.js';
export * from './schema/audit.js';
export * from './schema/pow.js';
export * from './schema/rooms.js';
export * from './schema/pre-queue.js';
