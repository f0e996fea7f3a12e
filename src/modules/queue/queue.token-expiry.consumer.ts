import type { QueueStore } from './queue.store.js';
import {
  RESERVATION_CONFIRMED,
  type EventConsumer,
  type ReservationConfirmed,
} from '../events/events.js';

/**
 * Expires the buyer's queue token after a payment. The payment already does this directly (in
 * its transaction for the postgres queue, right after commit otherwise); this consumer makes it
 * certain even if the process died between the commit and that call. Expiring is idempotent.
 */
export function createTokenExpiryConsumer(
  queue: Pick<QueueStore, 'expire'>,
  onExpired: () => void,
): EventConsumer {
  return {
    name: 'token-expiry',
    async handle(event) {
      if (event.type !== RESERVATION_CONFIRMED) return;
      const { queueToken } = event.payload as ReservationConfirmed;
      if (typeof queueToken !== 'string')
        throw new Error(`event ${event.eventId} has no queueToken`);
      if (await queue.expire(queueToken)) onExpired();
    },
  };
}
