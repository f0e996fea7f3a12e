import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { useTestServer } from '../support/suite.js';

/**
 * The shared set-up of test/support/suite.ts (docs/decisions/0053) promises an order the suites
 * moved onto it rely on: their own beforeAll runs after the server is up, their own afterAll
 * before it is closed and its database dropped, and a read before beforeAll fails in words.
 */
describeWithPostgres('useTestServer', () => {
  const { db, server } = useTestServer({ MAX_ACTIVE: '7' });
  let readAtLoad = '';
  try {
    readAtLoad = server.url;
  } catch (error) {
    readAtLoad = (error as Error).message;
  }
  let seenInBeforeAll = '';

  beforeAll(() => {
    seenInBeforeAll = server.url;
  });
  afterAll(async () => {
    // Registered after the helper, so it runs first: the server answers, the database is there.
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
    expect((await db.pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('fails in words when read before beforeAll', () => {
    expect(readAtLoad).toBe(
      'The test server is made in beforeAll: use it in a hook or a test, not at load time',
    );
  });

  it('has the server up for the suite’s own beforeAll, on its own database and settings', async () => {
    expect(seenInBeforeAll).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.container.config.MAX_ACTIVE).toBe(7);
    expect(server.container.config.DATABASE_URL).toBe(db.url);
    expect(db.url).toMatch(/\/overture_t_\d+_[0-9a-f]{8}$/);
    expect((await server.client.join(1)).status).toBe(201);
  });
});
