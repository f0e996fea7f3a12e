import { AppError } from './errors.js';

/**
 * What the services count for the metrics (src/metrics/), by outcome: `ok`, `replayed`, or the
 * error code the service answered with (a bounded set: the catalogue), `error` for anything
 * else. Services depend on the part they use (Pick), like on any port.
 */
export interface SaleMetrics {
  holdDecided(outcome: string): void;
  paymentDecided(outcome: string): void;
  /** A cancellation asked by a buyer or an operator: ok (refunded), replayed, or the code. */
  cancelDecided(by: 'buyer' | 'operator', outcome: string): void;
  /** Tokens the admission run of this instance let in, per room. */
  admitted(room: string, count: number): void;
  /** A consumer's attempt at an event: delivered, retry (scheduled again) or dead (dead letter). */
  deliveryDone(consumer: string, outcome: 'delivered' | 'retry' | 'dead'): void;
}

/** The outcome label of a failed use case: its stable error code, never a message or an id. */
export const outcomeOf = (error: unknown): string =>
  error instanceof AppError ? error.code : 'error';

/** The seed's one global line: the room its series are labelled with until rooms per sale exist. */
export const HOUSE_ROOM = 'house';
