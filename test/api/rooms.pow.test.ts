import { afterAll, beforeAll, expect, it } from 'vitest';
import { issueChallenge } from '../../src/modules/queue/queue.pow.js';
import { solveChallenge } from '../../src/modules/queue/queue.pow.solve.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { describeWithRedis, testKeyPrefix } from '../support/redis.js';
import { useTestDatabase, useTestServer } from '../support/suite.js';

const KEY = 'pow-test-operator-key-0123456789abcdef';
const SECRET = 'pow-test-secret-0123456789abcdef0123456789';
const operator = { authorization: `Bearer ${KEY}` };
/** 256 hashes on average: the tests pay milliseconds, the checks are the same. */
const BITS = 8;

interface Challenge {
  challenge: string;
  difficulty: number;
  expiresAt: string;
}

const api = (server: TestServer) => ({
  admin: (method: string, path: string, body?: unknown) =>
    server.client.call<{ powDifficulty: number }>(method, `/api/v1/admin/rooms${path}`, {
      headers: operator,
      body,
    }),
  challenge: (concertId: number) =>
    server.client.call<Challenge>('GET', `/api/v1/queue/rooms/${concertId}/challenge`),
  join: (userId: number, body: unknown) =>
    server.client.call<{ token: string; status: string }>('POST', '/api/v1/queue/token', {
      headers: { 'client-id': String(userId) },
      body,
    }),
});

const solved = async (server: TestServer, concertId: number) => {
  const { data } = await api(server).challenge(concertId);
  const { solution } = await solveChallenge(data.challenge, data.difficulty);
  return { challenge: data.challenge, solution };
};

describeWithPostgres('proof of work to join a room (docs/rooms.md, decision 0051)', () => {
  const { db, server } = useTestServer({ OPERATOR_KEY: KEY, POW_SECRET: SECRET });
  let concertId: number;
  let other: number;

  beforeAll(async () => {
    concertId = (await createConcert(db.pool, { seats: 5 })).concertId;
    other = (await createConcert(db.pool, { seats: 5 })).concertId;
    for (const id of [concertId, other]) {
      const created = await api(server).admin('POST', '', { concertId: id, powDifficulty: BITS });
      expect([created.status, created.data.powDifficulty]).toEqual([201, BITS]);
    }
  });

  it('gives a signed challenge at the room difficulty, 404 for a concert without a room', async () => {
    const { status, data } = await api(server).challenge(concertId);
    expect(status).toBe(200);
    expect(data.difficulty).toBe(BITS);
    expect(data.challenge.startsWith(`pow1.${concertId}.${BITS}.`)).toBe(true);
    const view = await server.client.call<{ powDifficulty: number; soldOut: boolean }>(
      'GET',
      `/api/v1/queue/rooms/${concertId}`,
    );
    expect(view.data).toMatchObject({ powDifficulty: BITS, soldOut: false });
    const none = await api(server).challenge(987_654);
    expect([none.status, none.code]).toEqual([404, 'ROOM_NOT_FOUND']);
  });

  it('joins with a solution once; missing, reused, forged, expired, wrong-room and unsolved are refused', async () => {
    const missing = await api(server).join(101, { concertId });
    expect([missing.status, missing.code]).toEqual([428, 'POW_REQUIRED']);

    const pow = await solved(server, concertId);
    const first = await api(server).join(101, { concertId, pow });
    expect(first.status).toBe(201);
    const reused = await api(server).join(102, { concertId, pow });
    expect([reused.status, reused.code]).toEqual([409, 'POW_REUSED']);
    // Decided (docs/rooms.md): a rejoin needs a solution too; the place is kept as always.
    const rejoin = await api(server).join(101, { concertId, pow: await solved(server, concertId) });
    expect([rejoin.status, rejoin.data.token]).toEqual([201, first.data.token]);

    const forge = (secret: string, now = new Date()) =>
      issueChallenge({ concertId, difficulty: BITS, ttlSeconds: 300, secret, now });
    const solve = async (challenge: string) => ({
      challenge,
      solution: (await solveChallenge(challenge, BITS)).solution,
    });
    const forged = await api(server).join(103, {
      concertId,
      pow: await solve(forge('another-secret-0123456789abcdef0123456789').challenge),
    });
    expect([forged.status, forged.code]).toEqual([400, 'POW_INVALID']);
    const expired = await api(server).join(103, {
      concertId,
      pow: await solve(forge(SECRET, new Date(Date.now() - 301_000)).challenge),
    });
    expect([expired.status, expired.code]).toEqual([400, 'POW_EXPIRED']);
    const wrongRoom = await api(server).join(103, { concertId, pow: await solved(server, other) });
    expect([wrongRoom.status, wrongRoom.code]).toEqual([400, 'POW_WRONG_ROOM']);
    const { data } = await api(server).challenge(concertId);
    const bad = await api(server).join(103, {
      concertId,
      pow: { challenge: data.challenge, solution: '!' },
    });
    expect([bad.status, bad.code]).toEqual([400, 'POW_UNSOLVED']);
    const unsolved = await firstFailing(data.challenge);
    const notSolved = await api(server).join(103, {
      concertId,
      pow: { challenge: data.challenge, solution: unsolved },
    });
    expect([notSolved.status, notSolved.code]).toEqual([400, 'POW_UNSOLVED']);
  });

  it('follows the difficulty live: a raise refuses challenges already out, 0 needs none', async () => {
    const before = await solved(server, other);
    const raised = await api(server).admin('PATCH', `/${other}`, { powDifficulty: BITS + 2 });
    expect(raised.status).toBe(200);
    const tooEasy = await api(server).join(201, { concertId: other, pow: before });
    expect([tooEasy.status, tooEasy.code]).toEqual([400, 'POW_TOO_EASY']);
    expect(
      (await api(server).join(201, { concertId: other, pow: await solved(server, other) })).status,
    ).toBe(201);
    await api(server).admin('PATCH', `/${other}`, { powDifficulty: 0 });
    expect((await api(server).challenge(other)).data.difficulty).toBe(0);
    expect((await api(server).join(202, { concertId: other })).status).toBe(201);
  });
});

/** A solution whose hash misses the difficulty (the solver's counter, first one that fails). */
async function firstFailing(challenge: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  for (let i = 0; ; i++) {
    const digest = createHash('sha256').update(`${challenge}:${i}`).digest();
    if (digest[0] !== 0) return String(i);
  }
}

describeWithPostgres('proof of work without POW_SECRET on PostgreSQL', () => {
  const { db, server } = useTestServer({ OPERATOR_KEY: KEY });
  it('refuses a room that asks for work: 409 POW_UNAVAILABLE, audited refusal', async () => {
    const { concertId } = await createConcert(db.pool, { seats: 1 });
    const refused = await api(server).admin('POST', '', { concertId, powDifficulty: 4 });
    expect([refused.status, refused.code]).toEqual([409, 'POW_UNAVAILABLE']);
    expect((await api(server).admin('POST', '', { concertId, powDifficulty: 0 })).status).toBe(201);
    const patched = await api(server).admin('PATCH', `/${concertId}`, { powDifficulty: 1 });
    expect([patched.status, patched.code]).toEqual([409, 'POW_UNAVAILABLE']);
  });
});

/**
 * Single use across instances: two servers on one database (postgres backend) or one Redis
 * prefix (redis backend) get the same solution at the same moment, many times over. Proves that
 * the spend is shared and atomic: of each pair exactly one join is 201, the other POW_REUSED.
 */
const raceTwoInstances = (backend: 'postgres' | 'redis') => () => {
  const db = useTestDatabase();
  const servers: TestServer[] = [];
  beforeAll(async () => {
    const shared =
      backend === 'redis'
        ? { QUEUE_BACKEND: 'redis', REDIS_KEY_PREFIX: testKeyPrefix() }
        : { QUEUE_BACKEND: 'postgres' };
    for (let i = 0; i < 2; i++)
      servers.push(await startTestServer(db, { ...shared, OPERATOR_KEY: KEY, POW_SECRET: SECRET }));
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  it('one 2xx per solution raced on two instances', async () => {
    const [a, b] = servers as [TestServer, TestServer];
    const { concertId } = await createConcert(db.pool, { seats: 5 });
    expect((await api(a).admin('POST', '', { concertId, powDifficulty: BITS })).status).toBe(201);
    await b.container.roomDirectory.refresh();
    for (let round = 0; round < 10; round++) {
      const pow = await solved(a, concertId);
      const replies = await Promise.all([
        api(a).join(1000 + round * 2, { concertId, pow }),
        api(b).join(1001 + round * 2, { concertId, pow }),
      ]);
      expect(replies.map((r) => r.status).sort()).toEqual([201, 409]);
      expect(replies.map((r) => r.code).sort()).toEqual(['POW_REUSED', 'SUCCESS']);
    }
  });
};

describeWithPostgres(
  'proof of work spent once across instances (postgres)',
  raceTwoInstances('postgres'),
);
describeWithRedis('proof of work spent once across instances (redis)', raceTwoInstances('redis'));
