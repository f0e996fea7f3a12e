import { describe, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { spawnServer } from '../support/process.js';
import { startTestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

const production = { NODE_ENV: 'production', ALLOW_CLIENT_ID_AUTH: 'true' } as const;

/**
 * The first start in production (issue 12, item 16). Proves: `NODE_ENV=production` without a
 * DATABASE_URL does not start silently on the embedded database — the process exits with a
 * message naming DATABASE_URL and ALLOW_EMBEDDED_DATABASE, and no stack trace — and a production
 * server loads no demo concerts unless SEED_DEMO_DATA=true asks for them.
 */
describe('starting with NODE_ENV=production', () => {
  it('refuses the embedded database with a message, not a stack trace', async () => {
    const error = await spawnServer({ ...production, DATABASE_URL: '' }).then(
      // Started after all (the bug): stop it, and fail below.
      (server) => void server.child.kill('SIGKILL'),
      (reason: unknown) => reason as Error,
    );
    expect(error?.message).toMatch(/server exited/);
    expect(error?.message).toMatch(/DATABASE_URL=postgres:\/\/.*ALLOW_EMBEDDED_DATABASE=true/);
    expect(error?.message).not.toMatch(/\n\s+at /);
  });
});

describeWithPostgres('a production server on PostgreSQL', () => {
  const db = useTestDatabase();

  const concerts = async () =>
    Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM concerts')).rows[0]?.n);

  it('loads no demo concerts unless SEED_DEMO_DATA=true asks for them', async () => {
    const quiet = await startTestServer(db, production);
    await quiet.close();
    expect(await concerts()).toBe(0);
    // All of it, on PostgreSQL: the five simple concerts and the three on the demo's venues.
    const asked = await startTestServer(db, {
      ...production,
      SEED_DEMO_DATA: 'true',
      SEED_DEMO_CATALOGUE: 'true',
    });
    await asked.close();
    expect(await concerts()).toBe(8);
    const sold = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM reservations r JOIN concerts c ON c.id = r.concert_id
       WHERE c.title = 'Midnight Piano Recital'`,
    );
    expect(sold.rows[0]?.n).toBe(120);
  });
});
