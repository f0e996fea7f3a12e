import { afterAll, beforeAll } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createPostgresBookingTokens } from '../../src/modules/queue/queue.booking.postgres.js';
import { createPostgresQueueStore } from '../../src/modules/queue/queue.store.postgres.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { travel } from '../support/fixtures.js';
import { queueStoreContract } from './queue.contract.js';

describeWithPostgres('queue store contract: postgres backend', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  queueStoreContract(async (options) => {
    await db.pool.query('TRUNCATE queue_tokens, rooms, pre_queue');
    const opened: Database[] = [];
    const open = () => {
      const database = openDatabase({
        url: db.url,
        poolSize: 5,
        pgliteDir: '',
        pgliteInMemory: false,
      });
      opened.push(database);
      return database;
    };
    const database = open();
    const tokens = createPostgresBookingTokens(options);
    return {
      store: createPostgresQueueStore(database, options),
      instance: () => Promise.resolve(createPostgresQueueStore(open(), options)),
      travel: (seconds) => travel(db.pool, seconds),
      // What the hold and release transactions do with a token kept in the booking database:
      // lock and check it for the hold's concert, then change it (a refused token is left alone).
      holdTaken: (record, holdExpiresAt, concertId) =>
        database.transaction(async (tx) => {
          const verified = await tokens.open(tx, record, 'hold').verify(concertId);
          if (verified.ok) await verified.value.extendForHold(holdExpiresAt, concertId);
        }),
      holdReleased: (record) =>
        database.transaction(async (tx) => {
          const concertId = record.state.holdConcertId ?? 0;
          const verified = await tokens.open(tx, record, 'release').verify(concertId);
          if (verified.ok) await verified.value.endHoldExtension();
        }),
      // The rooms table (and each room's concert) is where this backend reads room settings.
      async saveRooms(rooms) {
        const rows = JSON.stringify(
          rooms.map((room) => ({
            id: room.roomId,
            max_active: room.maxActive,
            rate: room.admissionPerMinute,
            state: room.state,
          })),
        );
        await db.pool.query(
          `WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, max_active int, rate int, state text)),
             c AS (INSERT INTO concerts (id, title, venue, show_datetime)
                   SELECT id, 'Room ' || id, 'Hall', now() + interval '30 days' FROM r ON CONFLICT (id) DO NOTHING)
           INSERT INTO rooms (concert_id, max_active, admission_per_minute, state)
           SELECT id, max_active, rate, state FROM r
           ON CONFLICT (concert_id) DO UPDATE SET max_active = excluded.max_active,
             admission_per_minute = excluded.admission_per_minute, state = excluded.state`,
          [rows],
        );
      },
      async close() {
        for (const each of opened) await each.close();
      },
    };
  });
});
