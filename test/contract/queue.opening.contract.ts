import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import { openDatabase, type Database } from '../../src/db/client.js';
import { drawOrder, verifyDraw } from '../../src/modules/queue/queue.lottery.js';
import { createOpening } from '../../src/modules/queue/queue.opening.js';
import { newRoomToken } from '../../src/shared/ids.js';
import { createPreQueueStore } from '../../src/modules/queue/queue.opening.postgres.js';
import type { QueueStore } from '../../src/modules/queue/queue.store.js';
import type { RoomSettings } from '../../src/modules/rooms/rooms.store.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../support/db.js';
import type { QueueContractOptions, QueueHarness } from './queue.contract.js';

const ROOM = 9_201;
const logger = pino({ level: 'silent' });
/** A token of the room, as the pre-queue chooses one at its join. */
const roomToken = () => newRoomToken(ROOM);

/**
 * Scheduled openings on every queue backend (decision 0056): the pre-queue is in PostgreSQL (a
 * database of this suite's own: the same tables whatever the line's backend), the line on the
 * backend under test. The room's settings reach the store through `settings`, as the room
 * directory gives them.
 */
export function queueOpeningContract(
  fresh: (options?: Partial<QueueContractOptions>) => Promise<QueueHarness>,
  settings: Map<number, RoomSettings>,
): void {
  if (!postgresAvailable) return;
  let db: TestDatabase;
  const databases: Database[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const each of databases) await each.close();
    await db?.drop();
  });

  /** A room whose opening is due now (a past opens_at, written behind the API's back). */
  const setUp = async (harness: QueueHarness, instances = 1) => {
    await db.pool.query('TRUNCATE pre_queue, rooms CASCADE');
    await db.pool.query(
      `INSERT INTO concerts (id, title, venue, show_datetime)
       VALUES ($1, 'Opening', 'Hall', now() + interval '30 days') ON CONFLICT (id) DO NOTHING`,
      [ROOM],
    );
    await db.pool.query(
      `INSERT INTO rooms (concert_id, max_active, state, opens_at, seed, commitment)
       VALUES ($1, 2, 'paused', now() + interval '1 hour',
         '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
         '6c86c6aac5fb24bcf5d9939cb7d7d5645ce39418f449e03b262dd4fa14b4b92b')`,
      [ROOM],
    );
    const room: RoomSettings = {
      roomId: ROOM,
      maxActive: 2,
      admissionPerMinute: null,
      state: 'paused',
      opening: { opensAt: new Date().toISOString(), preQueueOpensAt: null, transferred: false },
    };
    settings.set(ROOM, room);
    await harness.saveRooms([room]);
    const stores: QueueStore[] = [harness.store];
    for (let i = 1; i < instances; i++) stores.push(await harness.instance());
    const openings = stores.map((store) => {
      const database = openDatabase({
        url: db.url,
        poolSize: 3,
        pgliteDir: '',
        pgliteInMemory: false,
      });
      databases.push(database);
      const preQueue = createPreQueueStore(database);
      const rooms = { lookup: () => Promise.resolve(room), settings: () => room };
      return {
        opening: createOpening({ preQueue, store, rooms, intervalMs: 50, logger }),
        preQueue,
      };
    });
    const due = () =>
      db.pool.query('UPDATE rooms SET opens_at = now() WHERE concert_id = $1', [ROOM]);
    return { room, stores, openings, due };
  };
  const drawn = async () =>
    (
      await db.pool.query<{ receipt_id: string }>(
        'SELECT receipt_id FROM pre_queue WHERE concert_id = $1 AND place IS NOT NULL ORDER BY place',
        [ROOM],
      )
    ).rows.map((row) => row.receipt_id);

  it('pre-queue joins get a receipt and no place; one entry per user', async () => {
    const harness = await fresh();
    const { room, openings } = await setUp(harness);
    const { opening } = openings[0]!;
    const first = await opening.join(1, room);
    expect(first).toMatchObject({ status: 'PRE_QUEUE', position: 0, roomId: ROOM });
    expect(first?.receiptId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const again = await opening.join(1, room);
    expect([again?.token, again?.receiptId]).toEqual([first?.token, first?.receiptId]);
    // Not in the line yet: the line does not know the token, the pre-queue does.
    expect(await harness.store.poll(first!.token)).toBeNull();
    expect((await opening.poll(first!.token))?.status).toBe('PRE_QUEUE');
  });

  it('the opening draws once and the line takes the drawn entries in draw order, late joiners behind', async () => {
    const harness = await fresh();
    const { room, openings, due } = await setUp(harness);
    const { opening } = openings[0]!;
    const entries = [];
    for (let user = 1; user <= 12; user++) entries.push((await opening.join(user, room))!);
    await due();
    // The draw alone first (what a run starts with), then once more: it happens once.
    const { preQueue } = openings[0]!;
    expect(await preQueue.draw(ROOM)).toBe(12);
    expect(await preQueue.draw(ROOM)).toBeUndefined();
    const seed = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
    const draw = await drawn();
    // The places are the library's draw of exactly these receipts, and it verifies.
    expect(draw).toEqual(
      drawOrder(
        seed,
        entries.map((entry) => entry.receiptId!),
      ),
    );
    expect(
      verifyDraw({
        seed,
        commitment: '6c86c6aac5fb24bcf5d9939cb7d7d5645ce39418f449e03b262dd4fa14b4b92b',
        draw,
      }),
    ).toEqual({ ok: true, total: 12 });
    // A late joiner, after the draw but before the entries reach the line: behind all of them.
    const late = (await opening.join(99, room))!;
    expect([late.status, late.position]).toEqual(['WAITING', 13]);
    await opening.run();
    await opening.run();
    const byReceipt = new Map(entries.map((entry) => [entry.receiptId!, entry.token]));
    for (const [index, receipt] of draw.entries()) {
      const view = await harness.store.poll(byReceipt.get(receipt)!);
      expect([view?.status, view?.position]).toEqual(['WAITING', index + 1]);
    }
    const lateView = await harness.store.poll(late.token);
    expect([lateView?.status, lateView?.position]).toEqual(['WAITING', 13]);
    // Transferred: the pre-queue no longer takes joins; the line does (behind everyone).
    expect(await openings[0]!.preQueue.enter(ROOM, 100)).toBeUndefined();
    const after = await harness.store.join(100, settings.get(ROOM));
    expect(after.position).toBe(14);
  });

  it('a batch of moved entries lands in the order given, with exact positions, in one call', async () => {
    const harness = await fresh();
    const { room } = await setUp(harness);
    // Users in an order unrelated to their ids (a draw's order), each with the pre-queue's token.
    const batch = [7, 3, 11, 1, 9, 5].map((userId) => ({ userId, token: roomToken() }));
    await harness.store.joinMany(room, batch);
    const positions = await Promise.all(
      batch.map(async ({ token }) => {
        const view = await harness.store.poll(token);
        return [view?.token, view?.status, view?.position];
      }),
    );
    // The chosen tokens are kept, and the places follow the batch's order exactly.
    expect(positions).toEqual(batch.map(({ token }, index) => [token, 'WAITING', index + 1]));
    // A join after the batch goes behind it.
    expect((await harness.store.join(50, room)).position).toBe(batch.length + 1);
  });

  it('a batch run again after a partial move neither duplicates nor reorders', async () => {
    const harness = await fresh();
    const { room } = await setUp(harness);
    const batch = [21, 25, 22, 24, 23, 26, 20].map((userId) => ({
      userId,
      token: roomToken(),
    }));
    // A mover that crashed part-way: the first entries joined (one by one, or as a batch)...
    await harness.store.join(batch[0]!.userId, room, batch[0]!.token);
    await harness.store.joinMany(room, batch.slice(1, 3));
    // ...then the whole batch again (a second mover, or the next run), twice over.
    await harness.store.joinMany(room, batch);
    await harness.store.joinMany(room, batch);
    const views = await Promise.all(batch.map(({ token }) => harness.store.poll(token)));
    // Exactly 1..7 in the batch's order: nobody joined twice, nobody moved.
    expect(views.map((view) => [view?.status, view?.position])).toEqual(
      batch.map((_, index) => ['WAITING', index + 1]),
    );
    expect((await harness.store.roomStats(ROOM)).waiting).toBe(batch.length);
    // Each user still has the one token the pre-queue chose (a re-join returns it, same place).
    const again = await harness.store.join(batch[4]!.userId, room);
    expect([again.token, again.position]).toEqual([batch[4]!.token, 5]);
  });

  it('three instances racing the opening draw exactly once and give places 1..N in draw order', async () => {
    const harness = await fresh();
    const { room, openings, stores, due } = await setUp(harness, 3);
    const entries = [];
    for (let user = 1; user <= 30; user++)
      entries.push((await openings[user % 3]!.opening.join(user, room))!);
    await due();
    // Every instance runs its opening while joins keep coming on all three. A join that finds the
    // room transferred (the openings may finish first on a busy machine) joins the line itself,
    // as the service does.
    const lateJoins = Promise.all(
      [101, 102, 103, 104, 105, 106].map(
        async (user) =>
          (await openings[user % 3]!.opening.join(user, room)) ??
          (await stores[user % 3]!.join(user, room)),
      ),
    );
    const [late] = await Promise.all([lateJoins, ...openings.map(({ opening }) => opening.run())]);
    for (let i = 0; i < 3; i++) await Promise.all(openings.map(({ opening }) => opening.run()));
    const opened = await db.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM pre_queue WHERE concert_id = $1 AND place IS NOT NULL',
      [ROOM],
    );
    const draw = await drawn();
    const seed = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
    expect(
      verifyDraw({
        seed,
        commitment: '6c86c6aac5fb24bcf5d9939cb7d7d5645ce39418f449e03b262dd4fa14b4b92b',
        draw,
      }).ok,
    ).toBe(true);
    // The 30 pre-queue entries, and those late joins that reached the pre-queue before the draw.
    const total = Number(opened.rows[0]!.n);
    expect(total).toBeGreaterThanOrEqual(30);
    const tokens = await db.pool.query<{ token: string; receipt_id: string; place: number | null }>(
      'SELECT token, receipt_id, place FROM pre_queue WHERE concert_id = $1 ORDER BY COALESCE(place, 2147483647), seq',
      [ROOM],
    );
    // The late joins after the transfer, straight into the line.
    const inPreQueue = new Set(tokens.rows.map((row) => row.token));
    const direct = late.filter((view) => !inPreQueue.has(view.token)).map((view) => view.token);
    expect(tokens.rows.length + direct.length).toBe(36);
    const positionOf = async (token: string) => (await stores[0]!.poll(token))?.position;
    const positions = [];
    for (const row of tokens.rows) positions.push(await positionOf(row.token));
    for (const token of direct) positions.push(await positionOf(token));
    // Exactly 1..36: the drawn in draw order, then the pre-queue's late joiners in arrival order,
    // then those that joined the line after the transfer (racing each other); nobody twice.
    const fromPreQueue = positions.slice(0, tokens.rows.length);
    const afterTransfer = positions.slice(tokens.rows.length).sort((a, b) => a! - b!);
    expect([...fromPreQueue, ...afterTransfer]).toEqual(
      Array.from({ length: 36 }, (_, index) => index + 1),
    );
    expect(tokens.rows.slice(0, total).map((row) => row.receipt_id)).toEqual(draw);
  });
}
