import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startTestServer, type Overrides, type TestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * The road from a committed payment to each consumer (in-process bus): ranking exactly once,
 * the data-platform send with timeouts, retries, backoff, dead letters and replay, a poison
 * event that does not block the events behind it, and payments that never wait for any of it.
 */
describeWithPostgres('events after commit', () => {
  const db = useTestDatabase();
  let server: TestServer | undefined;
  let receiver: Receiver | undefined;
  let concert: ConcertFixture;
  let nextUser = 1;

  afterEach(async () => {
    await server?.close();
    await receiver?.close();
    server = undefined;
    receiver = undefined;
    expect(await invariantViolations(db.pool)).toEqual([]);
    await db.pool.query(
      `TRUNCATE outbox, event_deliveries, processed_events, concert_ranking, outbox_relay_leases`,
    );
  });

  const OPERATOR_KEY = 'pipeline-test-operator-key-0123456789abc';
  const start = async (overrides: Overrides = {}) => {
    receiver = await startReceiver();
    server = await startTestServer(db, {
      MAX_ACTIVE: '1000',
      DATA_PLATFORM_URL: receiver.url,
      DELIVERY_INTERVAL_MS: '20',
      OUTBOX_INTERVAL_MS: '20',
      EVENT_RETRY_BASE_MS: '50',
      EVENT_RETRY_MAX_MS: '400',
      ...overrides,
    });
    concert = await createConcert(db.pool, { seats: 50, price: 1_000 });
    return { server, receiver };
  };

  /** One complete purchase through the API; returns the reservation and how long paying took. */
  const buy = async (running: TestServer, seatIndex: number) => {
    const user = nextUser++;
    const token = await running.client.activeToken(user);
    await setBalance(db.pool, user, 1_000);
    expect(
      (await running.client.hold(token, concert.concertId, concert.seatIds[seatIndex]!)).status,
    ).toBe(201);
    const started = performance.now();
    const paid = await running.client.pay(token, concert.seatIds[seatIndex]!);
    const ms = performance.now() - started;
    expect(paid.status).toBe(201);
    return { reservationId: paid.data.reservationId, ms };
  };

  const rankingOf = async (concertId: number) => {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT confirmed_count::int AS n FROM concert_ranking WHERE concert_id = $1`,
      [concertId],
    );
    return rows[0]?.n ?? 0;
  };
  /** Sent events stay recorded as DELIVERED, so a copy published again is not sent again. */
  const deliveryStatuses = async () => (await deliveryRows()).map((row) => row.status);
  const deliveryRows = async () =>
    (
      await db.pool.query<{
        consumer: string;
        status: string;
        attempts: number;
        last_error: string | null;
      }>(`SELECT consumer, status, attempts, last_error FROM event_deliveries ORDER BY created_at`)
    ).rows;

  it('sends every confirmed reservation to the data platform once, keyed by event id, and counts it once', async () => {
    const { server: running, receiver: platform } = await start();
    await Promise.all([0, 1, 2].map((seat) => buy(running, seat)));
    await expect.poll(() => platform.accepted().size, { timeout: 5_000 }).toBe(3);
    const events = await db.pool.query<{ event_id: string }>(`SELECT event_id FROM outbox`);
    expect(platform.accepted()).toEqual(new Set(events.rows.map((row) => row.event_id)));
    for (const entry of platform.received)
      expect(entry.body).toMatchObject({
        type: 'reservation.confirmed',
        reservation: { concertId: concert.concertId },
      });
    await expect.poll(() => rankingOf(concert.concertId)).toBe(3);
    await expect.poll(deliveryStatuses).toEqual(['DELIVERED', 'DELIVERED', 'DELIVERED']);
  });

  it('retries a failing platform with growing, jittered delays until it accepts', async () => {
    const { server: running, receiver: platform } = await start();
    platform.script('fail', 'fail', 'fail');
    await buy(running, 0);
    await expect.poll(() => platform.accepted().size, { timeout: 5_000 }).toBe(1);
    expect(platform.received.map((entry) => entry.answeredWith)).toEqual([500, 500, 500, 200]);
    const gaps = platform.received.slice(1).map((entry, i) => entry.at - platform.received[i]!.at);
    // Base 50 ms doubling, with equal jitter: at least half of 50, 100, 200 ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(25);
    expect(gaps[1]).toBeGreaterThanOrEqual(50);
    expect(gaps[2]).toBeGreaterThanOrEqual(100);
    expect(new Set(platform.received.map((entry) => entry.idempotencyKey)).size).toBe(1);
    await expect.poll(deliveryStatuses).toEqual(['DELIVERED']);
  });

  it('waits as long as a 429 Retry-After asks', async () => {
    const { server: running, receiver: platform } = await start();
    platform.setRetryAfter(1);
    platform.script('throttle');
    await buy(running, 0);
    await expect.poll(() => platform.accepted().size, { timeout: 5_000 }).toBe(1);
    expect(platform.received[1]!.at - platform.received[0]!.at).toBeGreaterThanOrEqual(1_000);
  });

  it('dead-letters after the last attempt, keeps the event and the error, and replays it once', async () => {
    const { server: running, receiver: platform } = await start({
      EVENT_MAX_ATTEMPTS: '3',
      OPERATOR_KEY,
    });
    platform.setMode('fail');
    await buy(running, 0);
    await expect
      .poll(async () => (await deliveryRows())[0]?.status, { timeout: 5_000 })
      .toBe('DEAD');
    expect(platform.received).toHaveLength(3);
    const [dead] = await running.container.deliveries.listDead(10);
    expect(dead).toMatchObject({
      consumer: 'data-platform',
      eventType: 'reservation.confirmed',
      attempts: 3,
    });
    expect(dead!.lastError).toContain('answered 500');

    platform.setMode('accept');
    // Replayed by an operator through the API: once; a second replay finds no dead letter.
    const replay = () =>
      running.client.call(
        'POST',
        `/api/v1/admin/dead-letters/${dead!.consumer}/${dead!.eventId}/replay`,
        { headers: { authorization: `Bearer ${OPERATOR_KEY}` } },
      );
    expect((await replay()).status).toBe(200);
    const again = await replay();
    expect([again.status, again.code]).toEqual([404, 'DEAD_LETTER_NOT_FOUND']);
    // Both are in the audit log: the replay with the letter before and after, the refusal.
    const { rows: audited } = await db.pool.query<{
      action: string;
      outcome: string;
      code: string | null;
      target_id: string;
      before: unknown;
      after: unknown;
    }>(
      `SELECT action, outcome, code, target_id, before, after FROM audit_log
       WHERE action = 'dead-letter.replay' ORDER BY id`,
    );
    expect(audited).toHaveLength(2);
    expect(audited[0]).toMatchObject({
      action: 'dead-letter.replay',
      outcome: 'SUCCESS',
      code: null,
      target_id: `data-platform/${dead!.eventId}`,
      before: { status: 'DEAD', attempts: 3, replays: 0 },
      after: { status: 'PENDING', attempts: 0, replays: 1 },
    });
    expect(audited[0]!.after).toEqual({ status: 'PENDING', attempts: 0, replays: 1 });
    expect(audited[1]).toMatchObject({ outcome: 'REFUSED', code: 'DEAD_LETTER_NOT_FOUND' });
    await expect.poll(() => platform.accepted().size, { timeout: 5_000 }).toBe(1);
    await expect.poll(deliveryStatuses).toEqual(['DELIVERED']);
    expect(platform.accepted()).toEqual(new Set([dead!.eventId]));
  });

  it('dead-letters at once what the platform refuses (400): retrying cannot help', async () => {
    const { server: running, receiver: platform } = await start();
    platform.setMode('refuse');
    await buy(running, 0);
    await expect
      .poll(async () => (await deliveryRows())[0]?.status, { timeout: 5_000 })
      .toBe('DEAD');
    expect(platform.received).toHaveLength(1);
  });

  it('keeps payments fast while the platform hangs', async () => {
    const { server: running, receiver: platform } = await start({
      DATA_PLATFORM_TIMEOUT_MS: '3000',
    });
    const baseline = [];
    for (let seat = 0; seat < 5; seat++) baseline.push((await buy(running, seat)).ms);
    await expect.poll(() => platform.accepted().size, { timeout: 5_000 }).toBe(5);
    platform.setMode('hang');
    const during = [];
    for (let seat = 5; seat < 15; seat++) during.push((await buy(running, seat)).ms);
    // The platform is being called (and hanging) while these payments run.
    await expect
      .poll(() => platform.received.filter((entry) => entry.answeredWith === 'hung').length)
      .toBeGreaterThan(0);
    // Each send waits up to 3 s; no payment waited for one.
    expect(Math.max(...during)).toBeLessThan(1_000);
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    expect(median(during)).toBeLessThan(median(baseline) * 3 + 50);
    await expect.poll(() => rankingOf(concert.concertId)).toBe(15);
  });

  it('dead-letters a poison event while the events behind it still flow, and applies a duplicate once', async () => {
    const { server: running } = await start({ EVENT_MAX_ATTEMPTS: '2' });
    // A malformed event, committed ahead of real ones (as a buggy producer would write it).
    const poison = randomUUID();
    await db.pool.query(
      `INSERT INTO outbox (event_id, type, key, payload) VALUES ($1, 'reservation.confirmed', $2, '{"note":"no concert"}')`,
      [poison, String(concert.concertId)],
    );
    await buy(running, 0);
    await buy(running, 1);
    await expect.poll(() => rankingOf(concert.concertId), { timeout: 5_000 }).toBe(2);
    // Ranking and token expiry cannot apply it (no concert, no token); the platform takes it.
    await expect
      .poll(
        async () =>
          (await deliveryRows())
            .filter((row) => row.status === 'DEAD')
            .map((row) => row.consumer)
            .sort(),
        { timeout: 5_000 },
      )
      .toEqual(['ranking', 'token-expiry']);
    expect(
      (await running.container.deliveries.listDead(10)).every(
        (letter) => letter.eventId === poison,
      ),
    ).toBe(true);

    // The same events published again (a relay crash between publish and marking them sent).
    const { rows } = await db.pool.query<{ id: string }>(
      `SELECT id FROM outbox WHERE event_id <> $1`,
      [poison],
    );
    await db.pool.query(`UPDATE outbox SET published_at = NULL WHERE id = ANY($1)`, [
      rows.map((row) => row.id),
    ]);
    running.container.relay.wake();
    await expect
      .poll(
        async () =>
          (await db.pool.query(`SELECT 1 FROM outbox WHERE published_at IS NULL`)).rowCount,
      )
      .toBe(0);
    await running.container.relay.runNow();
    expect(await rankingOf(concert.concertId)).toBe(2);
    const inbox = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM processed_events WHERE consumer = 'ranking'`,
    );
    expect(inbox.rows[0]?.n).toBe(2);
  });

  it('reports the outbox lag on /health/ready', async () => {
    const { server: running } = await start();
    await running.container.relay.stop();
    await db.pool.query(
      `INSERT INTO outbox (event_id, type, key, payload, created_at) VALUES ($1, 'test.event', '1', '{}', now() - interval '42 seconds')`,
      [randomUUID()],
    );
    const ready = await running.client.call<{
      outbox: { unsent: number; oldestUnsentSeconds: number };
    }>('GET', '/health/ready');
    expect(ready.data.outbox.unsent).toBe(1);
    expect(ready.data.outbox.oldestUnsentSeconds).toBeGreaterThanOrEqual(42);
    await db.pool.query(`DELETE FROM outbox WHERE type = 'test.event'`);
  });
});
