import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';

/** Namespace of the presence locks (two-key advisory locks: namespace, hashtext(owner)). */
export const PRESENCE_LOCK = 7_284_114;

/**
 * This process's presence in the database, for work it owns by lease (the outbox shards): a
 * session-level advisory lock on (PRESENCE_LOCK, hashtext(owner)) held by a connection of its own
 * for as long as the process lives. The server releases it the moment that session ends — a
 * clean stop, kill -9, a crash or a lost connection alike — so a peer tests it
 * (`pg_try_advisory_xact_lock` on the same key succeeds only when nobody holds it) and takes a
 * dead owner's work at once instead of waiting for its lease to run out, while a live owner, slow
 * or not, keeps it.
 *
 * The owner name is new for each session (a restart, or a reconnect after the connection was
 * lost), so a name is never held by two live processes: a process whose session ended owns
 * nothing under the old name — peers and the process itself see it gone — and works under a new
 * one once it reconnects.
 */
export interface Presence {
  /** The owner name of the current session, when its lock is held. */
  owner(): string | undefined;
  /** Connects and takes the lock under a new name when no session holds one; the owner name. */
  ensure(): Promise<string>;
  /**
   * Whether this session holds `role` — work one instance of all does, such as reporting the
   * shared stores' metrics: taken when free, kept while the session lives, and free for a peer's
   * next call the moment it ends. false while no session is held.
   */
  holds(role: string): Promise<boolean>;
  /** Ends the session (its lock goes with it). */
  close(): Promise<void>;
}

/** Namespace of the role locks (two-key advisory locks: namespace, hashtext(role)). */
const ROLE_LOCK = 7_284_115;

/** Presence on a PostgreSQL server, on a connection of its own beside the pool. */
export function createPostgresPresence(url: string, logger?: Logger): Presence {
  let session: { client: pg.Client; owner: string; live: boolean; roles: Set<string> } | undefined;

  const end = async (client: pg.Client) => {
    await client.end().catch(() => undefined);
  };

  return {
    owner: () => (session?.live ? session.owner : undefined),
    async ensure() {
      if (session?.live) return session.owner;
      if (session) await end(session.client);
      session = undefined;
      const owner = `relay-${randomUUID()}`;
      const client = new pg.Client({
        connectionString: url,
        application_name: 'overture-presence',
        connectionTimeoutMillis: 5_000,
        keepAlive: true,
      });
      const current = { client, owner, live: false, roles: new Set<string>() };
      // A terminated session emits here; without a listener the process would crash.
      client.on('error', (error) => {
        if (current.live)
          logger?.warn({ err: error, owner }, 'presence connection lost; leases move to peers');
        current.live = false;
      });
      client.on('end', () => (current.live = false));
      try {
        await client.connect();
        const { rows } = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
          [PRESENCE_LOCK, owner],
        );
        // Only a hash collision with a live owner refuses a fresh name: the next call tries another.
        if (!rows[0]?.locked) throw new Error(`presence lock for ${owner} is taken`);
      } catch (error) {
        await end(client);
        throw error;
      }
      current.live = true;
      session = current;
      return owner;
    },
    async holds(role) {
      const current = session;
      if (!current?.live) return false;
      if (current.roles.has(role)) return true;
      // A session-level lock: taken once (not again on every call, which would stack it).
      const { rows } = await current.client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
        [ROLE_LOCK, role],
      );
      if (rows[0]?.locked) current.roles.add(role);
      return current.roles.has(role);
    },
    async close() {
      const closing = session;
      session = undefined;
      if (closing) {
        closing.live = false;
        await end(closing.client);
      }
    },
  };
}

/**
 * The embedded database is one process: a lease whose owner is not this session's is a previous
 * run's, and taking it at once is right (the lock test in SQL succeeds, nobody else holds it).
 */
export function createEmbeddedPresence(): Presence {
  const owner = `relay-${randomUUID()}`;
  return {
    owner: () => owner,
    ensure: () => Promise.resolve(owner),
    holds: () => Promise.resolve(true),
    close: () => Promise.resolve(),
  };
}
