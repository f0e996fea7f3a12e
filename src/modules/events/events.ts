/** Event types written to the outbox. */
export const RESERVATION_CONFIRMED = 'reservation.confirmed';
/** A reservation was cancelled and refunded (by its buyer or an operator); its seat is free again. */
export const RESERVATION_CANCELLED = 'reservation.cancelled';

/** Every type the outbox carries: the Kafka bus has one topic per type and refuses others. */
export const EVENT_TYPES = [RESERVATION_CONFIRMED, RESERVATION_CANCELLED] as const;

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

export interface ReservationCancelled {
  eventId: string;
  reservationId: number;
  userId: number;
  concertId: number;
  seatId: number;
  price: number;
  /** What went back to the buyer's balance (the price minus the concert's refund fee). */
  refundAmount: number;
  cancelledBy: 'buyer' | 'operator';
  cancelledAt: string;
}

/** One committed outbox row, as relayed to the bus and delivered to consumers. */
export interface OutboxEvent {
  id: number;
  eventId: string;
  type: string;
  /** Ordering key (the concert id). */
  key: string;
  payload: unknown;
  createdAt: string;
  /**
   * W3C traceparent of the trace the event continues (the change that wrote it, then the relay's
   * publish); absent or null when tracing is off.
   */
  traceContext?: string | null;
}

/** How far the outbox relay is behind the commits (readiness reports it). */
export interface OutboxLag {
  /** Committed events the bus has not accepted yet. */
  unsent: number;
  /** Age of the oldest of them, in seconds (0 when none). */
  oldestUnsentSeconds: number;
}

/**
 * A consumer of committed events. Delivery is at least once, so every consumer is idempotent
 * by `event.eventId` (an inbox row written with its effect, or an effect that is idempotent by
 * nature). A failure never blocks the events behind it: it becomes a PENDING row in
 * event_deliveries, retried with capped backoff and dead-lettered once it has been failing for
 * the retry horizon (EVENT_RETRY_HORIZON_MINUTES).
 */
/** Every consumer there is: names in event_deliveries, dead letters and their replay. */
export const CONSUMER_NAMES = ['ranking', 'token-expiry', 'data-platform'] as const;
export type ConsumerName = (typeof CONSUMER_NAMES)[number];

export interface EventConsumer {
  /** One of CONSUMER_NAMES. */
  readonly name: string;
  /** First delivery. Throw to have it retried later. */
  handle(event: OutboxEvent): Promise<void>;
  /**
   * A later attempt from event_deliveries (default: `handle` again). Throw a
   * PermanentDeliveryError when retrying cannot help.
   */
  retry?(event: OutboxEvent): Promise<void>;
}

/** A failure that no retry will fix (the event goes straight to the dead letters). */
export class PermanentDeliveryError extends Error {
  override name = 'PermanentDeliveryError';
}

/** A failure that asks for a pause before the next attempt (e.g. HTTP 429 Retry-After). */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';

  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}
