import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { invariantViolations } from '../support/invariants.js';
import {
  sharedWaitingRoom,
  startTestServer,
  type SharedWaitingRoom,
  type TestServer,
} from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * Proves: with two server instances on one database (on the Redis backend also one waiting room:
 * one key prefix), each running its admission worker (and extra admission runs fired by hand at
 * the same time), the ACTIVE count never exceeds the limit at any sampled moment, admission
 * follows arrival order exactly, and nobody is skipped.
 */
describeWithPostgres('admission with several instances', () => {
  const LIMIT = 10;
  const USERS = 300;
  const db = useTestDatabase();
  let room: SharedWaitingRoom;
  let servers: TestServer[];

  beforeAll(async () => {
    room = sharedWaitingRoom();
    const overrides = {
      MAX_ACTIVE: String(LIMIT),
      ADMISSION_INTERVAL_MS: '15',
      ...room.overrides,
    };
    servers = [await startTestServer(db, overrides), await startTestServer(db, overrides)];
  });
  afterAll(async () => {
    for (const server of servers ?? []) await server.close();
    await room?.cleanup();
  });

  it('never exceeds the limit and admits strictly in arrival order', async () => {
    // Both servers share one waiting room: either one's inspector sees all of it.
    const queue = servers[0]!.queue;
    let maxSeen = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) maxSeen = Math.max(maxSeen, await queue.activeCount());
    })();
    // Extra admission runs on both instances, racing their own workers.
    let hammering = true;
    const hammer = (async () => {
      while (hammering)
        await Promise.all(servers.map((server) => server.container.admission.admitNow()));
    })();

    // Joins arrive in waves while admission and churn are already running.
    const tokens: string[] = [];
    const joining = (async () => {
      for (let wave = 0; wave < USERS / 50; wave++) {
        const joined = await Promise.all(
          Array.from({ length: 50 }, (_, i) => servers[i % 2]!.client.join(10_000 + wave * 50 + i)),
        );
        expect(joined.every((reply) => reply.status === 201)).toBe(true);
        tokens.push(...joined.map((reply) => reply.data.token));
      }
    })();

    // Churn: every ACTIVE user leaves through a random instance until everyone has had a turn.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const rows = await queue.snapshot();
      const active = rows.filter((row) => row.status === 'ACTIVE');
      if (rows.length === USERS && rows.every((row) => row.status === 'EXPIRED')) break;
      if (Date.now() > deadline) throw new Error('churn did not finish');
      await Promise.all(
        active.map((row, i) => servers[(i + rows.length) % 2]!.client.leave(row.token)),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    sampling = false;
    hammering = false;
    await Promise.all([sampler, hammer, joining]);

    expect(maxSeen).toBeGreaterThan(0);
    expect(maxSeen).toBeLessThanOrEqual(LIMIT);
    // In activation order, ties (one admission run) by arrival.
    const rows = (await queue.snapshot()).sort(
      (a, b) => (a.activatedAt ?? Infinity) - (b.activatedAt ?? Infinity) || a.arrival - b.arrival,
    );
    // Everyone was admitted (nobody skipped), in arrival order.
    expect(rows.every((row) => row.activatedAt !== null)).toBe(true);
    const admittedOrder = rows.map((row) => row.arrival);
    expect(admittedOrder).toEqual([...admittedOrder].sort((a, b) => a - b));
    expect(new Set(rows.map((row) => row.token))).toEqual(new Set(tokens));
    expect(await invariantViolations(db.pool, { maxActive: LIMIT, queue })).toEqual([]);
  });
});
