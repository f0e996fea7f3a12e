import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type CompiledStatement, type Database } from '../../src/db/client.js';
import { createPreQueueStore } from '../../src/modules/queue/queue.opening.postgres.js';
import type { PreQueueStore } from '../../src/modules/queue/queue.opening.store.js';
import { newRoomToken } from '../../src/shared/ids.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';

const ROOM = 9_301;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithPostgres('pre-queue: joins racing the move and the draw', () => {
  let db: TestDatabase;
  let database: Database;
  let preQueue: PreQueueStore;
  beforeAll(async () => {
    db = await createTestDatabase();
    database = openDatabase({ url: db.url, poolSize: 3, pgliteDir: '', pgliteInMemory: false });
    preQueue = createPreQueueStore(database);
    // Opened (drawn, with nobody in the pre-queue then) and not yet transferred: joins now are
    // late arrivals, moved in arrival order.
    await addRoom(ROOM, { drawn: true });
  });
  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  /** A concert and its room, opening now (written behind the API's back); `drawn`: opened too. */
  const addRoom = async (id: number, { drawn }: { drawn: boolean }) => {
    await db.pool.query(
      `INSERT INTO concerts (id, title, venue, show_datetime)
       VALUES ($1, 'Pre-queue', 'Hall', now() + interval '30 days')`,
      [id],
    );
    await db.pool.query(
      `INSERT INTO rooms (concert_id, max_active, state, opens_at, opened_at, seed, commitment)
       VALUES ($1, 2, 'paused', now(), CASE WHEN $2 THEN now() END,
         repeat('00', 32), repeat('11', 32))`,
      [id, drawn],
    );
  };

  /**
   * Proves: the opening's move reads the pre-queue's late arrivals (joined after the draw, no place)
   * as a prefix of their final order, even while joins are in flight. A late arrival's order is its
   * `seq` (a sequence: taken when its row is written, visible when its statement commits), so two
   * concurrent joins can commit in the other order. Before the fix the move read the later one
   * alone, put it in the line, and then the earlier one behind it: in CI's three-instance opening
   * race two late joiners' line positions came out swapped (34 and 35). Here the earlier join is
   * held in flight by hand (the room row FOR SHARE and its row written, as `enter` does in one
   * statement), a later one commits, and the move's read must wait for the first and return both in
   * order — not the second alone.
   */
  it('a late arrival committed first is read only with the earlier one still in flight', async () => {
    const inFlight = await db.pool.connect();
    try {
      await inFlight.query('BEGIN');
      await inFlight.query('SELECT 1 FROM rooms WHERE concert_id = $1 FOR SHARE', [ROOM]);
      await inFlight.query(
        `INSERT INTO pre_queue (concert_id, user_id, receipt_id, token)
         VALUES ($1, 1, 'receipt-of-user-1-in-flight', $2)`,
        [ROOM, newRoomToken(ROOM)],
      );
      // The second arrival commits while the first is in flight: its seq is the greater.
      expect((await preQueue.enter(ROOM, 2))?.rank).toBeGreaterThan(0);

      let read: { user_id: number }[] | undefined;
      const reading = preQueue.toMove(ROOM, 10).then((rows) => (read = rows));
      await sleep(300);
      // Still waiting for the join in flight (it would have answered user 2 alone by now).
      expect(read).toBeUndefined();
      await inFlight.query('COMMIT');
      await reading;
      expect(read!.map((row) => row.user_id)).toEqual([1, 2]);
    } finally {
      await inFlight.query('ROLLBACK').catch(() => undefined);
      inFlight.release();
    }
    // The read lets the room row go: a join after it is written (a kept lock would leave it
    // waiting until the test's timeout) and read behind the others.
    expect((await preQueue.enter(ROOM, 3))?.userId).toBe(3);
    expect((await preQueue.toMove(ROOM, 10)).map((row) => row.user_id)).toEqual([1, 2, 3]);
  });

  /**
   * Proves: a buyer answered PRE_QUEUE is in the draw, and one in the draw was answered PRE_QUEUE.
   * `enter` wrote the entry (under the room row FOR SHARE) and then read it back: a draw that
   * committed between the two had this entry (it was written first) and made the read-back answer
   * WAITING at its drawn place — a full test run with two files at once saw it in the
   * three-instance opening race (test/concurrency/rooms-opening), whose check "the draw is exactly
   * the buyers answered PRE_QUEUE" failed by one. Here the draw runs right after the write.
   */
  it('an entry written before the draw is answered PRE_QUEUE, even when the draw commits before its read-back', async () => {
    const room = ROOM + 1;
    await addRoom(room, { drawn: false });
    let drawn: number | undefined;
    const drawingBetween = createPreQueueStore({
      ...database,
      async run<T>(statement: CompiledStatement): Promise<T[]> {
        const rows = await database.run<T>(statement);
        if (drawn === undefined && statement.text.includes('INSERT INTO pre_queue'))
          drawn = await preQueue.draw(room);
        return rows;
      },
    });
    const entry = await drawingBetween.enter(room, 7);
    expect(drawn).toBe(1);
    expect(entry).toMatchObject({ userId: 7, opened: false, rank: 0 });
    // Its place is the draw's from the next read on.
    expect(await preQueue.byToken(entry!.token)).toMatchObject({ opened: true, place: 1, rank: 1 });
  });
});
