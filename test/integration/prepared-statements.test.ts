import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { query } from '../../src/db/sql.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';

/**
 * Hot statements run as named prepared statements (planned once per connection). Proves that the
 * option really prepares on PostgreSQL, keeps one name per text, answers like an unnamed
 * statement, and leaves other statements unnamed; and that PGlite answers the same without it.
 */
const prepared = `SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'overture_%' ORDER BY name`;

describeWithPostgres('prepared statements (PostgreSQL)', () => {
  let testDb: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    // One connection, so pg_prepared_statements below is the connection the queries used.
    database = openDatabase({ url: testDb.url, poolSize: 1, pgliteDir: '', pgliteInMemory: true });
  });

  afterAll(async () => {
    await database.close();
    await testDb.drop();
  });

  it('prepares a statement once per text and answers like an unnamed one', async () => {
    const double = (n: number) => sql`SELECT ${n}::int * 2 AS doubled`;
    const unnamed = await query<{ doubled: number }>(database, double(21));
    expect(await query<{ name: string }>(database, sql.raw(prepared))).toEqual([]);

    const first = await query<{ doubled: number }>(database, double(21), { prepared: true });
    const second = await query<{ doubled: number }>(database, double(5), { prepared: true });
    expect(first).toEqual(unnamed);
    expect(second).toEqual([{ doubled: 10 }]);

    const other = await query<{ n: number }>(database, sql`SELECT ${7}::int AS n`, {
      prepared: true,
    });
    expect(other).toEqual([{ n: 7 }]);

    const names = await query<{ name: string; statement: string }>(database, sql.raw(prepared));
    expect(names).toHaveLength(2);
    expect(names.map((row) => row.statement).sort()).toEqual([
      'SELECT $1::int * 2 AS doubled',
      'SELECT $1::int AS n',
    ]);
  });

  it('prepares inside a transaction on the transaction connection', async () => {
    const rows = await database.transaction(async (tx) =>
      query<{ n: number }>(tx, sql`SELECT ${3}::int + 1 AS n`, { prepared: true }),
    );
    expect(rows).toEqual([{ n: 4 }]);
    const names = await query<{ statement: string }>(database, sql.raw(prepared));
    expect(names.map((row) => row.statement)).toContain('SELECT $1::int + 1 AS n');
  });

  it('runs every statement unnamed with DB_NAMED_STATEMENTS=false, answering the same', async () => {
    const unnamed = openDatabase({
      url: testDb.url,
      poolSize: 1,
      namedStatements: false,
      pgliteDir: '',
      pgliteInMemory: true,
    });
    try {
      const rows = await query<{ n: number }>(unnamed, sql`SELECT ${8}::int AS n`, {
        prepared: true,
      });
      expect(rows).toEqual([{ n: 8 }]);
      expect(await query(unnamed, sql.raw(prepared))).toEqual([]);
    } finally {
      await unnamed.close();
    }
  });
});

it('answers the same on PGlite, which has one connection and no names to keep', async () => {
  const database = openDatabase({ url: '', poolSize: 1, pgliteDir: '', pgliteInMemory: true });
  try {
    const statement = sql`SELECT ${21}::int * 2 AS doubled`;
    expect(await query(database, statement, { prepared: true })).toEqual(
      await query(database, statement),
    );
  } finally {
    await database.close();
  }
});
