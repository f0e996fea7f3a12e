import { expect, it } from 'vitest';
import type { ConcertReport } from '../../src/modules/concerts/catalogue.store.js';
import type { ShowCancelJob } from '../../src/modules/reservations/reservations.store.js';
import { describeWithPostgres } from '../support/db.js';
import { useTestServer } from '../support/suite.js';

const KEY = 'operator-sale-test-operator-key-0123456789';
const operator = { authorization: `Bearer ${KEY}` };

interface Seat {
  seatId: number;
  sectionKey: string | null;
  priceCategory: string | null;
  price: number;
}
interface AuditEntry {
  action: string;
  outcome: 'SUCCESS' | 'REFUSED';
  code: string | null;
  targetType: string;
  targetId: string | null;
}
interface Mine {
  reservationId: number;
  concertId: number;
  seatId: number;
  price: number;
  status: 'CONFIRMED' | 'CANCELLED';
  refundAmount: number | null;
}

const hoursFromNow = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

/**
 * The "done when": an operator with only the HTTP API (an operator key, the documented
 * routes) sets up a sale with a ticket limit of 4, watches it sell, refunds a buyer, cancels the
 * show, and finds every action in the audit log and every won in the report. No SQL: buyers
 * charge, queue, hold and pay through the API too.
 */
describeWithPostgres('an operator runs a sale end to end (HTTP only)', () => {
  const { server } = useTestServer({ OPERATOR_KEY: KEY, MAX_ACTIVE: '100' });

  const admin = <T>(method: string, path: string, body?: unknown) =>
    server.client.call<T>(method, `/api/v1/admin${path}`, { headers: operator, body });

  it('venue, concert with two categories and ticket limit 4, sale, refund, show cancel: audited and reconciled', async () => {
    const { client } = server;
    // The venue and the concert, its sale not open yet.
    const venue = await admin<{ venueId: number }>('POST', '/venues', {
      name: 'Limit Arena',
      address: '4 Quota Road, Busan',
      sections: [
        { name: 'Floor', kind: 'general-admission', capacity: 6 },
        { name: 'Balcony', rows: [{ name: 'A', seats: 6 }] },
      ],
    });
    expect(venue.status).toBe(201);
    const created = await admin<{ concertId: number; ticketLimit: number }>('POST', '/concerts', {
      title: 'Four Each',
      venueId: venue.data.venueId,
      showAt: hoursFromNow(72),
      saleOpensAt: hoursFromNow(1),
      ticketLimit: 4,
      priceCategories: [
        { name: 'Premium', price: 90_000, sections: ['Balcony'] },
        { name: 'Standing', price: 40_000, sections: ['Floor'] },
      ],
    });
    expect([created.status, created.data.ticketLimit]).toEqual([201, 4]);
    const { concertId } = created.data;
    const report = async () =>
      (await admin<ConcertReport>('GET', `/concerts/${concertId}/report`)).data;

    // Buyers charge their balance and queue (the house line).
    const buyers = { ana: 71, bo: 72, cy: 73 };
    const charged = { ana: 400_000, bo: 100_000, cy: 100_000 };
    for (const [name, userId] of Object.entries(buyers))
      expect((await client.charge(userId, charged[name as keyof typeof charged])).status).toBe(200);
    const anaToken = await client.activeToken(buyers.ana);
    const seats = (await client.seats(anaToken, concertId)).data
      .availableSeats as unknown as Seat[];
    const premium = seats.filter((seat) => seat.priceCategory === 'Premium');
    const standing = seats.filter((seat) => seat.priceCategory === 'Standing');
    expect([premium.length, standing.length]).toEqual([6, 6]);
    const early = await client.hold(anaToken, concertId, premium[0]!.seatId);
    expect([early.status, early.code]).toEqual([409, 'SALE_NOT_OPEN']);

    // The operator opens the sale now.
    const opened = await admin('PATCH', `/concerts/${concertId}`, {
      saleOpensAt: new Date(Date.now() - 1_000).toISOString(),
    });
    expect(opened.status).toBe(200);

    // Ana holds four Premium seats (her limit), a fifth is refused, and the report sees them held.
    for (const seat of premium.slice(0, 4))
      expect((await client.hold(anaToken, concertId, seat.seatId)).status).toBe(201);
    const fifth = await client.hold(anaToken, concertId, premium[4]!.seatId);
    expect([fifth.status, fifth.code, fifth.data]).toEqual([
      409,
      'TICKET_LIMIT_REACHED',
      { field: 'seatId', limit: 4 },
    ]);
    expect((await report()).totals).toMatchObject({ held: 4, sold: 0, revenue: 0 });

    // She pays the four in one payment; a replay answers the same and charges nothing more.
    const anaSeats = premium.slice(0, 4).map((seat) => seat.seatId);
    const anaOrder = await client.payMany(
      anaToken,
      anaSeats,
      '6c1f0a7e-8d7b-4c55-9a4c-3f0e1b2a3c4d',
    );
    expect([anaOrder.status, anaOrder.code]).toEqual([201, 'SUCCESS']);
    expect(anaOrder.data).toMatchObject({ concertId, total: 360_000, balance: 40_000 });
    expect(anaOrder.data.reservations.map((line) => [line.seatId, line.price])).toEqual(
      anaSeats.map((seatId) => [seatId, 90_000]),
    );
    const replay = await client.payMany(anaToken, anaSeats, '6c1f0a7e-8d7b-4c55-9a4c-3f0e1b2a3c4d');
    expect([replay.status, replay.message, replay.data]).toEqual([201, 'Replayed', anaOrder.data]);
    // Paid seats count across her orders: queueing again does not buy her a fifth.
    const anaAgain = await client.activeToken(buyers.ana);
    const over = await client.hold(anaAgain, concertId, premium[4]!.seatId);
    expect([over.status, over.code]).toEqual([409, 'TICKET_LIMIT_REACHED']);

    // Bo buys one Standing place the seed's way; Cy two together.
    const boToken = await client.activeToken(buyers.bo);
    expect((await client.hold(boToken, concertId, standing[0]!.seatId)).status).toBe(201);
    const boPaid = await client.pay(boToken, standing[0]!.seatId);
    expect([boPaid.status, boPaid.data.price, boPaid.data.balance]).toEqual([201, 40_000, 60_000]);
    const cyToken = await client.activeToken(buyers.cy);
    const cySeats = [standing[1]!.seatId, standing[2]!.seatId];
    for (const seatId of cySeats)
      expect((await client.hold(cyToken, concertId, seatId)).status).toBe(201);
    const cyOrder = await client.payMany(cyToken, cySeats);
    expect([cyOrder.status, cyOrder.data.total, cyOrder.data.balance]).toEqual([
      201, 80_000, 20_000,
    ]);

    const paid = 360_000 + 40_000 + 80_000;
    const selling = await report();
    expect(selling.totals).toMatchObject({
      sold: 7,
      held: 0,
      revenue: paid,
      refunds: 0,
      reservations: 7,
      buyers: 3,
    });
    expect(
      Object.fromEntries(selling.sections.map((line) => [line.category, [line.sold, line.free]])),
    ).toEqual({ Premium: [4, 2], Standing: [3, 3] });

    // The operator refunds one of Ana's seats in full; the refunded seat no longer counts, so
    // she may hold one more.
    const refundedId = anaOrder.data.reservations[0]!.reservationId;
    const refund = await admin<{ refundAmount: number; cancelledBy: string }>(
      'POST',
      `/reservations/${refundedId}/cancel`,
    );
    expect([refund.status, refund.data.refundAmount, refund.data.cancelledBy]).toEqual([
      200,
      90_000,
      'operator',
    ]);
    expect((await client.hold(anaAgain, concertId, premium[4]!.seatId)).status).toBe(201);
    expect((await report()).totals).toMatchObject({ sold: 6, held: 1, refunds: 90_000 });

    // The show is cancelled: the job refunds the six live reservations in full and says so.
    const cancel = await admin<ShowCancelJob>('POST', `/concerts/${concertId}/cancel`, {
      reason: 'Storm warning',
    });
    expect([cancel.status, cancel.data.total]).toEqual([202, 6]);
    let job = cancel.data;
    const deadline = Date.now() + 15_000;
    while (job.state !== 'done' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = (await admin<ShowCancelJob>('GET', `/concerts/${concertId}/cancel`)).data;
    }
    expect(job).toMatchObject({ state: 'done', total: 6, refunded: 6, remaining: 0 });

    // Every won: what each buyer got back (their reservations, by HTTP) is what the report says
    // was refunded, and every balance is back where the buyer charged it.
    const final = await report();
    let refunded = 0;
    for (const [name, userId] of Object.entries(buyers)) {
      const mine = (
        await client.call<Mine[]>('GET', '/api/v1/reservations', {
          headers: { 'client-id': String(userId) },
        })
      ).data.filter((reservation) => reservation.concertId === concertId);
      expect(mine.every((reservation) => reservation.status === 'CANCELLED')).toBe(true);
      expect(mine.every((reservation) => reservation.refundAmount === reservation.price)).toBe(
        true,
      );
      refunded += mine.reduce((sum, reservation) => sum + (reservation.refundAmount ?? 0), 0);
      expect((await client.balance(userId)).data.balance).toBe(
        charged[name as keyof typeof charged],
      );
    }
    expect(refunded).toBe(paid);
    expect(final.cancelled).toBe(true);
    expect(final.totals).toMatchObject({
      sold: 0,
      held: 0,
      revenue: paid,
      refunds: paid,
      net: 0,
      reservations: 0,
      cancelled: 7,
    });

    // Every operator action is in the audit log: the venue, the concert, the opening, the refund,
    // the show's cancellation and the job's six refunds.
    const audit = (await admin<{ entries: AuditEntry[] }>('GET', '/audit?limit=100')).data.entries;
    const actions = audit
      .filter((entry) => entry.outcome === 'SUCCESS')
      .map((entry) => `${entry.action} ${entry.targetId}`)
      .reverse();
    const reservationCancels = actions.filter((action) => action.startsWith('reservation.cancel'));
    expect(actions.slice(0, 4)).toEqual([
      `venue.create ${venue.data.venueId}`,
      `concert.create ${concertId}`,
      `concert.update ${concertId}`,
      `reservation.cancel ${refundedId}`,
    ]);
    expect(actions).toContain(`concert.cancel ${concertId}`);
    expect(reservationCancels).toHaveLength(7);
  });
});
