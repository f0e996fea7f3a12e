import { beforeAll, expect, it } from 'vitest';
import type { TestClient } from '../support/client.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, type ConcertFixture } from '../support/fixtures.js';
import { useServerProcesses } from '../support/processes.js';

const KEY = 'rooms-pause-test-operator-key-0123456789';
const operator = { authorization: `Bearer ${KEY}` };

interface Joined {
  token: string;
  status: string;
  position: number;
}

/**
 * Proves: with joins racing into one room on three server processes (one PostgreSQL and, in the
 * redis-queue project, one Redis), an operator's pause is in effect on every instance within a
 * second of the PATCH's reply — the room's active count read one second after it never grows
 * while joins go on — and a resume admits again in line order. On the Redis backend each instance
 * learns the pause only from its room reload (ROOM_RELOAD_INTERVAL_MS), so without that reload
 * the other two instances would go on admitting every join at once.
 */
describeWithPostgres('three server processes pausing one room', () => {
  const shared = useServerProcesses({
    OPERATOR_KEY: KEY,
    ADMISSION_INTERVAL_MS: '50',
    RATE_LIMIT_ENABLED: 'false',
  });
  let clients: TestClient[] = [];
  let concert: ConcertFixture;

  beforeAll(async () => {
    clients = shared.clients;
    concert = await createConcert(shared.db.pool, { seats: 10, price: 1_000 });
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const join = async (instance: number, userId: number) => {
    const joined = await clients[instance % 3]!.call<Joined>('POST', '/api/v1/queue/token', {
      headers: { 'client-id': String(userId) },
      body: { concertId: concert.concertId },
    });
    expect(joined.status).toBe(201);
    return joined.data;
  };
  const admin = (instance: number, body: unknown) =>
    clients[instance]!.call('PATCH', `/api/v1/admin/rooms/${concert.concertId}`, {
      headers: operator,
      body,
    });
  const active = async () =>
    (
      await clients[0]!.call<{ active: number; waiting: number }>(
        'GET',
        `/api/v1/queue/rooms/${concert.concertId}`,
      )
    ).data;

  it('stops admitting on every instance within a second of the pause, and resumes in line order', async () => {
    const created = await clients[0]!.call('POST', '/api/v1/admin/rooms', {
      headers: operator,
      body: { concertId: concert.concertId, maxActive: 1_000 },
    });
    expect(created.status).toBe(201);
    // Every instance has read the new room (it reloads within a second).
    await sleep(1_200);

    let user = 70_000;
    let racing = true;
    const joined: Joined[] = [];
    // Joins on all three instances, without pause, until told to stop.
    const racers = [0, 1, 2].map(async (instance) => {
      while (racing) {
        joined.push(await join(instance, user++));
        await sleep(10);
      }
    });
    await sleep(500);
    expect((await active()).active).toBeGreaterThan(0);
    const paused = await admin(1, { state: 'paused' });
    expect(paused.status).toBe(200);
    await sleep(1_000);
    const settled = (await active()).active;
    // Joins go on for two more seconds on every instance: nobody more may be admitted.
    await sleep(2_000);
    racing = false;
    await Promise.all(racers);
    const after = await active();
    expect(after.active).toBe(settled);
    expect(after.waiting).toBeGreaterThan(10);

    // Resume with room for three more: the first three in line, and only they, get in.
    const line = await Promise.all(
      joined.map(async (view) => ({
        token: view.token,
        ...(await clients[0]!.status(view.token)).data,
      })),
    );
    const waiting = line
      .filter((view) => view.status === 'WAITING')
      .sort((a, b) => a.position - b.position);
    expect(waiting.map((view) => view.position)).toEqual(waiting.map((_, i) => i + 1));
    expect((await admin(2, { state: 'open', maxActive: settled + 3 })).status).toBe(200);
    const deadline = Date.now() + 3_000;
    while ((await active()).active < settled + 3 && Date.now() < deadline) await sleep(50);
    const statuses = await Promise.all(
      waiting.map(async (view) => (await clients[1]!.status(view.token)).data.status),
    );
    expect(statuses.slice(0, 3)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
    expect(statuses.slice(3).every((status) => status === 'WAITING')).toBe(true);
  }, 60_000);
});
