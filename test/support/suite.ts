import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db.js';
import { startTestServer, type Overrides, type TestServer } from './server.js';

/*
 * The set-up most suites share (docs/decisions/0053): called at the top of a describe, these
 * register that describe's beforeAll and afterAll and return what they make. Hooks the suite
 * registers after the call run after the helper's beforeAll and before its afterAll (vitest runs
 * after-hooks in reverse order), so a suite's own set-up can use the server, and its own clean-up
 * (an invariant check, a socket) runs while the server and database are still there.
 */

/**
 * Stands for a value made in a beforeAll: property reads go to the value once it exists, and fail
 * in words before it does (read at the top of a describe instead of in a hook or test).
 */
export function madeBeforeAll<T extends object>(what: string, current: () => T | undefined): T {
  const value = (): T => {
    const made = current();
    if (made === undefined)
      throw new Error(`${what} is made in beforeAll: use it in a hook or a test, not at load time`);
    return made;
  };
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get(value(), key) as unknown,
    has: (_target, key) => Reflect.has(value(), key),
  });
}

/** A fresh, migrated database of this describe's own (createTestDatabase), dropped after it. */
export function useTestDatabase(): TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  return madeBeforeAll('The test database', () => db);
}

/**
 * A database of this describe's own and one listening server on it (startTestServer with
 * `overrides`), closed and dropped after it. `overrides` may be a function, read in beforeAll,
 * when it needs something an earlier beforeAll made (a receiver's URL, a private Redis).
 */
export function useTestServer(overrides: Overrides | (() => Overrides) = {}): {
  db: TestDatabase;
  server: TestServer;
} {
  const db = useTestDatabase();
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(db, typeof overrides === 'function' ? overrides() : overrides);
  });
  afterAll(async () => {
    await server?.close();
  });
  return { db, server: madeBeforeAll('The test server', () => server) };
}
