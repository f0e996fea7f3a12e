import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { PRESENCE_LOCK, type Presence } from '../db/presence.js';
import { query, queryOne } from '../db/sql.js';
import type { EventBus } from '../modules/events/bus.js';
import type { OutboxEvent, OutboxLag } from '../modules/events/events.js';
import { createLoop, type Loop } from '../shared/loop.js';
import { publishTraced } from '../shared/tracing.js';

export interface OutboxRelayOptions {
  intervalMs: number;
  /** Shards of the outbox (by hash of the event key); each is relayed by one instance at a time. */
  shards?: number;
  batchSize?: number;
  leaseMs?: number;
  /** This process's presence lock: the owner name of its leases, and how peers tell it is gone. */
  presence: Presence;
  logger: Logger;
}

export interface OutboxRelay extends Loop {
  lag: () => Promise<OutboxLag>;
}

/**
 * Publishes committed outbox rows to the bus, oldest first, at least once: a row is marked sent
 * only after the bus accepted it, so a crash in between publishes it again (consumers are
 * idempotent by event id). No transaction stays open while publishing.
 *
 * Instances share the work by shard leases: the relay holding a shard's lease is the only one
 * publishing that shard, which keeps one key's events in order. The lease is renewed before each
 * batch, and a relay that finds it taken stops that shard. A lease moves to another relay when
 * its owner is gone — at once when the owner's presence lock is free (it stopped, crashed, was
 * killed or lost its connection: src/db/presence.ts), or when it runs out (`leaseMs`: an owner
 * that holds its lock but stopped renewing, e.g. a host cut off without its socket closing). A
 * relay publishes only while its own presence lock is held, so two live relays never publish one
 * shard at the same time; the one overlap left is a batch already handed to the bus when its
 * relay's connection dropped, bounded by that publish.
 *
 * A stop takes effect between batches: the batch in flight finishes (bounded by the bus's publish
 * timeout), no new batch or shard starts, and the leases are released so a peer — or this
 * instance restarted — takes the shards at once.
 */
/** What a publish span says about its event (OpenTelemetry's messaging conventions). */
const publishAttributes = (event: OutboxEvent) => ({
  'messaging.operation.type': 'send',
  'messaging.destination.name': event.type,
  'messaging.message.id': event.eventId,
});

export function createOutboxRelay(
  database: Database,
  bus: EventBus,
  options: OutboxRelayOptions,
): OutboxRelay {
  const db = database;
  const { presence } = options;
  const shards = options.shards ?? 4;
  const batchSize = options.batchSize ?? 200;
  const lease = `${options.leaseMs ?? 30_000} milliseconds`;
  let lastLagLog = 0;

  /**
   * Takes or renews a shard's lease: free, already ours, run out, or owned by a session that is
   * gone (its presence lock can be taken; the transaction-level test lock ends with the statement).
   * Concurrent takers serialize on the row: the second sees the first's owner, whose lock is held.
   */
  const acquire = async (owner: string, shard: number): Promise<boolean> => {
    const row = await queryOne(
      db,
      sql`INSERT INTO outbox_relay_leases (shard, owner, lease_until) VALUES (${shard}, ${owner}, now() + ${lease}::interval)
          ON CONFLICT (shard) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
            WHERE outbox_relay_leases.owner = excluded.owner OR outbox_relay_leases.lease_until < now()
              OR pg_try_advisory_xact_lock(${PRESENCE_LOCK}, hashtext(outbox_relay_leases.owner))
          RETURNING shard`,
    );
    return row !== undefined;
  };

  /** Publishes one shard's backlog, a batch at a time, while the lease and the run last. */
  async function relayShard(owner: string, shard: number, stopping: AbortSignal): Promise<void> {
    for (;;) {
      if (stopping.aborted || presence.owner() !== owner) return;
      if (!(await acquire(owner, shard))) return;
      const rows = await query<{
        id: number;
        event_id: string;
        type: string;
        key: string;
        payload: unknown;
        created_at: Date;
        trace_context: string | null;
      }>(
        db,
        sql`SELECT id, event_id, type, key, payload, created_at, trace_context FROM outbox
            WHERE published_at IS NULL AND (hashtext(key) & 2147483647) % ${shards} = ${shard}
            ORDER BY id LIMIT ${batchSize}`,
      );
      if (rows.length === 0) return;
      const events: OutboxEvent[] = rows.map((row) => ({
        id: row.id,
        eventId: row.event_id,
        type: row.type,
        key: row.key,
        payload: row.payload,
        createdAt: row.created_at.toISOString(),
        traceContext: row.trace_context,
      }));
      await publishTraced('outbox publish', events, publishAttributes, (traced) =>
        bus.publish(traced),
      );
      await query(
        db,
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

  // A failing run (bus or database down) marks nothing sent: the next run retries, and the loop
  // logs the outage once.
  const loop = createLoop(
    'outbox-relay',
    options.intervalMs,
    async (stopping) => {
      if (stopping.aborted) return;
      const owner = await presence.ensure();
      // After a stop, relayShard returns before touching its shard.
      for (let shard = 0; shard < shards; shard++) await relayShard(owner, shard, stopping);
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
      // Hand the shards over at once; should this fail, the presence lock ending with the
      // session below tells the peers all the same.
      const owner = presence.owner();
      if (owner !== undefined)
        await query(db, sql`DELETE FROM outbox_relay_leases WHERE owner = ${owner}`).catch(
          (error: unknown) =>
            options.logger.warn({ err: error }, 'outbox relay could not release its leases'),
        );
      await presence.close();
    },
  };
}
