import type { DeliveriesStore } from './deliveries.store.js';
import {
  PermanentDeliveryError,
  RESERVATION_CANCELLED,
  RESERVATION_CONFIRMED,
  RetryLaterError,
  type EventConsumer,
  type OutboxEvent,
} from './events.js';

const DATA_PLATFORM = 'data-platform';

/**
 * Sends each confirmed and each cancelled reservation to the external data platform (`type` tells
 * which). The first delivery only
 * enqueues the send (inside the delivering transaction); the delivery worker performs it, so a
 * slow or failing platform never holds a transaction, the relay or a payment. That row is the
 * claim of the send, kept as DELIVERED afterwards, so an event delivered twice (republished, or
 * two copies at once) is sent once; only a crash between a send and its record repeats it, which
 * is why each POST also carries the event id as Idempotency-Key. A POST is cut off after
 * `timeoutMs`.
 * 2xx: done. 429: retry after Retry-After. 408/5xx/network/timeout: retry with backoff. Other
 * 4xx: the platform refuses the event itself — dead-lettered at once.
 */
export function createDataPlatformConsumer(options: {
  url: string;
  timeoutMs: number;
  deliveries: DeliveriesStore;
}): EventConsumer {
  async function send(event: OutboxEvent): Promise<void> {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': event.eventId },
      body: JSON.stringify({
        eventId: event.eventId,
        type: event.type,
        occurredAt: event.createdAt,
        reservation: event.payload,
      }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await response.body?.cancel();
    if (response.ok) return;
    const reason = `data platform answered ${response.status}`;
    if (response.status === 429) {
      const seconds = Number(response.headers.get('retry-after'));
      throw new RetryLaterError(reason, Number.isFinite(seconds) ? seconds * 1000 : 0);
    }
    if (response.status >= 400 && response.status < 500 && response.status !== 408)
      throw new PermanentDeliveryError(reason);
    throw new Error(reason);
  }

  return {
    name: DATA_PLATFORM,
    async handle(event) {
      if (event.type !== RESERVATION_CONFIRMED && event.type !== RESERVATION_CANCELLED) return;
      await options.deliveries.schedule(DATA_PLATFORM, event, { attempts: 0, delayMs: 0 });
    },
    retry: send,
  };
}
