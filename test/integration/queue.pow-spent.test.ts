import type { RedisClient } from '../../src/redis/client.js';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createPostgresPowSpent } from '../../src/modules/queue/queue.pow-spent.postgres.js';
import { createRedisPowSpent } from '../../src/modules/queue/queue.pow-spent.redis.js';
import { SPENT_MARGIN_MS, type PowSpent } from '../../src/modules/queue/queue.pow.js';
import { redisKeys } from '../../src/redis/keys.js';
import { createHousekeeping } from '../../src/workers/housekeeping.worker.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { closeRedis, connectTestRedis, describeWithRedis, useTestRedis } from '../support/redis.js';

const NONCES = 200;
const nonce = () => randomBytes(16).toString('base64url');
const inAMinute = () => new Date(Date.now() + 60_000);

/**
 * Two instances spend the same challenges at the same moment: for each of NONCES nonces both
 * call `spend` together, through adapters on connections of their own. Proves exactly one of
 * them is told true per nonce. A read-then-write spend (GET then SET without NX; SELECT then
 * INSERT … ON CONFLICT DO UPDATE without the WHERE) lets both through and fails this test —
 * checked by hand on both adapters before committing.
 */
async function raceTwoInstances(a: PowSpent, b: PowSpent): Promise<number[]> {
  const nonces = Array.from({ length: NONCES }, nonce);
  const expiresAt = inAMinute();
  const answers = await Promise.all(
    nonces.map((n) => Promise.all([a.spend(n, expiresAt), b.spend(n, expiresAt)])),
  );
  return answers.map(([first, second]) => Number(first) + Number(second));
}

describeWithRedis('PowSpent on Redis', () => {
  const redis = useTestRedis();
  let second: RedisClient;
  beforeAll(async () => {
    second = await connectTestRedis();
  });
  afterAll(async () => {
    await closeRedis(second);
  });

  it('two instances spending one solution at once: exactly one wins, every time', async () => {
    const prefix = redis.prefix();
    const winners = await raceTwoInstances(
      createRedisPowSpent(redis.client, prefix),
      createRedisPowSpent(second, prefix),
    );
    expect(winners).toEqual(Array.from({ length: NONCES }, () => 1));
  });

  it('remembers a nonce until the challenge expires plus the margin, then forgets it', async () => {
    const prefix = redis.prefix();
    const spent = createRedisPowSpent(redis.client, prefix, { marginMs: 0 });
    const n = nonce();
    expect(await spent.spend(n, new Date(Date.now() + 400))).toBe(true);
    expect(await spent.spend(n, new Date(Date.now() + 400))).toBe(false);
    await sleep(600);
    expect(await redis.client.exists(redisKeys(prefix).powSpent(n))).toBe(0);
    expect(await spent.spend(n, new Date(Date.now() + 400))).toBe(true);
    // The default keeps it SPENT_MARGIN_MS past the expiry.
    const kept = nonce();
    const expiresAt = inAMinute();
    await createRedisPowSpent(redis.client, prefix).spend(kept, expiresAt);
    const expiry = await redis.client.pexpiretime(redisKeys(prefix).powSpent(kept));
    expect(expiry).toBe(expiresAt.getTime() + SPENT_MARGIN_MS);
  });
});

describeWithPostgres('PowSpent on PostgreSQL', () => {
  let db: TestDatabase;
  const databases: Database[] = [];
  const open = () => {
    const database = openDatabase({
      url: db.url,
      poolSize: 8,
      pgliteDir: '',
      pgliteInMemory: false,
    });
    databases.push(database);
    return database;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const database of databases) await database.close();
    await db?.drop();
  });

  it('two instances spending one solution at once: exactly one wins, every time', async () => {
    const winners = await raceTwoInstances(
      createPostgresPowSpent(open()),
      createPostgresPowSpent(open()),
    );
    expect(winners).toEqual(Array.from({ length: NONCES }, () => 1));
  });

  it('a row past its end no longer counts: a spend after it wins, a spend before it loses', async () => {
    const spent = createPostgresPowSpent(open(), { marginMs: 0 });
    const n = nonce();
    expect(await spent.spend(n, new Date(Date.now() + 400))).toBe(true);
    expect(await spent.spend(n, new Date(Date.now() + 400))).toBe(false);
    await sleep(600);
    expect(await spent.spend(n, inAMinute())).toBe(true);
    expect(await spent.spend(n, inAMinute())).toBe(false);
    const { rows } = await db.pool.query<{ expires_at: Date }>(
      `SELECT expires_at FROM pow_spent_nonces WHERE nonce = $1`,
      [n],
    );
    expect(rows[0]!.expires_at.getTime()).toBeGreaterThan(Date.now() + 50_000);
  });

  it('housekeeping purges spent challenges past their end and keeps the others', async () => {
    const database = open();
    const spent = createPostgresPowSpent(database, { marginMs: 0 });
    const ended = Array.from({ length: 5 }, nonce);
    const live = Array.from({ length: 3 }, nonce);
    for (const n of ended) await spent.spend(n, new Date(Date.now() - 1_000));
    for (const n of live) await createPostgresPowSpent(database).spend(n, inAMinute());
    const logger = pino({ level: 'silent' });
    await createHousekeeping(database, { retentionHours: 24, intervalMs: 60_000, logger }).runNow();
    const { rows } = await db.pool.query<{ nonce: string }>(
      `SELECT nonce FROM pow_spent_nonces WHERE nonce = ANY($1)`,
      [[...ended, ...live]],
    );
    expect(new Set(rows.map((row) => row.nonce))).toEqual(new Set(live));
  });
});
