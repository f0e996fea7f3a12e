import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query, queryOne, transaction } from '../../db/sql.js';
import type { AuditContext, AuditLog } from '../audit/audit.store.js';
import type { DeadLetter, DeliveriesStore, Delivery } from './deliveries.store.js';
import type { OutboxEvent } from './events.js';
import type { NextStep } from './retry.policy.js';

const errorText = (error: unknown): string =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2000);

/** The deliveries as rows of event_deliveries, one per consumer and event. */
export function createPostgresDeliveriesStore(
  database: Database,
  /** Replays are operator actions: recorded in their transaction. */
  audit: Pick<AuditLog, 'appendIn'>,
): DeliveriesStore {
  const db = database;
  return {
    /** ON CONFLICT DO NOTHING: a second copy of the event, or one already DELIVERED, adds nothing. */
    async schedule(
      consumer: string,
      event: OutboxEvent,
      options: { delayMs: number; error?: unknown; attempts: number },
    ) {
      // A row recording failed attempts starts its retry horizon now.
      await query(
        db,
        sql`INSERT INTO event_deliveries (consumer, event_id, event, status, attempts, next_attempt_at, last_error, failing_since)
            VALUES (${consumer}, ${event.eventId}, ${JSON.stringify(event)}::jsonb, 'PENDING', ${options.attempts},
                    now() + ${`${options.delayMs} milliseconds`}::interval, ${options.error === undefined ? null : errorText(options.error)},
                    CASE WHEN ${options.attempts} > 0 THEN now() END)
            ON CONFLICT (consumer, event_id) DO NOTHING`,
      );
    },

    /** The lease moves the rows' next attempt past it; SKIP LOCKED keeps instances apart. */
    async claimDue(
      consumers: readonly string[],
      limit: number,
      leaseMs: number,
    ): Promise<Delivery[]> {
      if (consumers.length === 0) return [];
      const rows = await query<{
        consumer: string;
        event: OutboxEvent;
        attempts: number;
        failing_for_ms: number;
      }>(
        db,
        sql`UPDATE event_deliveries d SET next_attempt_at = now() + ${`${leaseMs} milliseconds`}::interval
            FROM (SELECT consumer, event_id FROM event_deliveries
                  WHERE status = 'PENDING' AND next_attempt_at <= now()
                    AND consumer IN (${sql.join(
                      consumers.map((consumer) => sql`${consumer}`),
                      sql`, `,
                    )})
                  ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED) due
            WHERE d.consumer = due.consumer AND d.event_id = due.event_id
            RETURNING d.consumer, d.event, d.attempts,
              (extract(epoch FROM now() - coalesce(d.failing_since, now())) * 1000)::float8 AS failing_for_ms`,
      );
      return rows.map((row) => ({
        consumer: row.consumer,
        event: row.event,
        attempts: row.attempts,
        failingForMs: row.failing_for_ms,
      }));
    },

    async succeeded(delivery: Delivery): Promise<void> {
      await query(
        db,
        sql`UPDATE event_deliveries SET status = 'DELIVERED', attempts = attempts + 1, updated_at = now()
            WHERE consumer = ${delivery.consumer} AND event_id = ${delivery.event.eventId} AND status = 'PENDING'`,
      );
    },

    async failed(delivery: Delivery, error: unknown, next: NextStep): Promise<void> {
      await query(
        db,
        sql`UPDATE event_deliveries
            SET attempts = attempts + 1, last_error = ${errorText(error)}, updated_at = now(),
                failing_since = coalesce(failing_since, now()),
                status = ${next.dead ? 'DEAD' : 'PENDING'},
                next_attempt_at = now() + ${`${next.dead ? 0 : next.delayMs} milliseconds`}::interval
            WHERE consumer = ${delivery.consumer} AND event_id = ${delivery.event.eventId} AND status = 'PENDING'`,
      );
    },

    async listDead(limit: number): Promise<DeadLetter[]> {
      const rows = await query<{
        consumer: string;
        event_id: string;
        event: OutboxEvent;
        attempts: number;
        last_error: string | null;
        replays: number;
        updated_at: Date;
      }>(
        db,
        sql`SELECT consumer, event_id, event, attempts, last_error, replays, updated_at FROM event_deliveries
            WHERE status = 'DEAD' ORDER BY updated_at DESC LIMIT ${limit}`,
      );
      return rows.map((row) => ({
        consumer: row.consumer,
        eventId: row.event_id,
        eventType: row.event.type,
        event: row.event,
        attempts: row.attempts,
        lastError: row.last_error,
        replays: row.replays,
        deadSince: row.updated_at.toISOString(),
      }));
    },

    /** The row before the update (locked) is what the audit entry records as `before`. */
    replay(consumer: string, eventId: string, context: AuditContext): Promise<boolean> {
      return transaction(db, async (tx) => {
        const row = await queryOne<{
          attempts: number;
          replays: number;
          last_error: string | null;
        }>(
          tx,
          sql`UPDATE event_deliveries d SET status = 'PENDING', attempts = 0, next_attempt_at = now(),
                failing_since = NULL, replays = d.replays + 1, updated_at = now()
              FROM (SELECT attempts, replays, last_error FROM event_deliveries
                    WHERE consumer = ${consumer} AND event_id = ${eventId} FOR UPDATE) before
              WHERE d.consumer = ${consumer} AND d.event_id = ${eventId} AND d.status = 'DEAD'
              RETURNING before.attempts, before.replays, before.last_error`,
        );
        if (!row) return false;
        await audit.appendIn(tx, {
          ...context,
          action: 'dead-letter.replay',
          outcome: 'SUCCESS',
          code: null,
          targetType: 'dead-letter',
          targetId: `${consumer}/${eventId}`,
          before: {
            status: 'DEAD',
            attempts: row.attempts,
            replays: row.replays,
            lastError: row.last_error,
          },
          after: { status: 'PENDING', attempts: 0, replays: row.replays + 1 },
        });
        return true;
      });
    },

    async countByStatus(): Promise<{ pending: number; dead: number }> {
      const row = await queryOne<{ pending: number; dead: number }>(
        db,
        sql`SELECT count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
                   count(*) FILTER (WHERE status = 'DEAD')::int AS dead FROM event_deliveries`,
      );
      return row ?? { pending: 0, dead: 0 };
    },
  };
}
