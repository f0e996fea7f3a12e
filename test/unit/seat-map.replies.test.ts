import { describe, expect, it } from 'vitest';
import { snapshotBodies } from '../../src/modules/concerts/seat-map.replies.js';

/** A reply whose route serializer counts its calls (the route's response schema in the server). */
const serializer = () => {
  const calls: unknown[] = [];
  return {
    calls,
    reply: {
      serializeInput: (input: unknown) => {
        calls.push(input);
        return JSON.stringify(input);
      },
    },
  };
};

describe('seat-map replies as bytes, serialized once per snapshot (decision 0065)', () => {
  it('serializes a snapshot once, whatever the number of readers, and a new snapshot anew', () => {
    const { reply, calls } = serializer();
    const bodies = snapshotBodies();
    const snapshot = [{ seatId: 1, state: 'free' }];
    const first = bodies.bodyOf(reply, snapshot, () => ({ data: snapshot }));
    const second = bodies.bodyOf(reply, snapshot, () => ({ data: snapshot }));
    expect(second).toBe(first);
    expect(calls).toHaveLength(1);
    const next = [{ seatId: 1, state: 'held' }];
    const changed = bodies.bodyOf(reply, next, () => ({ data: next }));
    expect(calls).toHaveLength(2);
    expect(changed.toString()).toBe('{"data":[{"seatId":1,"state":"held"}]}');
  });

  it('keeps the serializer’s text as UTF-8 bytes', () => {
    const { reply } = serializer();
    const snapshot = [{ section: 'Étage “Nord”' }];
    const body = snapshotBodies().bodyOf(reply, snapshot, () => ({ data: snapshot }));
    const text = JSON.stringify({ data: snapshot });
    expect(body.equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(body.length).toBeGreaterThan(text.length);
  });

  it('refuses a route without a serializer for its 200 reply', () => {
    const bodies = snapshotBodies();
    // Fastify types the status form's result `unknown`; a route without that schema has none.
    const reply = { serializeInput: () => undefined as unknown as string };
    expect(() => bodies.bodyOf(reply, [], () => ({}))).toThrow('the 200 reply has no serializer');
  });
});
