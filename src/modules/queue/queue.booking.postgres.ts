import { sql } from 'drizzle-orm';
import { query, queryOne } from '../../db/sql.js';
import { accessError, liveRefusal } from './queue.rules.js';
import { inWrongRoom } from './queue.rooms.postgres.js';
import { tokenColumns, toRecord, type TokenRow } from './queue.rows.postgres.js';
import type { BookingTokens, VerifiedToken } from './queue.booking.js';

/**
 * Tokens kept in the booking database (QUEUE_BACKEND=postgres): a booking locks the token's row
 * and changes it inside its own transaction — extended with a hold, put back on a release,
 * expired by the payment statement — so the expiry sweep can never come in between and nothing
 * is left to do after the commit.
 */
export function createPostgresBookingTokens(options: { idleSeconds: number }): BookingTokens {
  const idleMs = options.idleSeconds * 1000;
  const afterCommit = () => Promise.resolve();

  return {
    open(tx, record, action) {
      return {
        live: () => liveRefusal(record.state, record.now, idleMs),

        async verify(concertId) {
          const row = await queryOne<TokenRow>(
            tx,
            sql`SELECT ${tokenColumns}, now() AS now FROM queue_tokens WHERE token = ${record.token} FOR UPDATE`,
            { prepared: true },
          );
          if (!row) return { ok: false, refusal: 'TOKEN_GONE' };
          if (await inWrongRoom(tx, record, concertId))
            return { ok: false, refusal: 'QUEUE_TOKEN_WRONG_ROOM' };
          const current = toRecord(row);
          const refusal = accessError(current.state, current.now, idleMs, action, concertId);
          if (refusal !== null) return { ok: false, refusal };
          const id = row.id;
          const verified: VerifiedToken = {
            async extendForHold(holdExpiresAt, holdConcertId) {
              await query(
                tx,
                sql`UPDATE queue_tokens SET expires_at = greatest(active_until, ${holdExpiresAt.toISOString()}::timestamptz),
                      hold_concert_id = ${holdConcertId}
                    WHERE id = ${id} AND status = 'ACTIVE'`,
                { prepared: true },
              );
            },
            async endHoldExtension() {
              await query(
                tx,
                sql`UPDATE queue_tokens SET expires_at = active_until, hold_concert_id = NULL
                    WHERE id = ${id} AND status = 'ACTIVE'`,
                { prepared: true },
              );
            },
            spendStep: (paid) =>
              sql`UPDATE queue_tokens SET status = 'EXPIRED', expired_at = now()
            WHERE id = ${id}::bigint AND status = 'ACTIVE' AND ${paid}`,
          };
          return { ok: true, value: verified };
        },
      };
    },
    holdTaken: afterCommit,
    holdReleased: afterCommit,
    paid: afterCommit,
  };
}
