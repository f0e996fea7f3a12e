import type { Executor } from '../../db/client.js';

/** Event types written to the outbox. */
export const RESERVATION_CONFIRMED = 'reservation.confirmed';

export interface ReservationConfirmed {
  eventId: string;
  reservationId: number;
  userId: number;
  concertId: number;
  seatId: number;
  price: number;
  queueToken: string;
  reservedAt: string;
}

/** One committed outbox row, as delivered to consumers. */
export interface OutboxEvent {
  id: number;
  eventId: string;
  type: string;
  key: string;
  payload: unknown;
}

/**
 * A consumer of committed events. `handle` runs inside the dispatcher's transaction and must be
 * idempotent by `event.eventId` (the inbox): delivery is at least once.
 */
export interface EventConsumer {
  readonly name: string;
  handle(event: OutboxEvent, tx: Executor): Promise<void>;
}
