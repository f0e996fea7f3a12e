import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';
import type { Admission } from './queue.admission.js';
import type { BookingTokens, TokenRefusal } from './queue.booking.js';
import { accessError, type QueueAction } from './queue.rules.js';
import { newRoomToken, roomOfToken } from '../../shared/ids.js';
import type { RoomFigures } from './queue.figures.js';
import { figuresOf, liveStatus, watchWithPreQueue, type LiveStatus } from './queue.live.js';
import type { QueueStore, TokenRecord, TokenView } from './queue.store.js';
import { HOUSE_ROOM_ID, refusal, type RoomDirectory } from '../rooms/rooms.service.js';
import type { RoomSettings } from '../rooms/rooms.store.js';
import type { Opening } from './queue.opening.js';
import type { PowAnswer, PowGate } from './queue.pow.gate.js';

/** The hardest proof of work a room may ask for (rooms' settings are checked against it). */
export { MAX_DIFFICULTY } from './queue.pow.js';

/** A room as the public sees it (GET /api/v1/queue/rooms/{concertId}). */
export interface RoomView {
  concertId: number;
  state: RoomSettings['state'];
  opensAt: string | null;
  waiting: number;
  active: number;
  maxActive: number;
  admissionPerMinute: number | null;
  /** Measured over the rate window, per minute. */
  admissionRate: number;
  seatsLeft: number;
  soldOut: boolean;
  powDifficulty: number;
  commitment: string | null;
}

export interface QueueServiceDeps {
  store: QueueStore;
  /** What the waiting room does after a booking committed (nothing when it did it inside). */
  tokens: Pick<BookingTokens, 'holdTaken' | 'holdReleased' | 'paid'>;
  /** Releases every seat hold of a user who left the line (the holds module's releaseAll). */
  releaseHolds: (userId: number) => Promise<unknown>;
  admission: Pick<Admission, 'admitNow' | 'slotFreed' | 'beforeJoin'>;
  idleSeconds: number;
  logger: Pick<Logger, 'warn'>;
  /** Told when a token left the line here, so live positions behind it move at once. */
  positionsChanged?: () => void;
  /** The rooms' settings as this instance knows them. */
  rooms: Pick<RoomDirectory, 'lookup'>;
  /** Seats of a concert not sold (free + held). */
  seatsLeft: (concertId: number) => Promise<number>;
  /** The rooms' proof of work at the join (decision 0051); without it no room asks for one. */
  pow?: Pick<PowGate, 'challenge' | 'check'>;
  /** Whether a room is sold out as last read (queue.soldout.ts). */
  soldOut?: (roomId: number) => boolean;
  /** A room's scheduled opening: its joins go to the pre-queue until the draw is in line (0056). */
  opening?: Pick<Opening, 'join'> & Partial<Pick<Opening, 'watch'>>;
  /** The per-room figures waiting buyers see (seats left, the capped estimate rate). */
  figures?: RoomFigures;
}

export type QueueService = ReturnType<typeof createQueueService>;

export function createQueueService({
  store,
  tokens,
  releaseHolds,
  admission,
  idleSeconds,
  logger,
  positionsChanged,
  rooms,
  seatsLeft,
  pow,
  soldOut,
  opening,
  figures,
}: QueueServiceDeps) {
  const idleMs = idleSeconds * 1000;

  /**
   * A waiting-room update that follows a committed booking: its failure (Redis away) must not
   * turn the committed result into an error reply. Logged; the next state change repairs it.
   */
  const afterCommit = async (
    what: string,
    update: () => Promise<unknown> | undefined,
  ): Promise<void> => {
    try {
      await update();
    } catch (error) {
      logger.warn({ err: error }, `${what} failed after commit; the booking stands`);
    }
  };

  const assertAccess = (record: TokenRecord, action: QueueAction, concertId?: number): void => {
    const refusal = accessError(record.state, record.now, idleMs, action, concertId);
    if (refusal !== null) throw tokenRefusalError(refusal);
  };

  return {
    /**
     * Joins the line of the concert's room, or the house room without a concert (or returns the
     * live token); a new token at the head of an open line leaves ACTIVE.
     */
    async join(userId: number, concertId?: number, work?: PowAnswer): Promise<TokenView> {
      if (concertId === undefined || concertId === HOUSE_ROOM_ID) {
        const mightAdmitAtOnce = admission.beforeJoin();
        const view = await store.join(userId);
        if (!mightAdmitAtOnce(view)) return view;
        await admission.admitNow();
        return (await store.poll(view.token)) ?? view;
      }
      const room = await rooms.lookup(concertId);
      if (!room) throw refusal('ROOM_NOT_FOUND');
      if (room.state === 'closed') throw refusal('ROOM_CLOSED');
      await pow?.check(room, work);
      if (opening && room.opening && !room.opening.transferred) {
        const entry = await opening.join(userId, room);
        if (entry) return entry;
      }
      // In a room that had an opening, a token made by this join was never in its pre-queue:
      // told so (receiptId null) here, so no pre-queue read answers it (0066). A user's live
      // token (maybe a moved pre-queue entry's) comes back instead of the new one.
      const made = room.opening ? newRoomToken(room.roomId) : undefined;
      const joined = await store.join(userId, room, made);
      const view =
        made !== undefined && joined.token === made ? { ...joined, receiptId: null } : joined;
      // Only an open room admits a join at once (queue-all and paused never do).
      if (room.state !== 'open' || view.status !== 'WAITING' || view.position > room.maxActive)
        return view;
      await admission.admitNow();
      const admitted = await store.poll(view.token);
      return admitted ? { ...admitted, receiptId: view.receiptId } : view;
    },

    /** A signed proof-of-work challenge for the room's current difficulty (docs/rooms.md). */
    async challenge(concertId: number) {
      const room = await rooms.lookup(concertId);
      if (!room || concertId === HOUSE_ROOM_ID || !pow) throw refusal('ROOM_NOT_FOUND');
      return pow.challenge(room);
    },

    /** A room's public view (its numbers as read now). */
    async room(concertId: number): Promise<RoomView> {
      const room = await rooms.lookup(concertId);
      if (!room || concertId === HOUSE_ROOM_ID) throw refusal('ROOM_NOT_FOUND');
      const [stats, left] = await Promise.all([store.roomStats(concertId), seatsLeft(concertId)]);
      return {
        concertId,
        state: room.state,
        opensAt: null,
        waiting: stats.waiting,
        active: stats.active,
        maxActive: room.maxActive,
        admissionPerMinute: room.admissionPerMinute,
        admissionRate: Math.round(stats.admissionRate * 100) / 100,
        seatsLeft: left,
        soldOut: soldOut?.(concertId) ?? false,
        powDifficulty: room.powDifficulty ?? 0,
        commitment: null,
      };
    },

    /** Status and position; when `owner` is known, the token must be theirs. */
    async status(token: string, owner?: number): Promise<TokenView> {
      const view = await store.poll(token);
      if (!view) throw unknownToken();
      if (owner !== undefined && owner !== view.userId) throw mismatch();
      return view;
    },

    /**
     * Status, exact position and estimated wait from one batched read (counts as a poll), and
     * the token's user.
     */
    async live(token: string, owner?: number): Promise<{ state: LiveStatus; userId: number }> {
      const [watched] = await Promise.all([
        // A pre-queue token's stream starts from its entry (PRE_QUEUE, its receipt, the opening).
        watchWithPreQueue(store, opening?.watch, [token]),
        figures?.refresh([roomOfToken(token)]),
      ]);
      const view = watched.views.get(token);
      if (!view) throw unknownToken();
      if (owner !== undefined && owner !== view.userId) throw mismatch();
      const state = liveStatus(view, ...figuresOf(figures, view.roomId, watched));
      return { state, userId: view.userId };
    },

    /** Seats left of a room's concert as this instance last read them (null: the house room). */
    async roomSeatsLeft(roomId: number): Promise<number | null> {
      if (!figures) return null;
      await figures.refresh([roomId]);
      return figures.seatsLeft(roomId);
    },

    /** The token of a protected request; `owner`, when known, must be the token's user. */
    async authenticate(token: string, owner?: number): Promise<TokenRecord> {
      const record = await store.find(token);
      if (!record) throw unknownToken();
      if (owner !== undefined && owner !== record.userId) throw mismatch();
      return record;
    },

    assertAccess,

    /** Whether the token may do `action`, as read at authentication (transactions check again). */
    allows(record: TokenRecord, action: QueueAction, concertId?: number): boolean {
      return accessError(record.state, record.now, idleMs, action, concertId) === null;
    },

    /** Leaves the line: releases the user's hold and expires the token; the slot refills at once. */
    async leave(record: TokenRecord): Promise<void> {
      // Only a live token speaks for the user's hold; leaving with a dead one changes nothing.
      if (!(await store.expire(record.token))) return;
      await releaseHolds(record.userId);
      admission.slotFreed();
      positionsChanged?.();
    },

    /** After a hold commits: the waiting room follows it (BookingTokens.holdTaken). */
    async holdTaken(record: TokenRecord, holdExpiresAt: Date, concertId: number): Promise<void> {
      await afterCommit('hold extension of the token', () =>
        tokens.holdTaken(record, holdExpiresAt, concertId),
      );
    },

    async holdReleased(record: TokenRecord): Promise<void> {
      await afterCommit('end of the hold extension', () => tokens.holdReleased(record));
    },

    /** After a payment commits: the token is done and its slot goes to the next in line. */
    async purchaseCompleted(record: TokenRecord): Promise<void> {
      // Where the payment did not expire the token in its own statement, the token-expiry
      // consumer of the payment's event makes sure of it if this call fails.
      await afterCommit('token expiry after payment', () => tokens.paid(record));
      admission.slotFreed();
    },
  };
}

const unknownToken = () =>
  new AppError('QUEUE_TOKEN_INVALID', 'Unknown queue token.', { field: 'Queue-Token' });
const mismatch = () =>
  new AppError('QUEUE_TOKEN_USER_MISMATCH', 'The queue token belongs to another user.', {
    field: 'Queue-Token',
  });

/** The reply to a token that may not do what it asks (here or in a booking transaction). */
export function tokenRefusalError(refusal: TokenRefusal): AppError {
  switch (refusal) {
    case 'QUEUE_TOKEN_NOT_ACTIVE':
      return new AppError(refusal, 'You are still waiting in line; poll GET /api/v1/queue/token.', {
        field: 'Queue-Token',
      });
    case 'QUEUE_TOKEN_EXPIRED':
      return new AppError(refusal, 'The queue token has expired; join the queue again.', {
        field: 'Queue-Token',
      });
    case 'TOKEN_GONE':
      return new AppError('QUEUE_TOKEN_INVALID', 'The queue token no longer exists.');
    case 'QUEUE_TOKEN_WRONG_ROOM':
      return new AppError(
        refusal,
        "This token is for another concert's waiting room; join this concert's room (POST /api/v1/queue/token with its concertId).",
        { field: 'Queue-Token' },
      );
  }
}
