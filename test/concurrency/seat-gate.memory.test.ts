import { expect, it } from 'vitest';
import { describeWithPostgres, transactionCount } from '../support/db.js';
import { createConcert } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * The seat gate without Redis (postgres waiting room): within one instance, concurrent holds of
 * one seat wait for the attempt deciding it and get its 409 without a hold transaction of their
 * own. Each request still reads its queue token (one autocommit read); the hold transactions are
 * what the gate saves. The database still decides: exactly one hold.
 */
describeWithPostgres('seat-hold gate in memory (no Redis)', () => {
  const db = useTestDatabase();

  const storm = async (
    server: TestServer,
    firstUser: number,
    seatId: number,
    concertId: number,
  ) => {
    const tokens = await Promise.all(
      Array.from({ length: 200 }, (_, i) => server.client.activeToken(firstUser + i)),
    );
    const before = await transactionCount(db.url);
    const replies = await Promise.all(
      tokens.map((token) => server.client.hold(token, concertId, seatId)),
    );
    const spent = (await transactionCount(db.url)) - before;
    return { statuses: replies.map((reply) => `${reply.status} ${reply.code}`), spent };
  };

  it('lets one of 200 holds through and saves the losers their transactions', async () => {
    const concert = await createConcert(db.pool, { seats: 2 });
    const quiet = {
      QUEUE_BACKEND: 'postgres',
      MAX_ACTIVE: '1000',
      OUTBOX_INTERVAL_MS: '60000',
      DELIVERY_INTERVAL_MS: '60000',
      ADMISSION_INTERVAL_MS: '60000',
    };
    const gated = await startTestServer(db, quiet);
    const withGate = await storm(gated, 1, concert.seatIds[0]!, concert.concertId);
    await gated.close();
    const plain = await startTestServer(db, { ...quiet, SEAT_GATE_ENABLED: 'false' });
    const without = await storm(plain, 1_000, concert.seatIds[1]!, concert.concertId);
    await plain.close();

    for (const { statuses } of [withGate, without]) {
      expect(statuses.filter((status) => status === '201 SUCCESS')).toHaveLength(1);
      expect(statuses.filter((status) => status === '409 SEAT_ALREADY_HELD')).toHaveLength(199);
    }
    const holds = await db.pool.query(`SELECT seat_id FROM seat_holds WHERE status = 'HELD'`);
    expect(holds.rows).toHaveLength(2);
    // 200 token reads plus about one hold transaction, against 200 reads plus 200 holds.
    expect(withGate.spent).toBeLessThan(230);
    expect(without.spent).toBeGreaterThanOrEqual(380);
  });
});
