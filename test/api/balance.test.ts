import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { invariantViolations } from '../support/invariants.js';
import { useTestServer } from '../support/suite.js';

describeWithPostgres('balance', () => {
  const { db, server } = useTestServer({ MAX_CHARGE_AMOUNT: '1000000', MAX_BALANCE: '2500000' });

  afterAll(async () => {
    expect(await invariantViolations(db.pool)).toEqual([]);
  });

  it('answers 0 for a user it has never seen without writing anything: reads do not create users', async () => {
    // Before, a balance read inserted a permanent users row, so anyone could grow the table by
    // reading the balances of made-up user ids.
    const rowCounts = async () =>
      (
        await db.pool.query<{ users: number; ledger: number; keys: number }>(
          `SELECT (SELECT count(*)::int FROM users) AS users,
                  (SELECT count(*)::int FROM point_transactions) AS ledger,
                  (SELECT count(*)::int FROM idempotency_keys) AS keys`,
        )
      ).rows[0];
    const before = await rowCounts();
    for (const user of [31, 9_000_000_000_001]) {
      const balance = await server.client.balance(user);
      expect([balance.status, balance.data]).toEqual([200, { balance: 0 }]);
      // The other reads a user makes with Client-Id alone.
      const mine = await server.client.mine(user);
      expect([mine.status, mine.data]).toEqual([200, []]);
    }
    expect((await server.client.popular()).status).toBe(200);
    expect(await rowCounts()).toEqual(before);
    const rows = await db.pool.query(`SELECT 1 FROM users WHERE id IN (31, 9000000000001)`);
    expect(rows.rowCount).toBe(0);
    // The first charge creates the user.
    expect((await server.client.charge(31, 500)).data).toEqual({ balance: 500 });
    expect((await server.client.balance(31)).data).toEqual({ balance: 500 });
  });

  it('charges whole positive amounts and writes a ledger row per charge', async () => {
    const { client } = server;
    expect((await client.charge(32, 1_000)).data).toEqual({ balance: 1_000 });
    expect((await client.charge(32, 2_500)).data).toEqual({ balance: 3_500 });
    const ledger = await db.pool.query(
      `SELECT type, amount::int, balance_after::int FROM point_transactions WHERE user_id = 32 ORDER BY id`,
    );
    expect(ledger.rows).toEqual([
      { type: 'CHARGE', amount: 1_000, balance_after: 1_000 },
      { type: 'CHARGE', amount: 2_500, balance_after: 3_500 },
    ]);
  });

  it('refuses amounts above the per-charge maximum and balances above the maximum, leaving the balance as it was', async () => {
    const { client } = server;
    const tooBig = await client.charge(33, 1_000_001);
    expect([tooBig.status, tooBig.code, tooBig.data]).toEqual([
      400,
      'INVALID_REQUEST',
      { field: 'amount' },
    ]);
    await client.charge(33, 1_000_000);
    await client.charge(33, 1_000_000);
    const over = await client.charge(33, 600_000);
    expect([over.status, over.code]).toEqual([409, 'BALANCE_LIMIT_EXCEEDED']);
    expect((await client.balance(33)).data.balance).toBe(2_000_000);
    expect((await client.charge(33, 500_000)).data.balance).toBe(2_500_000);
  });

  it('makes a charge with an Idempotency-Key safe to retry, and refuses the key for another amount', async () => {
    const { client } = server;
    const key = randomUUID();
    const first = await client.charge(34, 7_000, key);
    const again = await client.charge(34, 7_000, key);
    expect(first.data).toEqual({ balance: 7_000 });
    expect([again.status, again.message, again.data]).toEqual([
      200,
      'Replayed',
      { balance: 7_000 },
    ]);
    expect((await client.balance(34)).data.balance).toBe(7_000);
    const reused = await client.charge(34, 8_000, key);
    expect([reused.status, reused.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    // Keys are per user: another user may use the same key.
    expect((await client.charge(35, 1_000, key)).data).toEqual({ balance: 1_000 });
  });
});
