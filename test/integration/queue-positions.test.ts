import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createPostgresQueueStore } from '../../src/modules/queue/queue.store.postgres.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';

/**
 * Proves: the Postgres waiting room's arithmetic position (distance from the head less the
 * departures and skipped numbers in between) equals the brute-force count of WAITING tokens ahead,
 * whatever mix of joins, re-joins, leaves and admissions came before.
 */
describeWithPostgres('exact positions by arithmetic', () => {
  let db: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    db = await createTestDatabase();
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
    await db?.drop();
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
            if (step.kind === 'join') await store.enter(step.user);
            else if (step.kind === 'burst')
              await Promise.all([1, 2, 3].map(() => store.enter(step.user)));
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
});
