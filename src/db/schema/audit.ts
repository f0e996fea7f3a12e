import { sql } from 'drizzle-orm';
import { bigserial, check, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { at } from './columns.js';

/**
 * Every operator action, append-only (docs/decisions/0034): written in the transaction of the
 * change it records; a trigger refuses UPDATE, DELETE and TRUNCATE.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    // The transaction's time: the change and its record carry the same instant.
    at: at('at').notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    outcome: text('outcome', { enum: ['SUCCESS', 'REFUSED'] }).notNull(),
    // The refusal's code (VENUE_IN_USE, INVALID_SEAT_MAP, …); null on success.
    code: text('code'),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    before: jsonb('before'),
    after: jsonb('after'),
    requestId: text('request_id'),
  },
  (t) => [
    check('audit_log_outcome', sql`${t.outcome} IN ('SUCCESS', 'REFUSED')`),
    // The log newest first, by target and by actor (the id orders it: ids grow with time).
    index('audit_log_target_idx').on(t.targetType, t.targetId, t.id),
    index('audit_log_actor_idx').on(t.actor, t.id),
    index('audit_log_action_idx').on(t.action, t.id),
  ],
);
