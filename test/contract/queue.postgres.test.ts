import { afterAll, beforeAll } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import {
  createPostgresQueueStore,
  tokenInTransaction,
} from '../../src/modules/queue/queue.store.postgres.js';
import type { TokenRecord } from '../../src/modules/queue/queue.store.js';
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

  const rowId = (record: TokenRecord): number => {
    if (record.rowId === undefined) throw new Error('a postgres token record has a row id');
    return record.rowId;
  };

  queueStoreContract(async (options) => {
    await db.pool.query('TRUNCATE queue_tokens');
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
    return {
      store: createPostgresQueueStore(database, options),
      instance: () => Promise.resolve(createPostgresQueueStore(open(), options)),
      travel: (seconds) => travel(db.pool, seconds),
      // What the hold and release transactions do with a token stored in the booking database.
      holdTaken: (record, holdExpiresAt, concertId) =>
        database.orm.transaction((tx) =>
          tokenInTransaction.extendForHold(tx, rowId(record), holdExpiresAt, concertId),
        ),
      holdReleased: (record) =>
        database.orm.transaction((tx) => tokenInTransaction.endHoldExtension(tx, rowId(record))),
      async close() {
        for (const each of opened) await each.close();
      },
    };
  });
});
