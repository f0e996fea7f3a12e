import type { EventBus } from './bus.js';
import type { OutboxEvent } from './events.js';

/**
 * The embedded default: no broker. `publish` hands each event to every subscribed group in
 * order and resolves when all handlers are done; if one throws, `publish` rejects and the relay
 * publishes the batch again later (handlers are idempotent). Durability comes from the outbox
 * itself: an event is marked sent only after publish resolved.
 */
export function createInProcessBus(): EventBus {
  const groups = new Map<string, (event: OutboxEvent) => Promise<void>>();
  return {
    name: 'inprocess',
    async publish(events) {
      // Nobody to hand them to (consumers not subscribed yet): refuse, so nothing is marked sent.
      if (groups.size === 0) throw new Error('no consumer is subscribed to the in-process bus');
      for (const handler of groups.values()) {
        for (const event of events) await handler(event);
      }
    },
    subscribe(group, handler) {
      if (groups.has(group))
        return Promise.reject(new Error(`group ${group} already has its in-process consumer`));
      groups.set(group, handler);
      return Promise.resolve({
        stop: () => {
          groups.delete(group);
          return Promise.resolve();
        },
      });
    },
    close() {
      groups.clear();
      return Promise.resolve();
    },
  };
}
