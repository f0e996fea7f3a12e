import type { Executor } from '../../db/client.js';
import { accessError, liveRefusal } from './queue.rules.js';
import type { BookingTokens, VerifiedToken } from './queue.booking.js';
import type { TokenRecord } from './queue.store.js';
import type { RedisQueueStore } from './queue.store.redis.js';

/** Inside the booking transaction a Redis token changes nothing: it changes after the commit. */
const unchanged: VerifiedToken = {
  extendForHold: () => Promise.resolve(),
  endHoldExtension: () => Promise.resolve(),
  spendStep: () => undefined,
};

/**
 * Tokens kept in Redis (QUEUE_BACKEND=redis or stream): a booking checks the token as it was
 * read when the request was authenticated, and the waiting room follows after the commit — the
 * hold extension, its end, the expiry after a payment. The payment's spent_queue_tokens row
 * still makes one token pay once; the Redis store's sweep delay covers the time between a hold's
 * commit and its extension (queue.store.redis.ts).
 */
export function createRedisBookingTokens(
  room: Pick<RedisQueueStore, 'holdTaken' | 'holdReleased' | 'expire'>,
  options: {
    idleSeconds: number;
    /**
     * Whether the token is for another room than the concert's, inside the booking transaction
     * (queue.rooms.postgres.ts: inWrongRoom); without it every room is the token's.
     */
    wrongRoom?: (tx: Executor, record: TokenRecord, concertId: number) => Promise<boolean>;
  },
): BookingTokens {
  const idleMs = options.idleSeconds * 1000;
  return {
    open(tx, record, action) {
      return {
        live: () => liveRefusal(record.state, record.now, idleMs),
        async verify(concertId) {
          const refusal = accessError(record.state, record.now, idleMs, action, concertId);
          if (refusal !== null) return { ok: false, refusal };
          if (await options.wrongRoom?.(tx, record, concertId))
            return { ok: false, refusal: 'QUEUE_TOKEN_WRONG_ROOM' };
          return { ok: true, value: unchanged };
        },
      };
    },
    holdTaken: (record, holdExpiresAt, concertId) =>
      room.holdTaken(record.token, holdExpiresAt, concertId),
    holdReleased: (record) => room.holdReleased(record.token),
    paid: async (record) => {
      await room.expire(record.token);
    },
  };
}
