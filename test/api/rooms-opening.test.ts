import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyDraw } from '../../src/modules/queue/queue.lottery.js';
import { runCommand } from '../support/command.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const KEY = 'rooms-opening-test-operator-key-0123456789';
const operator = { authorization: `Bearer ${KEY}` };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

interface RoomView {
  opensAt: string | null;
  preQueueOpensAt: string | null;
  commitment: string | null;
  seed: string | null;
  openedAt: string | null;
  preQueue: number;
}
interface DrawPage {
  seed: string | null;
  commitment: string;
  total: number;
  page: number;
  pageSize: number;
  receipts: string[];
}
interface Joined {
  token: string;
  status: string;
  position: number;
  receiptId: string | null;
  opensAt: string | null;
}

/**
 * Scheduled openings through the HTTP API (docs/lottery.md, decision 0056): the settings and
 * their refusals, the pre-queue window, the opening made by the server's own loop, the public
 * draw — and scripts/verify-draw.ts run against the real routes.
 */
describeWithPostgres('scheduled opening and the lottery draw (HTTP)', () => {
  let db: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, { OPERATOR_KEY: KEY, ADMISSION_INTERVAL_MS: '100' });
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const admin = <T>(method: string, path: string, body?: unknown) =>
    server.client.call<T>(method, `/api/v1/admin/rooms${path}`, { headers: operator, body });
  const join = (userId: number, concertId: number) =>
    server.client.call<Joined>('POST', '/api/v1/queue/token', {
      headers: { 'client-id': String(userId) },
      body: { concertId },
    });
  const view = (concertId: number) =>
    server.client.call<RoomView>('GET', `/api/v1/queue/rooms/${concertId}`);
  const draw = (concertId: number, page = 1) =>
    server.client.call<DrawPage>('GET', `/api/v1/queue/rooms/${concertId}/draw?page=${page}`);

  describe('operators', () => {
    it('refuse an opening in the past, a pre-queue not before it, clearing and changes after the opening', async () => {
      const { concertId } = await createConcert(db.pool, { seats: 5, price: 1_000 });
      const past = await admin('POST', '', { concertId, opensAt: inSeconds(-60) });
      expect([past.status, past.code]).toEqual([422, 'OPENING_IN_PAST']);
      const after = await admin('POST', '', {
        concertId,
        opensAt: inSeconds(60),
        preQueueOpensAt: inSeconds(120),
      });
      expect([after.status, after.code]).toEqual([422, 'PRE_QUEUE_NOT_BEFORE_OPENING']);
      const created = await admin<RoomView>('POST', '', { concertId, opensAt: inSeconds(60) });
      expect(created.status).toBe(201);
      const commitment = created.data.commitment;
      expect(commitment).toMatch(/^[0-9a-f]{64}$/);
      // Moving the opening keeps the seed (the commitment); removing it is refused.
      const moved = await admin<RoomView>('PATCH', `/${concertId}`, { opensAt: inSeconds(90) });
      expect([moved.status, moved.data.commitment]).toEqual([200, commitment]);
      const cleared = await admin('PATCH', `/${concertId}`, { opensAt: null });
      expect([cleared.status, cleared.code]).toEqual([409, 'OPENING_CANNOT_BE_CLEARED']);
      const bad = await admin('PATCH', `/${concertId}`, { opensAt: 'tomorrow' });
      expect([bad.status, bad.code]).toEqual([400, 'INVALID_REQUEST']);
      // After the opening nothing about it changes.
      await db.pool.query(
        "UPDATE rooms SET opens_at = now() - interval '1 second', opened_at = now() WHERE concert_id = $1",
        [concertId],
      );
      const late = await admin('PATCH', `/${concertId}`, { opensAt: inSeconds(60) });
      expect([late.status, late.code]).toEqual([409, 'ROOM_ALREADY_OPENED']);
      // Every change and refusal is audited.
      const audit = await db.pool.query<{ outcome: string; code: string | null }>(
        `SELECT outcome, code FROM audit_log WHERE target_type = 'room' AND target_id = $1 ORDER BY id`,
        [String(concertId)],
      );
      expect(audit.rows.map((row) => row.code ?? row.outcome)).toEqual(
        expect.arrayContaining(['SUCCESS', 'OPENING_CANNOT_BE_CLEARED', 'ROOM_ALREADY_OPENED']),
      );
    });

    it('answer 404 and 400 for the draw of an unknown room or a bad page', async () => {
      expect((await draw(987_654)).code).toBe('ROOM_NOT_FOUND');
      const { concertId } = await createConcert(db.pool, { seats: 5, price: 1_000 });
      expect((await admin('POST', '', { concertId })).status).toBe(201);
      expect((await draw(concertId, 0)).status).toBe(400);
    });
  });

  it('takes the pre-queue in its window, opens on time, publishes a draw the script verifies', async () => {
    const { concertId } = await createConcert(db.pool, { seats: 5, price: 1_000 });
    // Far enough for the script (a tsx start on a loaded machine) to run before the opening.
    const opensAt = inSeconds(10);
    const created = await admin('POST', '', {
      concertId,
      opensAt,
      preQueueOpensAt: inSeconds(1.5),
      state: 'paused',
    });
    expect(created.status).toBe(201);
    const early = await join(1, concertId);
    expect([early.status, early.code]).toEqual([409, 'ROOM_NOT_OPEN_YET']);
    expect(early.message).toContain(opensAt);
    await sleep(1_700);
    const entries: Joined[] = [];
    for (let user = 1; user <= 6; user++) {
      const joined = await join(user, concertId);
      expect(joined.status).toBe(201);
      expect(joined.data).toMatchObject({ status: 'PRE_QUEUE', position: 0, opensAt });
      entries.push(joined.data);
    }
    const again = await join(3, concertId);
    expect(again.data.receiptId).toBe(entries[2]!.receiptId);
    const polled = await server.client.status(entries[0]!.token);
    expect(polled.data).toMatchObject({ status: 'PRE_QUEUE', receiptId: entries[0]!.receiptId });
    const before = await view(concertId);
    expect(before.data).toMatchObject({ seed: null, openedAt: null, preQueue: 6 });
    expect((await draw(concertId)).data).toMatchObject({ seed: null, total: 0, receipts: [] });
    const roomUrl = `${server.url}/api/v1/queue/rooms/${concertId}`;
    expect((await runCommand('scripts/verify-draw.ts', ['--room-url', roomUrl])).code).toBe(3);

    // The server's opening loop draws within a second of opensAt.
    let opened = before.data;
    for (let i = 0; i < 100 && (opened.seed === null || opened.preQueue > 0); i++) {
      await sleep(100);
      opened = (await view(concertId)).data;
    }
    expect(opened.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(opened.openedAt!) - Date.parse(opensAt)).toBeLessThan(1_000);
    const page = (await draw(concertId)).data;
    expect(page.total).toBe(6);
    expect(
      verifyDraw({ seed: opened.seed!, commitment: opened.commitment!, draw: page.receipts }),
    ).toEqual({ ok: true, total: 6 });
    // Every buyer's place in line is their place in the draw (the room is paused).
    for (const entry of entries) {
      const status = await server.client.status(entry.token);
      expect(status.data).toMatchObject({
        status: 'WAITING',
        position: page.receipts.indexOf(entry.receiptId!) + 1,
        receiptId: entry.receiptId,
      });
    }
    const checked = await runCommand('scripts/verify-draw.ts', [
      '--room-url',
      roomUrl,
      '--receipt',
      entries[4]!.receiptId!,
      '--commitment',
      before.data.commitment!,
    ]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain(String(page.receipts.indexOf(entries[4]!.receiptId!) + 1));
    // A buyer arriving now joins the line behind every drawn entry.
    const late = await join(50, concertId);
    expect(late.data).toMatchObject({ status: 'WAITING', position: 7, receiptId: null });
    // Once in the line: a drawn buyer's join again answers their moved token with its receipt;
    // a new buyer's new token was never in the pre-queue (receiptId null, decision 0066).
    const back = await join(5, concertId);
    expect(back.data).toMatchObject({
      token: entries[4]!.token,
      status: 'WAITING',
      receiptId: entries[4]!.receiptId,
    });
    const lateAgain = await join(50, concertId);
    expect(lateAgain.data).toMatchObject({ token: late.data.token, receiptId: null });
  });
});
