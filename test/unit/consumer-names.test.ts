import { describe, expect, it } from 'vitest';
import { createDataPlatformConsumer } from '../../src/modules/events/data-platform.consumer.js';
import type { DeliveriesStore } from '../../src/modules/events/deliveries.store.js';
import { CONSUMER_NAMES } from '../../src/modules/events/events.js';
import { createTokenExpiryConsumer } from '../../src/modules/queue/queue.token-expiry.consumer.js';
import { createRankingConsumer } from '../../src/modules/ranking/ranking.consumer.js';
import type { Database } from '../../src/db/client.js';

describe('CONSUMER_NAMES', () => {
  it('names every consumer there is (what dead-letters replay accepts and lists)', () => {
    const consumers = [
      createRankingConsumer({} as Database),
      createTokenExpiryConsumer({ expire: () => Promise.resolve() } as never, () => undefined),
      createDataPlatformConsumer({
        url: 'http://127.0.0.1:9/',
        timeoutMs: 1,
        deliveries: {} as DeliveriesStore,
      }),
    ];
    expect(consumers.map((consumer) => consumer.name).sort()).toEqual([...CONSUMER_NAMES].sort());
  });
});
