import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createPostgresQueueStore } from '../../src/modules/queue/queue.store.postgres.js';
import { describeWithPostgres, transactionCount } from '../support/db.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * Proves: the Postgres waiting room's arithmetic position (distance from the head less the
 * departures and skipped numbers in between) equals the brute-force count of WAITING tokens ahead,
 * whatever mix of joins, re-joins, leaves and admissions came before. And that joins arriving
 * together are written together (one statement per batch) without losing that exactness.
 */
describeWithPostgres('exact positions by arithmetic', () => {
  const db = useTestDatabase();
  let database: Database;

  beforeAll(() => {
    database = openDatabase({
      url: db.url,
      poolSize: 4,
      pgliteDir: '',
      pgliteInMemory: false,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await database?.close();
  });

  type Step =
    { kind: 'join' | 'burst'; user: number } | { kind: 'leave'; pick: number } | { kind: 'admit' };
  const steps = fc.array(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant('join' as const),
          user: fc.integer({ min: 1, max: 12 }),
        }),
      },
      // One user joining from three tabs at once: the losers' arrival numbers are skipped.
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('burst' as const),
          user: fc.integer({ min: 1, max: 12 }),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('leave' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('admit' as const) }) },
    ),
    { minLength: 5, maxLength: 40 },
  );

  it('matches the count of WAITING tokens ahead after any history', async () => {
    await fc.assert(
      fc.asyncProperty(
        steps,
        fc.integer({ min: 1, max: 3 }),
        async (history: Step[], maxActive) => {
          await db.pool.query('TRUNCATE queue_tokens, queue_skipped_arrivals');
          const store = createPostgresQueueStore(database, {
            maxActive,
            activeTtlSeconds: 600,
            idleSeconds: 600,
          });
          for (const step of history) {
            if (step.kind === 'join') await store.join(step.user);
            else if (step.kind === 'burst')
              await Promise.all([1, 2, 3].map(() => store.join(step.user)));
            else if (step.kind === 'admit') await store.admit();
            else if (step.kind === 'leave') {
              const { rows } = await db.pool.query<{ token: string }>(
                `SELECT token FROM queue_tokens WHERE status <> 'EXPIRED' ORDER BY id`,
              );
              const victim = rows[step.pick % Math.max(rows.length, 1)];
              if (victim) await store.expire(victim.token);
            }
          }
          const { rows } = await db.pool.query<{ token: string }>(
            `SELECT token FROM queue_tokens WHERE status = 'WAITING' ORDER BY arrival`,
          );
          for (const [index, row] of rows.entries()) {
            expect((await store.poll(row.token))?.position).toBe(index + 1);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('writes joins that arrive together in batches, numbered without gaps, positions 1..N', async () => {
    await db.pool.query('TRUNCATE queue_tokens, queue_skipped_arrivals');
    const store = createPostgresQueueStore(database, {
      maxActive: 1,
      activeTtlSeconds: 600,
      idleSeconds: 600,
    });
    const users = Array.from({ length: 300 }, (_, index) => 5_000 + index);
    const before = await transactionCount(db.url);
    // Each user twice at once (two tabs): still one token each.
    const views = await Promise.all([...users, ...users].map((user) => store.join(user)));
    const transactions = (await transactionCount(db.url)) - before;
    // One by one a new token takes three statements (a read that misses, the join, a fresh
    // read), 1,800 here; batched, each join's own read plus a share of its batch's two.
    expect(transactions).toBeLessThan(2 * views.length);

    const { rows } = await db.pool.query<{ token: string; arrival: string }>(
      `SELECT token, arrival FROM queue_tokens WHERE status = 'WAITING' ORDER BY arrival`,
    );
    expect(rows).toHaveLength(users.length);
    const first = Number(rows[0]!.arrival);
    expect(rows.map((row) => Number(row.arrival) - first)).toEqual(users.map((_, index) => index));
    const { rows: skipped } = await db.pool.query(`SELECT 1 FROM queue_skipped_arrivals`);
    expect(skipped).toHaveLength(0);

    const byToken = new Map(views.map((view) => [view.token, view]));
    expect(byToken.size).toBe(users.length);
    expect(rows.map((row) => byToken.get(row.token)?.position)).toEqual(
      users.map((_, index) => index + 1),
    );
  });
});
