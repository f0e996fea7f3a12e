import { createHash } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import { AppError } from '../shared/errors.js';
import type { Executor } from './client.js';
import { query, queryOne } from './sql.js';

export type IdempotencyScope = 'charge' | 'hold' | 'reservation';

export interface IdempotencyKey {
  userId: number;
  scope: IdempotencyScope;
  key: string;
  /** The request fields the key stands for; the same key with other fields is refused (422). */
  request: unknown;
}

export interface Idempotent<T> {
  value: T;
  replayed: boolean;
}

const keyField: Record<IdempotencyScope, string> = {
  charge: 'Idempotency-Key',
  hold: 'seatHoldUuid',
  reservation: 'reservationUuid',
};

const fingerprint = (request: unknown): string =>
  createHash('sha256').update(JSON.stringify(request)).digest('base64url');

/**
 * Runs `work` at most once per key, inside the caller's transaction. The key row is claimed
 * before the work: a concurrent request with the same key blocks on that row until the first
 * transaction ends, then reads its committed result (or, if it rolled back, does the work
 * itself). Failures are not recorded: they leave no state, so a retry may succeed later.
 */
export async function runOnce<T>(
  tx: Executor,
  key: IdempotencyKey,
  work: () => Promise<T>,
  options: { workSavesResponse?: boolean } = {},
): Promise<Idempotent<T>> {
  const hash = fingerprint(key.request);
  const claimed = await queryOne<{ claimed: boolean }>(
    tx,
    sql`INSERT INTO idempotency_keys (user_id, scope, key, request_hash)
        VALUES (${key.userId}, ${key.scope}, ${key.key}, ${hash})
        ON CONFLICT DO NOTHING RETURNING true AS claimed`,
    { prepared: true },
  );
  if (!claimed) {
    const stored = await queryOne<{ request_hash: string; response: T }>(
      tx,
      sql`SELECT request_hash, response FROM idempotency_keys
          WHERE user_id = ${key.userId} AND scope = ${key.scope} AND key = ${key.key}`,
      { prepared: true },
    );
    if (!stored || stored.response === null)
      throw new Error(`idempotency key ${key.scope}/${key.key} has no result`);
    if (stored.request_hash !== hash) {
      throw new AppError(
        'IDEMPOTENCY_KEY_REUSED',
        `This ${key.scope} key was already used for a different request.`,
        {
          field: keyField[key.scope],
        },
      );
    }
    return { value: stored.response, replayed: true };
  }
  const value = await work();
  if (!options.workSavesResponse) {
    await query(
      tx,
      sql`UPDATE idempotency_keys SET response = ${JSON.stringify(value)}::jsonb
          WHERE user_id = ${key.userId} AND scope = ${key.scope} AND key = ${key.key}`,
      { prepared: true },
    );
  }
  return { value, replayed: false };
}

/**
 * The statement that records `response` (a jsonb SQL expression) as the key's result, for work
 * that saves it in its own statement (runOnce with workSavesResponse) to spare a round trip.
 */
export const saveResponse = (
  key: Pick<IdempotencyKey, 'userId' | 'scope' | 'key'>,
  response: SQL,
): SQL =>
  sql`UPDATE idempotency_keys SET response = ${response}
      WHERE user_id = ${key.userId} AND scope = ${key.scope} AND key = ${key.key}`;
