import { sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { runOnce } from '../../db/idempotency.js';
import { concertSaleLock } from '../../db/locks.js';
import { query, queryOne, transaction, violatedConstraint } from '../../db/sql.js';
import { refusable } from '../../shared/outcome.js';
import type { BookingToken, BookingTokens, VerifiedToken } from '../queue/queue.booking.js';
import { blockedHold } from './holds.rules.js';
import type { HoldDto, HoldRefusal, HoldRequest, HoldStore, TokenRefused } from './holds.store.js';

type Refuse = (refusal: HoldRefusal) => never;
type ReleaseRefusal = TokenRefused | { reason: 'no-hold' };

interface SeatRow {
  concert_id: number;
  seat_number: number;
  ended: boolean;
  /** The concert's sale window, by this transaction's clock. */
  not_open: boolean;
  closed: boolean;
  /** The concert's hold lifetime, as an interval ("300 seconds"). */
  hold_ttl: string;
  cancelled: boolean;
  /** Seats one buyer may have in this concert (1: the seed's one hold at a time). */
  ticket_limit: number;
}

/**
 * Namespace of the per-user hold lock (two-key advisory locks: namespace, hashed user id). The
 * ticket-limit trigger of migration 0009 takes the same lock, so keep the two equal.
 */
const USER_HOLD_LOCK = 7_284_113;

/**
 * Looks up the seat inside its concert with the concert's sale window and hold lifetime (read
 * under the concert's sale lock, so an operator's change is wholly before or after this hold),
 * or refuses naming which of the two does not exist.
 */
async function findSeat(
  tx: Executor,
  concertId: number,
  seatId: number,
  defaultTtlSeconds: number,
  refuse: Refuse,
): Promise<SeatRow> {
  const seat = await queryOne<SeatRow>(
    tx,
    sql`SELECT s.concert_id, s.seat_number, c.show_datetime <= now() AS ended,
          coalesce(c.sale_opens_at > now(), false) AS not_open,
          coalesce(c.sale_closes_at <= now(), false) AS closed,
          coalesce(c.hold_seconds, ${defaultTtlSeconds}::int) || ' seconds' AS hold_ttl,
          c.cancelled_at IS NOT NULL AS cancelled, c.ticket_limit
        FROM seats s JOIN concerts c ON c.id = s.concert_id
        WHERE s.id = ${seatId} AND s.concert_id = ${concertId}`,
    { prepared: true },
  );
  if (seat) return seat;
  const concert = await queryOne(tx, sql`SELECT 1 FROM concerts WHERE id = ${concertId}`);
  return refuse({ reason: concert ? 'seat-not-found' : 'concert-not-found' });
}

export function createPostgresHoldStore(
  database: Database,
  options: {
    holdTtlSeconds: number;
    /** The caller's queue token as the hold and release transactions see it. */
    tokens: Pick<BookingTokens, 'open'>;
  },
): HoldStore {
  const { tokens } = options;

  async function takeSeat(
    tx: Executor,
    request: HoldRequest,
    token: BookingToken,
    refuse: Refuse,
  ): Promise<HoldDto> {
    const dead = token.live();
    if (dead !== null) refuse({ reason: 'token', refusal: dead });
    // One user's holds take turns (two tabs holding two seats at once): each then sees the
    // other's committed hold and replaces it, instead of both colliding on the one-HELD-row-per-
    // user index. Then the concert's sale lock, shared: holds never wait for each other, and an
    // operator's change of prices or sale window waits for them (docs/decisions/0036). Both
    // taken before any seat row, so the lock order stays user → concert → seat → token.
    await query(
      tx,
      sql`SELECT pg_advisory_xact_lock(${USER_HOLD_LOCK}, hashtext(${String(request.userId)})),
                 ${concertSaleLock(request.concertId, 'shared')}`,
      { prepared: true },
    );
    const seat = await findSeat(
      tx,
      request.concertId,
      request.seatId,
      options.holdTtlSeconds,
      refuse,
    );
    if (seat.ended) refuse({ reason: 'concert-ended' });
    // A show cancelled (0039): its cancellation's commit is the line; a hold racing it is
    // released by the show-cancel job before it reports done.
    if (seat.cancelled) refuse({ reason: 'concert-cancelled' });
    if (seat.not_open) refuse({ reason: 'sale-not-open' });
    if (seat.closed) refuse({ reason: 'sale-closed' });
    const dto = (expiresAt: Date): HoldDto => ({
      concertId: request.concertId,
      seatId: request.seatId,
      seatNumber: seat.seat_number,
      expiresAt: expiresAt.toISOString(),
    });

    // At ticket limit 1, holding another seat replaces the previous hold (rolled back with
    // everything else if this seat cannot be had); above 1 the buyer's live holds in this concert
    // stay, and only their expired ones and their holds in other concerts go. Must precede the
    // insert: the ticket-limit trigger counts the buyer's other rows in this concert.
    await query(
      tx,
      sql`DELETE FROM seat_holds h WHERE h.user_id = ${request.userId} AND h.status = 'HELD' AND h.seat_id <> ${request.seatId}
            AND (${seat.ticket_limit}::int = 1 OR h.expires_at <= now()
              OR h.concert_id <> ${request.concertId})`,
      { prepared: true },
    );
    // Takes a free seat, or an expired hold of anyone; a live hold or a sale is left alone. The
    // trigger seat_holds_ticket_limit refuses a row past the buyer's ticket limit.
    const taken = await queryOne<{ expires_at: Date }>(
      tx,
      sql`INSERT INTO seat_holds (seat_id, user_id, hold_uuid, status, expires_at, created_at)
          VALUES (${request.seatId}, ${request.userId}, ${request.holdUuid}, 'HELD', now() + ${seat.hold_ttl}::interval, now())
          ON CONFLICT (seat_id) DO UPDATE
            SET user_id = excluded.user_id, hold_uuid = excluded.hold_uuid, status = 'HELD',
                expires_at = excluded.expires_at, created_at = excluded.created_at
            WHERE seat_holds.status = 'HELD' AND seat_holds.expires_at <= now()
          RETURNING expires_at`,
      { prepared: true },
    ).catch((error: unknown) => {
      if (violatedConstraint(error) === 'seat_holds_ticket_limit')
        refuse({ reason: 'ticket-limit', limit: seat.ticket_limit });
      throw error;
    });
    // The token is checked once the seat row is ours or known: lock order seat → token.
    const verifyToken = async (): Promise<VerifiedToken> => {
      const verified = await token.verify(request.concertId);
      return verified.ok ? verified.value : refuse({ reason: 'token', refusal: verified.refusal });
    };
    if (taken) {
      await (await verifyToken()).extendForHold(taken.expires_at, request.concertId);
      return dto(taken.expires_at);
    }
    const current = await queryOne<{
      user_id: number;
      status: 'HELD' | 'SOLD';
      expires_at: Date;
      live: boolean;
    }>(
      tx,
      sql`SELECT user_id, status, expires_at, expires_at > now() AS live FROM seat_holds WHERE seat_id = ${request.seatId}`,
      { prepared: true },
    );
    const outcome = blockedHold(
      current ? { status: current.status, ownerId: current.user_id, live: current.live } : null,
      request.userId,
    );
    if (outcome === 'REPEAT' && current) {
      await verifyToken();
      return dto(current.expires_at);
    }
    return refuse({
      reason: 'seat-taken',
      holderId: current ? current.user_id : null,
      sold: outcome === 'SEAT_ALREADY_RESERVED',
    });
  }

  return {
    hold(request, token) {
      return refusable((refuse: Refuse) =>
        transaction(database, (tx) =>
          runOnce(
            tx,
            {
              userId: request.userId,
              scope: 'hold',
              key: request.holdUuid,
              request: { concertId: request.concertId, seatId: request.seatId },
            },
            () => takeSeat(tx, request, tokens.open(tx, token, 'hold'), refuse),
          ),
        ),
      );
    },

    release(concertId, token) {
      return refusable((refuse: (refusal: ReleaseRefusal) => never) =>
        transaction(database, async (tx) => {
          const released = await queryOne<{
            seat_id: number;
            seat_number: number;
            expires_at: Date;
          }>(
            tx,
            sql`DELETE FROM seat_holds h USING seats s
              WHERE h.user_id = ${token.userId} AND h.status = 'HELD' AND h.expires_at > now()
                AND s.id = h.seat_id AND s.concert_id = ${concertId}
              RETURNING h.seat_id, s.seat_number, h.expires_at`,
            { prepared: true },
          );
          if (!released) return refuse({ reason: 'no-hold' });
          const verified = await tokens.open(tx, token, 'release').verify(concertId);
          if (!verified.ok) return refuse({ reason: 'token', refusal: verified.refusal });
          await verified.value.endHoldExtension();
          return {
            concertId,
            seatId: released.seat_id,
            seatNumber: released.seat_number,
            expiresAt: released.expires_at.toISOString(),
          };
        }),
      );
    },

    async releaseAll(userId) {
      const rows = await query(
        database,
        sql`DELETE FROM seat_holds WHERE user_id = ${userId} AND status = 'HELD' RETURNING seat_id`,
        { prepared: true },
      );
      return rows.length;
    },
  };
}
