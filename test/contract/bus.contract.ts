import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import type { EventBus } from '../../src/modules/events/bus.js';
import { RESERVATION_CONFIRMED, type OutboxEvent } from '../../src/modules/events/events.js';

/** One namespace of a bus (its own streams or topics) that no other test sees. */
export interface BusSpace {
  /**
   * A bus on this namespace as one more process would open it. The in-process bus has a single
   * process: it returns the same bus each time.
   */
  open(): Promise<EventBus>;
  close(): Promise<void>;
}

export interface BusHarness {
  space(): Promise<BusSpace>;
  /**
   * The bus holds events for a group that is not listening (a broker): `publish` resolves with
   * nobody subscribed. Otherwise (in process) it rejects, and the relay publishes again later.
   */
  durable: boolean;
  /** Members of one group on several buses (processes) split its events between them. */
  sharesWork: boolean;
}

/** Waits long enough for anything still in flight to arrive (a duplicate would show up). */
const SETTLE_MS = 1_500;
const DELIVERED_WITHIN_MS = 40_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes as the outbox relay does: until the bus accepts the batch. A rejected publish is
 * retried whole, so a consumer may see an event again — which the consumers' inboxes absorb.
 */
async function publishLikeTheRelay(bus: EventBus, events: OutboxEvent[]): Promise<void> {
  const deadline = Date.now() + DELIVERED_WITHIN_MS;
  for (;;) {
    try {
      await bus.publish(events);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

/** Events of `keys` concerts, round robin; `seq` counts per key in publish order. */
function eventFactory() {
  let id = 0;
  const seqs = new Map<string, number>();
  return (count: number, keys: string[]): OutboxEvent[] =>
    Array.from({ length: count }, (_, i) => {
      const key = keys[i % keys.length]!;
      const seq = seqs.get(key) ?? 0;
      seqs.set(key, seq + 1);
      id += 1;
      return {
        id,
        eventId: randomUUID(),
        type: RESERVATION_CONFIRMED,
        key,
        payload: { seq },
        createdAt: new Date().toISOString(),
      };
    });
}

/** A group's handler that records what it was given; `failFirst` throws on each one's first delivery. */
function recorder(name = 'member', failFirst = new Set<string>()) {
  const handled: OutboxEvent[] = [];
  const attempts = new Map<string, number>();
  return {
    name,
    handled,
    attempts,
    handler: async (event: OutboxEvent) => {
      await Promise.resolve();
      const attempt = (attempts.get(event.eventId) ?? 0) + 1;
      attempts.set(event.eventId, attempt);
      if (failFirst.has(event.eventId) && attempt === 1)
        throw new Error(`simulated failure of ${event.eventId}`);
      handled.push(event);
    },
    ids: () => new Set(handled.map((event) => event.eventId)),
    /** How many times each event was handled successfully. */
    counts: () => {
      const counts = new Map<string, number>();
      for (const event of handled) counts.set(event.eventId, (counts.get(event.eventId) ?? 0) + 1);
      return counts;
    },
  };
}
type Recorder = ReturnType<typeof recorder>;

/** For each key, the seq numbers in the order they were first handled. */
function firstArrivals(handled: OutboxEvent[]): Map<string, number[]> {
  const seen = new Set<string>();
  const byKey = new Map<string, number[]>();
  for (const event of handled) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    const list = byKey.get(event.key) ?? [];
    list.push((event.payload as { seq: number }).seq);
    byKey.set(event.key, list);
  }
  return byKey;
}

/** For each key, its seq numbers in publish order. */
function publishOrder(events: OutboxEvent[]): Map<string, number[]> {
  return firstArrivals(events);
}

async function allHandled(recorders: Recorder[], events: OutboxEvent[]): Promise<void> {
  const wanted = events.map((event) => event.eventId);
  await expect
    .poll(
      () =>
        recorders.map((each) => {
          const ids = each.ids();
          return wanted.filter((id) => !ids.has(id)).length;
        }),
      { timeout: DELIVERED_WITHIN_MS, interval: 50 },
    )
    .toEqual(recorders.map(() => 0));
}

/**
 * The EventBus port's behaviour, run unchanged against every adapter (src/modules/events/bus.ts).
 * The relay is the only publisher in the service, so every publish here goes through
 * publishLikeTheRelay: what a bus promises is judged together with the relay's retry.
 */
export function eventBusContract(harness: BusHarness): void {
  const spaces: BusSpace[] = [];
  const space = async () => {
    const created = await harness.space();
    spaces.push(created);
    return created;
  };
  afterEach(async () => {
    for (const each of spaces.splice(0)) await each.close();
  });

  it('delivers every published event to every subscribed group, each once in the happy path', async () => {
    const bus = await (await space()).open();
    const events = eventFactory();
    const ranking = recorder();
    const platform = recorder();
    await bus.subscribe('ranking', ranking.handler);
    await bus.subscribe('data-platform', platform.handler);
    const published = [
      ...events(10, ['1', '2', '3', '4']),
      ...events(10, ['1', '5']),
      ...events(10, ['6', '7', '8']),
    ];
    for (let i = 0; i < published.length; i += 10)
      await publishLikeTheRelay(bus, published.slice(i, i + 10));

    await allHandled([ranking, platform], published);
    await sleep(SETTLE_MS);
    for (const group of [ranking, platform]) {
      expect(group.handled).toHaveLength(published.length);
      expect([...group.counts().values()].every((count) => count === 1)).toBe(true);
    }
  });

  it("hands one key's events to a group in publish order", async () => {
    const bus = await (await space()).open();
    const events = eventFactory();
    const group = recorder();
    await bus.subscribe('ranking', group.handler);
    const published = events(90, ['10', '11', '12']);
    // Batch boundaries that do not line up with the keys.
    for (let i = 0; i < published.length; i += 7)
      await publishLikeTheRelay(bus, published.slice(i, i + 7));

    await allHandled([group], published);
    expect(firstArrivals(group.handled)).toEqual(publishOrder(published));
    const order = firstArrivals(group.handled);
    for (const seqs of order.values()) expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('delivers an event whose handler threw again, and nothing of its key passes it', async () => {
    const bus = await (await space()).open();
    const events = eventFactory();
    const published = events(30, ['20', '21', '22']);
    const failing = published[10]!; // key 21, seq 3
    const group = recorder('member', new Set([failing.eventId]));
    await bus.subscribe('ranking', group.handler);
    for (let i = 0; i < published.length; i += 15)
      await publishLikeTheRelay(bus, published.slice(i, i + 15));

    await allHandled([group], published);
    expect(group.attempts.get(failing.eventId)).toBeGreaterThanOrEqual(2);
    expect(group.ids().has(failing.eventId)).toBe(true);
    // At least once: the bus (or the relay's republish) may repeat events; first arrivals keep
    // the publish order, the failed event included.
    expect(firstArrivals(group.handled)).toEqual(publishOrder(published));
  });

  it('resumes a stopped and restarted subscription without losing events', async () => {
    const bus = await (await space()).open();
    const events = eventFactory();
    const before = recorder();
    const first = await bus.subscribe('ranking', before.handler);
    const early = events(12, ['30', '31']);
    await publishLikeTheRelay(bus, early);
    await allHandled([before], early);
    await first.stop();

    // Published while the group is away: a broker keeps them; in process the publish is refused
    // until a consumer is back, and the relay keeps trying.
    const late = events(12, ['30', '31', '32']);
    const publishing = publishLikeTheRelay(bus, late);
    if (harness.durable) await publishing;
    await sleep(200);
    const after = recorder();
    const second = await bus.subscribe('ranking', after.handler);
    await publishing;
    await allHandled([after], late);
    expect(firstArrivals(after.handled)).toEqual(publishOrder(late));
    // Nothing handled before the stop comes back after it: resumed, not restarted from zero.
    await sleep(SETTLE_MS);
    const earlyIds = new Set(early.map((event) => event.eventId));
    expect(after.handled.filter((event) => earlyIds.has(event.eventId))).toEqual([]);
    await second.stop();
  });

  if (harness.durable) {
    it('keeps events published before a group first subscribes, for that group', async () => {
      const bus = await (await space()).open();
      const events = eventFactory();
      const published = events(8, ['40', '41']);
      await bus.publish(published);
      const group = recorder();
      await bus.subscribe('newcomer', group.handler);
      await allHandled([group], published);
      expect(firstArrivals(group.handled)).toEqual(publishOrder(published));
    });
  } else {
    it('refuses a publish while no group is subscribed, and delivers the same batch published again', async () => {
      const bus = await (await space()).open();
      const events = eventFactory();
      const published = events(8, ['40', '41']);
      await expect(bus.publish(published)).rejects.toThrow();
      const group = recorder();
      await bus.subscribe('newcomer', group.handler);
      await bus.publish(published);
      expect(group.handled).toEqual(published);
    });
  }

  if (harness.sharesWork) {
    it("shares a group's events between its members on several processes, each event once", async () => {
      const shared = await space();
      const [one, two] = await Promise.all([shared.open(), shared.open()]);
      const events = eventFactory();
      const arrivals: OutboxEvent[] = [];
      const members = [recorder('one'), recorder('two')];
      const track = (member: Recorder) => async (event: OutboxEvent) => {
        await member.handler(event);
        arrivals.push(event);
      };
      await Promise.all([
        one.subscribe('ranking', track(members[0]!)),
        two.subscribe('ranking', track(members[1]!)),
      ]);
      const keys = Array.from({ length: 24 }, (_, i) => String(100 + i));
      const published: OutboxEvent[] = [];
      const delivered = () => new Set(arrivals.map((event) => event.eventId)).size;
      // Waves until the group has settled on both members (a broker's join takes seconds).
      // While the group is rebalancing, what a member handled but could not commit yet comes
      // again to the member that takes the partition over: at least once, absorbed by the
      // consumers' inboxes. Exactly once is asserted for what is published after that.
      const deadline = Date.now() + DELIVERED_WITHIN_MS;
      while (members.some((member) => member.handled.length === 0)) {
        if (Date.now() > deadline) throw new Error('the second member never got any work');
        const wave = events(24, keys);
        published.push(...wave);
        await publishLikeTheRelay(one, wave);
        await sleep(300);
      }
      await expect.poll(delivered, { timeout: DELIVERED_WITHIN_MS }).toBe(published.length);
      await sleep(SETTLE_MS);
      const settled = arrivals.length;

      const last = events(48, keys);
      published.push(...last);
      await publishLikeTheRelay(two, last);
      await expect.poll(delivered, { timeout: DELIVERED_WITHIN_MS }).toBe(published.length);
      await sleep(SETTLE_MS);
      expect(arrivals.slice(settled)).toHaveLength(last.length);
      expect(members.every((member) => member.handled.length > 0)).toBe(true);
      expect(firstArrivals(arrivals)).toEqual(publishOrder(published));
    });
  } else {
    it('refuses a second consumer in one group (one process owns the group)', async () => {
      const bus = await (await space()).open();
      await bus.subscribe('ranking', recorder().handler);
      await expect(bus.subscribe('ranking', recorder().handler)).rejects.toThrow();
    });
  }
}
