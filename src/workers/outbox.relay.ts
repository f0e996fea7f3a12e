import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { toDate, toNumber } from '../db/client.js';
import { query, queryOne } from '../db/sql.js';
import type { EventBus } from '../modules/events/bus.js';
import type { OutboxEvent } from '../modules/events/events.js';
import { createLoop, type Loop } from './loop.js';

export interface OutboxRelayOptions {
  intervalMs: number;
  /** Shards of the outbox (by hash of the event key); each is relayed by one instance at a time. */
  shards?: number;
  batchSize?: number;
  leaseMs?: number;
  logger: Logger;
}

export interface OutboxLag {
  /** Committed events the bus has not accepted yet. */
  unsent: number;
  /** Age of the oldest of them, in seconds (0 when none). */
  oldestUnsentSeconds: number;
}

export interface OutboxRelay extends Loop {
  lag: () => Promise<OutboxLag>;
}

/**
 * Publishes committed outbox rows to the bus, oldest first, at least once: a row is marked sent
 * only after the bus accepted it, so a crash in between publishes it again (consumers are
 * idempotent by event id). Instances share the work by shard leases: the relay holding a shard's
 * lease is the only one publishing that shard, which keeps one key's events in order; a crashed
 * relay's lease runs out and another instance takes the shard over. No transaction stays open
 * while publishing.
 */
export function createOutboxRelay(
  database: Database,
  bus: EventBus,
  options: OutboxRelayOptions,
): OutboxRelay {
  const db = database.orm;
  const shards = options.shards ?? 4;
  const batchSize = options.batchSize ?? 200;
  const lease = `${options.leaseMs ?? 30_000} milliseconds`;
  const owner = `relay-${randomUUID()}`;
  let lastLagLog = 0;

  const acquire = async (shard: number): Promise<boolean> => {
    const row = await queryOne(
      db,
      sql`INSERT INTO outbox_relay_leases (shard, owner, lease_until) VALUES (${shard}, ${owner}, now() + ${lease}::interval)
          ON CONFLICT (shard) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
            WHERE outbox_relay_leases.owner = excluded.owner OR outbox_relay_leases.lease_until < now()
          RETURNING shard`,
    );
    return row !== undefined;
  };

  async function relayShard(shard: number): Promise<void> {
    for (;;) {
      const rows = await query<{
        id: number | string;
        event_id: string;
        type: string;
        key: string;
        payload: unknown;
        created_at: Date | string;
      }>(
        db,
        sql`SELECT id, event_id, type, key, payload, created_at FROM outbox
            WHERE published_at IS NULL AND (hashtext(key) & 2147483647) % ${shards} = ${shard}
            ORDER BY id LIMIT ${batchSize}`,
      );
      if (rows.length === 0) return;
      const events: OutboxEvent[] = rows.map((row) => ({
        id: toNumber(row.id),
        eventId: row.event_id,
        type: row.type,
        key: row.key,
        payload: row.payload,
        createdAt: toDate(row.created_at).toISOString(),
      }));
      await bus.publish(events);
      await db.execute(
        sql`UPDATE outbox SET published_at = now() WHERE id IN (${sql.join(
          events.map((event) => sql`${event.id}`),
          sql`, `,
        )})`,
      );
      if (rows.length < batchSize) return;
    }
  }

  async function lag(): Promise<OutboxLag> {
    const row = await queryOne<{ unsent: number; oldest: number | null }>(
      db,
      sql`SELECT count(*)::int AS unsent, extract(epoch FROM now() - min(created_at))::float8 AS oldest
          FROM outbox WHERE published_at IS NULL`,
    );
    return {
      unsent: row?.unsent ?? 0,
      oldestUnsentSeconds: Math.max(0, Math.round((row?.oldest ?? 0) * 10) / 10),
    };
  }

  const loop = createLoop(
    'outbox-relay',
    options.intervalMs,
    async () => {
      try {
        for (let shard = 0; shard < shards; shard++) {
          if (await acquire(shard)) await relayShard(shard);
        }
      } catch (error) {
        // The bus (or the database) is down: nothing was marked sent; the next run retries.
        const current = await lag().catch(() => undefined);
        options.logger.warn(
          { err: error, lag: current },
          'outbox relay could not publish; will retry',
        );
        return;
      }
      if (Date.now() - lastLagLog > 60_000) {
        lastLagLog = Date.now();
        const current = await lag();
        if (current.unsent > 0) options.logger.info({ lag: current }, 'outbox lag');
      }
    },
    options.logger,
  );

  return {
    ...loop,
    lag,
    async stop() {
      await loop.stop();
      // Hand the shards over at once instead of after the lease runs out.
      await db
        .execute(sql`DELETE FROM outbox_relay_leases WHERE owner = ${owner}`)
        .catch(() => undefined);
    },
  };
}
