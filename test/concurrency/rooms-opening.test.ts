import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../support/client.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, type ConcertFixture } from '../support/fixtures.js';
import { useServerProcesses } from '../support/processes.js';
import { describeWithKafka } from '../support/kafka.js';
import { testQueueBackend, type QueueBackend } from '../support/queue-backend.js';
import { describeWithRedis } from '../support/redis.js';

const KEY = 'rooms-opening-race-operator-key-0123456789';
const operator = { authorization: `Bearer ${KEY}` };
/** Joining loops per instance, each one join after another. */
const LOOPS_PER_INSTANCE = 2;
/** Joins fired together at the opening instant, spread over the three instances. */
const BURST = 30;

interface Joined {
  token: string;
  status: string;
  position: number;
  receiptId: string | null;
}
/** One buyer's first join, with when it was sent and answered (ms, this process's clock). */
interface Join extends Joined {
  userId: number;
  sentAt: number;
  answeredAt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Proves: a room whose scheduled opening falls while joins race into it on three server processes
 * (one PostgreSQL and, in the redis-queue project, one Redis) opens exactly once and fairly. Joins
 * go on from the pre-queue window to 1.5 s after the opening, with a burst fired at the opening
 * instant, and then:
 * - one draw: one seed revealed, the same on every instance, whose SHA-256 is the commitment
 *   published when the opening was scheduled; the draw holds exactly the buyers answered
 *   PRE_QUEUE (a second draw, or one at the wrong cut, would add or drop someone);
 * - each of those has exactly one place, its rank in the order recomputed here from the seed and
 *   the receipt ids (ascending SHA-256(seed + ":" + receiptId), docs/lottery.md);
 * - every buyer answered WAITING arrived after the opening and is behind every drawn entry, in
 *   arrival order (one answered before another was sent has the smaller place);
 * - the places are 1..N with no gap or duplicate, a rejoin on another instance keeps its token;
 * - the draw (every place) is made within a second of the opening, the drawn entries are in the
 *   line within a few seconds.
 * The room is paused so that nobody is admitted and every place stays as the opening gave it.
 * It runs on TEST_QUEUE_BACKEND and, in the default project, on the stream backend too (three
 * processes, one consumer group on one Kafka mock: the move's batches and the joins go through
 * the log and are placed by whichever member holds their partition).
 */
const openingRace = (backend: QueueBackend) => () => {
  const shared = useServerProcesses(
    { OPERATOR_KEY: KEY, ADMISSION_INTERVAL_MS: '50', RATE_LIMIT_ENABLED: 'false' },
    3,
    backend,
  );
  let clients: TestClient[] = [];
  let concert: ConcertFixture;

  beforeAll(async () => {
    clients = shared.clients;
    concert = await createConcert(shared.db.pool, { seats: 20, price: 1_000 });
  });

  const join = async (instance: number, userId: number): Promise<Join> => {
    const sentAt = performance.now();
    const joined = await clients[instance % 3]!.call<Joined>('POST', '/api/v1/queue/token', {
      headers: { 'client-id': String(userId) },
      body: { concertId: concert.concertId },
    });
    expect([joined.status, joined.code]).toEqual([201, 'SUCCESS']);
    return { ...joined.data, userId, sentAt, answeredAt: performance.now() };
  };

  it('draws once at the opening, places the pre-queue by the published draw and later arrivals behind it', async () => {
    const created = Date.now();
    const preQueueOpensAt = new Date(created + 1_500).toISOString();
    const opensAt = new Date(created + 4_500).toISOString();
    const room = await clients[0]!.call<{ commitment: string }>('POST', '/api/v1/admin/rooms', {
      headers: operator,
      body: { concertId: concert.concertId, state: 'paused', opensAt, preQueueOpensAt },
    });
    expect(room.status).toBe(201);
    const { commitment } = room.data;
    // Every instance reads the room within a second; the window opens after that.
    await sleep(created + 1_700 - Date.now());

    const joins: Join[] = [];
    let nextUser = 100_000;
    const racingUntil = Date.parse(opensAt) + 1_500;
    const loops = Array.from({ length: 3 * LOOPS_PER_INSTANCE }, async (_, loop) => {
      for (let turn = 0; Date.now() < racingUntil; turn++) {
        const instance = loop + turn;
        // Now and then a buyer already in asks again on another instance: same token back.
        const earlier = joins[Math.floor(Math.random() * joins.length)];
        if (turn % 4 === 3 && earlier) {
          const again = await join(instance, earlier.userId);
          expect(again.token).toBe(earlier.token);
          expect(again.receiptId).toBe(earlier.receiptId);
        } else joins.push(await join(instance, nextUser++));
        await sleep(5 + Math.random() * 20);
      }
    });
    const burst = (async () => {
      await sleep(Date.parse(opensAt) - Date.now());
      const users = Array.from({ length: BURST }, () => nextUser++);
      joins.push(...(await Promise.all(users.map((user, i) => join(i, user)))));
    })();
    await Promise.all([...loops, burst]);

    // The whole pre-queue enters the line (the room is transferred).
    const { pool } = shared.db;
    const opening = async () =>
      (
        await pool.query<{
          seed: string;
          opened: number | null;
          drawnInLine: number | null;
          transferred: number | null;
        }>(
          `SELECT seed,
             (extract(epoch FROM opened_at - opens_at) * 1000)::float8 AS opened,
             (extract(epoch FROM (SELECT max(moved_at) FROM pre_queue p
                WHERE p.concert_id = r.concert_id AND place IS NOT NULL) - opens_at) * 1000)::float8
               AS "drawnInLine",
             (extract(epoch FROM transferred_at - opens_at) * 1000)::float8 AS transferred
           FROM rooms r WHERE concert_id = $1`,
          [concert.concertId],
        )
      ).rows[0]!;
    await expect.poll(async () => (await opening()).transferred, { timeout: 5_000 }).not.toBeNull();
    const times = await opening();
    expect(times.opened).toBeGreaterThanOrEqual(0);
    expect(times.opened).toBeLessThan(1_000);
    console.info(
      `opening (${backend}): ${joins.length} buyers, ${joins.filter((j) => j.status === 'PRE_QUEUE').length} pre-queued; drawn ${Math.round(times.opened!)} ms ` +
        `after opensAt, drawn entries in line ${Math.round(times.drawnInLine!)} ms, ` +
        `transfer done ${Math.round(times.transferred!)} ms`,
    );
    // The draw gives every entry its place (what its status shows from then on) in the draw's
    // transaction: within a second. Moving the entries into the line on the backend takes one
    // join per entry on each instance's mover; on a 2-core machine loaded by other suites 48
    // entries took 2.4 s, so that bound is looser (later arrivals follow them: not bounded here).
    expect(times.drawnInLine).toBeLessThan(5_000);

    const preQueued = joins.filter((joined) => joined.status === 'PRE_QUEUE');
    const late = joins.filter((joined) => joined.status !== 'PRE_QUEUE');
    // The race really straddled the opening: buyers on both sides of it.
    expect(preQueued.length).toBeGreaterThan(20);
    expect(late.length).toBeGreaterThan(BURST / 2);
    expect(late.every((joined) => joined.status === 'WAITING')).toBe(true);

    // One draw, one seed: the same on every instance, committed to before the opening.
    const draws = await Promise.all(
      clients.map(async (client) => {
        const page = await client.call<{ seed: string; total: number; receipts: string[] }>(
          'GET',
          `/api/v1/queue/rooms/${concert.concertId}/draw`,
        );
        expect(page.status).toBe(200);
        return page.data;
      }),
    );
    const { seed, receipts } = draws[0]!;
    expect(draws.slice(1)).toEqual([draws[0], draws[0]]);
    expect(seed).toBe(times.seed);
    expect(sha256(seed)).toBe(commitment);
    // The draw is exactly the buyers answered PRE_QUEUE, in the order recomputed from public data.
    const recomputed = preQueued
      .map((joined) => ({
        receiptId: joined.receiptId!,
        key: sha256(`${seed}:${joined.receiptId}`),
      }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((entry) => entry.receiptId);
    expect(receipts).toEqual(recomputed);
    const places = await pool.query<{ place: number }>(
      'SELECT place FROM pre_queue WHERE concert_id = $1 AND place IS NOT NULL ORDER BY place',
      [concert.concertId],
    );
    expect(places.rows.map((row) => row.place)).toEqual(receipts.map((_, i) => i + 1));

    // Every buyer's place now, asked of any instance.
    const now = await Promise.all(
      joins.map(async (joined, i) => {
        const status = await clients[i % 3]!.status(joined.token);
        expect(status.status).toBe(200);
        return { ...joined, now: status.data };
      }),
    );
    for (const entry of now.filter((joined) => joined.status === 'PRE_QUEUE'))
      expect(entry.now).toMatchObject({
        status: 'WAITING',
        position: receipts.indexOf(entry.receiptId!) + 1,
      });
    const positions = now.map((entry) => entry.now.position).sort((a, b) => a - b);
    expect(positions).toEqual(now.map((_, i) => i + 1));
    // Later arrivals: behind the draw, in arrival order.
    const behind = now.filter((joined) => joined.status !== 'PRE_QUEUE');
    for (const entry of behind) {
      expect(entry.now.status).toBe('WAITING');
      expect(entry.now.position).toBeGreaterThan(receipts.length);
      for (const other of behind)
        if (entry.answeredAt < other.sentAt)
          expect(
            entry.now.position,
            `${entry.userId} answered before ${other.userId} asked`,
          ).toBeLessThan(other.now.position);
    }
  }, 60_000);
};

describeWithPostgres(
  `three server processes opening one room (${testQueueBackend()})`,
  openingRace(testQueueBackend()),
);
// The stream run once, from the default project (the redis-queue project runs the Redis one).
const describeStream = testQueueBackend() === 'postgres' ? describeWithKafka : describe.skip;
describeWithPostgres('three server processes opening one room (stream)', () => {
  describeWithRedis('', () => {
    describeStream('', openingRace('stream'));
  });
});
