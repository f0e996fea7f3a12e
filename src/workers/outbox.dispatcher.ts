import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { toNumber } from '../db/client.js';
import { query } from '../db/sql.js';
import type { EventConsumer, OutboxEvent } from '../modules/events/events.js';
import { createLoop, type Loop } from './loop.js';

export interface OutboxDispatcherOptions {
  intervalMs: number;
  batchSize?: number;
  logger: Logger;
  /** Called after a batch with at least one processed event committed. */
  onDelivered?: (events: OutboxEvent[]) => void;
}

/** Retry delay after the n-th failure: 1 s, 2 s, 4 s … capped at 5 minutes. */
export const retryDelayMs = (attempts: number): number =>
  Math.min(1000 * 2 ** Math.max(attempts - 1, 0), 300_000);

/**
 * In-process delivery of committed outbox events to consumers. Each batch is one transaction:
 * rows are claimed with FOR UPDATE SKIP LOCKED (instances share the work without taking the
 * same event), each event runs its consumers in a savepoint, and the row is marked processed in
 * that same transaction — so a consumer's database effect and "processed" commit together.
 * A failing event is retried later with backoff and does not hold back the others.
 */
export function createOutboxDispatcher(
  database: Database,
  consumers: EventConsumer[],
  options: OutboxDispatcherOptions,
): Loop {
  const batchSize = options.batchSize ?? 100;

  async function dispatchBatch(): Promise<number> {
    const delivered: OutboxEvent[] = [];
    const claimed = await database.orm.transaction(async (tx) => {
      const rows = await query<{
        id: number | string;
        event_id: string;
        type: string;
        key: string;
        payload: unknown;
        attempts: number;
      }>(
        tx,
        sql`SELECT id, event_id, type, key, payload, attempts FROM outbox
            WHERE processed_at IS NULL AND available_at <= now()
            ORDER BY id LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`,
      );
      for (const row of rows) {
        const event: OutboxEvent = {
          id: toNumber(row.id),
          eventId: row.event_id,
          type: row.type,
          key: row.key,
          payload: row.payload,
        };
        try {
          await tx.transaction(async (savepoint) => {
            for (const consumer of consumers) await consumer.handle(event, savepoint);
          });
          delivered.push(event);
        } catch (error) {
          const attempts = row.attempts + 1;
          options.logger.warn(
            { err: error, eventId: event.eventId, attempts },
            'outbox event failed; will retry',
          );
          await tx.execute(
            sql`UPDATE outbox SET attempts = ${attempts}, last_error = ${String(error)},
                  available_at = now() + ${`${retryDelayMs(attempts)} milliseconds`}::interval
                WHERE id = ${event.id}`,
          );
        }
      }
      if (delivered.length > 0) {
        await tx.execute(
          sql`UPDATE outbox SET processed_at = now(), attempts = attempts + 1
              WHERE id IN (${sql.join(
                delivered.map((event) => sql`${event.id}`),
                sql`, `,
              )})`,
        );
      }
      return rows.length;
    });
    if (delivered.length > 0) options.onDelivered?.(delivered);
    return claimed;
  }

  return createLoop(
    'outbox-dispatcher',
    options.intervalMs,
    async () => {
      while ((await dispatchBatch()) === batchSize) {
        // a full batch: more may be waiting
      }
    },
    options.logger,
  );
}
