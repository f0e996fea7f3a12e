import { sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { runOnce } from '../../db/idempotency.js';
import { queryOne, transaction } from '../../db/sql.js';
import { refusable } from '../../shared/outcome.js';
import type { BalanceStore, ChargeRefusal, ChargeRequest } from './balance.store.js';

type Refuse = (refusal: ChargeRefusal) => never;

export function createPostgresBalanceStore(
  database: Database,
  options: { maxBalance: number },
): BalanceStore {
  const db = database;

  /** Creates the user if needed, adds the amount unless it would pass MAX_BALANCE, writes the ledger. */
  async function addToBalance(
    executor: Executor,
    request: ChargeRequest,
    refuse: Refuse,
  ): Promise<{ balance: number }> {
    const row = await queryOne<{ balance: number }>(
      executor,
      sql`WITH account AS (
            INSERT INTO users (id, balance) VALUES (${request.userId}, ${request.amount})
            ON CONFLICT (id) DO UPDATE SET balance = users.balance + excluded.balance, updated_at = now()
              WHERE users.balance + excluded.balance <= ${options.maxBalance}
            RETURNING id, balance),
          ledger AS (
            INSERT INTO point_transactions (user_id, type, amount, balance_after)
            SELECT id, 'CHARGE', ${request.amount}, balance FROM account)
          SELECT balance FROM account`,
      { prepared: true },
    );
    if (!row) refuse({ reason: 'balance-limit', maxBalance: options.maxBalance });
    return { balance: row.balance };
  }

  return {
    async balance(userId) {
      // A read never writes: a user the database does not know has 0 (their first charge creates
      // the row), so reading made-up ids cannot grow the users table.
      const row = await queryOne<{ balance: number }>(
        db,
        sql`SELECT balance FROM users WHERE id = ${userId}`,
        { prepared: true },
      );
      return row?.balance ?? 0;
    },

    // A refusal unwinds like an error: the key's transaction rolls back, so nothing records it
    // and a retry with the same key may succeed later.
    charge: (request) =>
      refusable(async (refuse) => {
        const { idempotencyKey } = request;
        if (idempotencyKey === undefined)
          return { value: await addToBalance(db, request, refuse), replayed: false };
        return transaction(database, (tx) =>
          runOnce(
            tx,
            {
              userId: request.userId,
              scope: 'charge',
              key: idempotencyKey,
              request: { amount: request.amount },
            },
            () => addToBalance(tx, request, refuse),
          ),
        );
      }),
  };
}
