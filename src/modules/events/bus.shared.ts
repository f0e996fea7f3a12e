import type { OutboxEvent } from './events.js';

/**
 * An event as the external buses carry it (JSON of the outbox row), or undefined when the bytes
 * are not one: such a message can never be handled, so the bus logs and skips it.
 */
export function decodeEvent(raw: string | undefined | null): OutboxEvent | undefined {
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const event = value as Partial<OutboxEvent>;
  if (
    typeof event.eventId !== 'string' ||
    typeof event.type !== 'string' ||
    typeof event.key !== 'string' ||
    typeof event.id !== 'number'
  )
    return undefined;
  return event as OutboxEvent;
}

/** FNV-1a (32 bits) of a key: the shard of an event key, the same in every process. */
export function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
