import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const KEY = 'rooms-test-operator-key-0123456789abcdef';
const operator = { authorization: `Bearer ${KEY}` };

interface Room {
  concertId: number;
  maxActive: number;
  admissionPerMinute: number | null;
  state: string;
}

describeWithPostgres('waiting rooms per concert (docs/rooms.md)', () => {
  let db: TestDatabase;
  let server: TestServer;
  /** Has a room of its own. */
  let roomed: ConcertFixture;
  /** Has none: the house room's. */
  let plain: ConcertFixture;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, { OPERATOR_KEY: KEY, MAX_ACTIVE: '100' });
    roomed = await createConcert(db.pool, { seats: 5, price: 10_000 });
    plain = await createConcert(db.pool, { seats: 5, price: 10_000 });
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const admin = <T>(method: string, path: string, body?: unknown, headers = operator) =>
    server.client.call<T>(method, `/api/v1/admin/rooms${path}`, { headers, body });
  const join = (userId: number, body?: unknown) =>
    server.client.call<{
      token: string;
      status: string;
      position: number;
      concertId: number | null;
    }>('POST', '/api/v1/queue/token', { headers: { 'client-id': String(userId) }, body });
  /** A room token, polled until ACTIVE. */
  const activeRoomToken = async (userId: number, concertId: number): Promise<string> => {
    const joined = await join(userId, { concertId });
    expect([joined.status, joined.data.concertId]).toEqual([201, concertId]);
    for (let i = 0; i < 100 && joined.data.status !== 'ACTIVE'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      joined.data.status = (await server.client.status(joined.data.token)).data.status;
    }
    expect(joined.data.status).toBe('ACTIVE');
    return joined.data.token;
  };

  describe('operators', () => {
    it('create a room once per existing concert, read it and change it, each change audited', async () => {
      const created = await admin<Room>('POST', '', { concertId: roomed.concertId, maxActive: 5 });
      expect(created.status).toBe(201);
      expect(created.data).toMatchObject({
        concertId: roomed.concertId,
        maxActive: 5,
        admissionPerMinute: null,
        state: 'open',
      });
      const again = await admin('POST', '', { concertId: roomed.concertId });
      expect([again.status, again.code]).toEqual([409, 'ROOM_EXISTS']);
      const nowhere = await admin('POST', '', { concertId: 987_654 });
      expect([nowhere.status, nowhere.code]).toEqual([404, 'CONCERT_NOT_FOUND']);

      const read = await admin<Room>('GET', `/${roomed.concertId}`);
      expect([read.status, read.data.maxActive]).toEqual([200, 5]);
      const missing = await admin('GET', `/${plain.concertId}`);
      expect([missing.status, missing.code]).toEqual([404, 'ROOM_NOT_FOUND']);

      const changed = await admin<Room>('PATCH', `/${roomed.concertId}`, {
        admissionPerMinute: 600,
        state: 'queue-all',
      });
      expect(changed.status).toBe(200);
      expect(changed.data).toMatchObject({
        maxActive: 5,
        admissionPerMinute: 600,
        state: 'queue-all',
      });
      const back = await admin<Room>('PATCH', `/${roomed.concertId}`, {
        admissionPerMinute: null,
        state: 'open',
      });
      expect(back.data).toMatchObject({ admissionPerMinute: null, state: 'open' });
      const unknown = await admin('PATCH', `/${plain.concertId}`, { state: 'paused' });
      expect([unknown.status, unknown.code]).toEqual([404, 'ROOM_NOT_FOUND']);

      const audit = await server.client.call<{
        entries: {
          action: string;
          outcome: string;
          code: string | null;
          before: unknown;
          after: unknown;
        }[];
      }>('GET', '/api/v1/admin/audit?targetType=room&limit=20', { headers: operator });
      const entries = audit.data.entries.reverse();
      expect(entries.filter((entry) => entry.outcome === 'SUCCESS')).toMatchObject([
        { action: 'room.create', before: null, after: { maxActive: 5, state: 'open' } },
        {
          action: 'room.update',
          before: { admissionPerMinute: null, state: 'open' },
          after: { admissionPerMinute: 600, state: 'queue-all' },
        },
        { action: 'room.update', before: { state: 'queue-all' }, after: { state: 'open' } },
      ]);
      expect(
        entries.filter((entry) => entry.outcome === 'REFUSED').map((entry) => entry.code),
      ).toEqual(expect.arrayContaining(['ROOM_EXISTS', 'CONCERT_NOT_FOUND', 'ROOM_NOT_FOUND']));
    });

    it('refuse bad settings with 400 INVALID_REQUEST and callers without the key with 401', async () => {
      for (const body of [
        { concertId: roomed.concertId, state: 'half-open' },
        { concertId: roomed.concertId, maxActive: 0 },
        { concertId: roomed.concertId, admissionPerMinute: -5 },
        { concertId: 'twelve' },
        { concertId: roomed.concertId, colour: 'red' },
      ]) {
        const refused = await admin('POST', '', body);
        expect([refused.status, refused.code]).toEqual([400, 'INVALID_REQUEST']);
      }
      for (const body of [{}, { state: 'shut' }, { maxActive: 1.5 }]) {
        const refused = await admin('PATCH', `/${roomed.concertId}`, body);
        expect([refused.status, refused.code]).toEqual([400, 'INVALID_REQUEST']);
      }
      const anonymous = await admin(
        'PATCH',
        `/${roomed.concertId}`,
        { state: 'closed' },
        {
          authorization: '',
        },
      );
      expect(anonymous.status).toBe(401);
      expect((await admin<Room>('GET', `/${roomed.concertId}`)).data.state).toBe('open');
    });
    it('delete a concert with its room while nothing is sold; the room goes with it', async () => {
      const doomed = await createConcert(db.pool, { seats: 2, price: 10_000 });
      expect((await admin('POST', '', { concertId: doomed.concertId })).status).toBe(201);
      const deleted = await server.client.call(
        'DELETE',
        `/api/v1/admin/concerts/${doomed.concertId}`,
        {
          headers: operator,
        },
      );
      expect(deleted.status).toBe(200);
      const gone = await admin('GET', `/${doomed.concertId}`);
      expect([gone.status, gone.code]).toEqual([404, 'ROOM_NOT_FOUND']);
    });
  });

  describe('buyers', () => {
    it('join a concert room with its concertId; the house room without one, as before', async () => {
      const house = await join(11);
      expect([house.status, house.data.concertId]).toEqual([201, null]);
      const inRoom = await join(11, { concertId: roomed.concertId });
      expect([inRoom.status, inRoom.data.concertId]).toEqual([201, roomed.concertId]);
      expect(inRoom.data.token).not.toBe(house.data.token);
      // One token per room: joining again gives the same one back.
      expect((await join(11, { concertId: roomed.concertId })).data.token).toBe(inRoom.data.token);
      const status = await server.client.call<{ concertId: number | null }>(
        'GET',
        '/api/v1/queue/token',
        { headers: { 'queue-token': inRoom.data.token } },
      );
      expect(status.data.concertId).toBe(roomed.concertId);
      const noRoom = await join(11, { concertId: plain.concertId });
      expect([noRoom.status, noRoom.code]).toEqual([404, 'ROOM_NOT_FOUND']);
      const bad = await join(11, { concertId: -1 });
      expect([bad.status, bad.code]).toEqual([400, 'INVALID_REQUEST']);
    });

    it('refuses joins to a closed room (409 ROOM_CLOSED) while its line keeps its places', async () => {
      await admin('PATCH', `/${roomed.concertId}`, { state: 'paused' });
      const waiting = await join(21, { concertId: roomed.concertId });
      expect(waiting.data.status).toBe('WAITING');
      await admin('PATCH', `/${roomed.concertId}`, { state: 'closed' });
      const refused = await join(22, { concertId: roomed.concertId });
      expect([refused.status, refused.code]).toEqual([409, 'ROOM_CLOSED']);
      // Closed: the line is admitted on; the waiting token gets in.
      let status = 'WAITING';
      for (let i = 0; i < 60 && status !== 'ACTIVE'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (await server.client.status(waiting.data.token)).data.status;
      }
      expect(status).toBe('ACTIVE');
      await admin('PATCH', `/${roomed.concertId}`, { state: 'open' });
    });

    it('book with a room token only its concert, with a house token only concerts without a room (403 QUEUE_TOKEN_WRONG_ROOM)', async () => {
      const { client } = server;
      const roomToken = await activeRoomToken(31, roomed.concertId);
      const houseToken = await client.activeToken(31);
      const wrongHold = await client.hold(roomToken, plain.concertId, plain.seatIds[0]!);
      expect([wrongHold.status, wrongHold.code]).toEqual([403, 'QUEUE_TOKEN_WRONG_ROOM']);
      const houseInRoom = await client.hold(houseToken, roomed.concertId, roomed.seatIds[0]!);
      expect([houseInRoom.status, houseInRoom.code]).toEqual([403, 'QUEUE_TOKEN_WRONG_ROOM']);
      // The house token still books a concert without a room, as before.
      expect((await client.hold(houseToken, plain.concertId, plain.seatIds[0]!)).status).toBe(201);
      expect((await client.release(houseToken, plain.concertId)).status).toBe(200);

      expect((await client.hold(roomToken, roomed.concertId, roomed.seatIds[0]!)).status).toBe(201);
      await setBalance(db.pool, 31, 50_000);
      const wrongPay = await client.pay(houseToken, roomed.seatIds[0]!);
      expect([wrongPay.status, wrongPay.code]).toEqual([403, 'QUEUE_TOKEN_WRONG_ROOM']);
      const paid = await client.pay(roomToken, roomed.seatIds[0]!);
      expect([paid.status, paid.data.concertId]).toEqual([201, roomed.concertId]);
      // Nothing was charged by the refusals: one seat's price.
      expect((await client.balance(31)).data.balance).toBe(40_000);
    });
  });

  describe('public view', () => {
    it('shows a room without authentication; 404 ROOM_NOT_FOUND for a concert without one', async () => {
      const view = await server.client.call<Record<string, unknown>>(
        'GET',
        `/api/v1/queue/rooms/${roomed.concertId}`,
      );
      expect(view.status).toBe(200);
      expect(view.data).toMatchObject({
        concertId: roomed.concertId,
        state: 'open',
        opensAt: null,
        maxActive: 5,
        admissionPerMinute: null,
        commitment: null,
        // One of the five seats was sold above.
        seatsLeft: 4,
      });
      expect(view.data.active).toEqual(expect.any(Number));
      expect(view.data.waiting).toEqual(expect.any(Number));
      expect(view.data.admissionRate as number).toBeGreaterThan(0);
      const none = await server.client.call('GET', `/api/v1/queue/rooms/${plain.concertId}`);
      expect([none.status, none.code]).toEqual([404, 'ROOM_NOT_FOUND']);
    });
  });
});
