import { AppError } from '../../shared/errors.js';
import { tokenRefusalError, type QueueService } from '../queue/queue.service.js';
import type { TokenRecord } from '../queue/queue.store.js';
import type { HoldDto, HoldRefusal, HoldStore } from './holds.store.js';
import type { SeatDecision, SeatGate } from './seat-gate.js';
import type { Idempotent } from '../../db/idempotency.js';
import { outcomeOf, type SaleMetrics } from '../../shared/metrics.js';

export interface HoldInput {
  seatHoldUuid: string;
  concertId: number;
  seatId: number;
}

/** 409 for a seat held by someone else or sold. */
const seatTaken = (seatId: number, sold: boolean): AppError =>
  new AppError(
    sold ? 'SEAT_ALREADY_RESERVED' : 'SEAT_ALREADY_HELD',
    sold ? `Seat ${seatId} is sold.` : `Seat ${seatId} is held by someone else.`,
    { field: 'seatId' },
  );

const saleNotOpen = (concertId: number): AppError =>
  new AppError('SALE_NOT_OPEN', `The sale of concert ${concertId} has not opened yet.`, {
    field: 'concertId',
  });

const saleClosed = (concertId: number): AppError =>
  new AppError('SALE_CLOSED', `The sale of concert ${concertId} has closed.`, {
    field: 'concertId',
  });

/** The reply to a hold the database refused. */
function refusalError(refusal: HoldRefusal, input: HoldInput): AppError {
  switch (refusal.reason) {
    case 'token':
      return tokenRefusalError(refusal.refusal);
    case 'concert-not-found':
      return new AppError('CONCERT_NOT_FOUND', `Concert ${input.concertId} does not exist.`, {
        field: 'concertId',
      });
    case 'seat-not-found':
      return new AppError(
        'SEAT_NOT_FOUND',
        `Seat ${input.seatId} is not a seat of concert ${input.concertId}.`,
        { field: 'seatId' },
      );
    case 'concert-ended':
      return new AppError('CONCERT_ENDED', 'The show has already started.', {
        field: 'concertId',
      });
    case 'concert-cancelled':
      return new AppError('CONCERT_CANCELLED', `Concert ${input.concertId} was cancelled.`, {
        field: 'concertId',
      });
    case 'sale-not-open':
      return saleNotOpen(input.concertId);
    case 'sale-closed':
      return saleClosed(input.concertId);
    case 'ticket-limit':
      return new AppError(
        'TICKET_LIMIT_REACHED',
        `You already hold or bought ${refusal.limit} seat(s) of concert ${input.concertId}, its limit per buyer; pay or release a hold first.`,
        { field: 'seatId', limit: refusal.limit },
      );
    case 'seat-taken':
      return seatTaken(input.seatId, refusal.sold);
  }
}

/** What the seat gate tells the attempts waiting on this one (only whose the seat is now). */
function gateDecision(refusal: HoldRefusal): SeatDecision {
  if (refusal.reason !== 'seat-taken' || refusal.holderId === null) return 'undecided';
  return refusal.sold ? { sold: refusal.holderId } : { held: refusal.holderId };
}

export function createHoldService(deps: {
  store: HoldStore;
  queue: Pick<QueueService, 'assertAccess' | 'allows' | 'holdTaken' | 'holdReleased'>;
  /** Optional filter in front of the database hold (Redis); the database decides either way. */
  gate?: SeatGate;
  /** Counts each hold by outcome (METRICS=on). */
  metrics?: Pick<SaleMetrics, 'holdDecided'>;
}) {
  const { store, queue, gate, metrics } = deps;

  const holdInDatabase = (record: TokenRecord, input: HoldInput) =>
    store.hold(
      {
        userId: record.userId,
        concertId: input.concertId,
        seatId: input.seatId,
        holdUuid: input.seatHoldUuid,
      },
      record,
    );

  /** After the commit: the waiting room follows the hold (where it did not inside). */
  const extendToken = async (record: TokenRecord, result: Idempotent<HoldDto>) => {
    if (!result.replayed)
      await queue.holdTaken(record, new Date(result.value.expiresAt), result.value.concertId);
  };

  /** Holds a seat for the token's user; a seatHoldUuid replay returns the first result. */
  async function decideHold(record: TokenRecord, input: HoldInput): Promise<Idempotent<HoldDto>> {
    // Only tokens that may hold take part in the gate: any other goes to the database, which
    // answers it after a replay has had its chance, exactly as without a gate.
    const entry =
      gate && queue.allows(record, 'hold', input.concertId)
        ? await gate.enter(input, record.userId)
        : undefined;
    if (entry?.kind === 'refuse') throw seatTaken(input.seatId, entry.sold);
    const deciding = entry?.kind === 'decide' ? entry : undefined;
    let outcome;
    try {
      outcome = await holdInDatabase(record, input);
    } catch (error) {
      await deciding?.settle('undecided');
      throw error;
    }
    if (!outcome.ok) {
      await deciding?.settle(gateDecision(outcome.refusal));
      throw refusalError(outcome.refusal, input);
    }
    const result = outcome.value;
    // Sent together, one Redis round trip with auto-pipelining. A replay answers with the past:
    // it says nothing about who holds the seat now.
    await Promise.all([
      extendToken(record, result),
      deciding?.settle(result.replayed ? 'undecided' : { held: record.userId }),
    ]);
    return result;
  }

  return {
    /** Holds a seat for the token's user; a seatHoldUuid replay returns the first result. */
    async hold(record: TokenRecord, input: HoldInput): Promise<Idempotent<HoldDto>> {
      try {
        const result = await decideHold(record, input);
        metrics?.holdDecided(result.replayed ? 'replayed' : 'ok');
        return result;
      } catch (error) {
        metrics?.holdDecided(outcomeOf(error));
        throw error;
      }
    },

    async release(record: TokenRecord, concertId: number): Promise<HoldDto> {
      queue.assertAccess(record, 'release', concertId);
      const outcome = await store.release(concertId, record);
      if (!outcome.ok) {
        if (outcome.refusal.reason === 'token') throw tokenRefusalError(outcome.refusal.refusal);
        throw new AppError('HOLD_NOT_FOUND', `You hold no seat in concert ${concertId}.`, {
          field: 'concertId',
        });
      }
      await queue.holdReleased(record);
      return outcome.value;
    },
  };
}

export type HoldService = ReturnType<typeof createHoldService>;
