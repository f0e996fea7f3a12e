import { expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { useTestServer } from '../support/suite.js';

describeWithPostgres('buyer flow on PostgreSQL', () => {
  const { db, server } = useTestServer();

  it('joins, browses, holds, pays, and the ranking counts the payment once', async () => {
    const { client } = server;
    const concert = await createConcert(db.pool, { seats: 5, price: 30_000 });
    const seatId = concert.seatIds[2]!;

    const entered = await client.join(501);
    expect(entered.status).toBe(201);
    expect(entered.code).toBe('SUCCESS');
    expect(entered.data).toMatchObject({ status: 'ACTIVE', position: 0 });
    expect(entered.data.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const token = entered.data.token;

    const concerts = await client.concerts(token);
    expect(concerts.status).toBe(200);
    expect(concerts.data.find((c) => c.concertId === concert.concertId)).toMatchObject({
      isAvailable: true,
    });

    const seats = await client.seats(token, concert.concertId);
    expect(seats.data.availableSeats).toHaveLength(5);
    expect(
      seats.data.availableSeats.every((seat) => seat.isAvailable && seat.price === 30_000),
    ).toBe(true);

    const held = await client.hold(token, concert.concertId, seatId);
    expect(held.status).toBe(201);
    expect(held.data).toMatchObject({ concertId: concert.concertId, seatId, seatNumber: 3 });
    const seatsAfterHold = await client.seats(token, concert.concertId);
    expect(
      seatsAfterHold.data.availableSeats.find((seat) => seat.seatId === seatId)?.isAvailable,
    ).toBe(false);

    await setBalance(db.pool, 501, 50_000);
    const paid = await client.pay(token, seatId);
    expect(paid.status).toBe(201);
    expect(paid.data).toMatchObject({
      concertId: concert.concertId,
      seatId,
      price: 30_000,
      balance: 20_000,
    });

    expect((await client.balance(501)).data.balance).toBe(20_000);
    expect((await client.status(token)).data.status).toBe('EXPIRED');
    const mine = await client.mine(501);
    expect(mine.data.map((r) => r.seatId)).toEqual([seatId]);

    await expect
      .poll(
        async () =>
          (await client.popular()).data.find((c) => c.concertId === concert.concertId)
            ?.reservedCount,
      )
      .toBe(1);
    expect(await invariantViolations(db.pool, { maxActive: 50, queue: server.queue })).toEqual([]);
  });
});
