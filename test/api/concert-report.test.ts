import { expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { useTestServer } from '../support/suite.js';
import type { ReportLine } from '../../src/modules/concerts/catalogue.store.js';

const KEY = 'concert-report-test-operator-key-0123456789';
const operator = { authorization: `Bearer ${KEY}` };

type Line = ReportLine;
interface Report {
  concertId: number;
  title: string;
  showAt: string;
  cancelled: boolean;
  sections: Line[];
  totals: Record<string, number>;
}
interface Seat {
  seatId: number;
  sectionKey: string | null;
  priceCategory: string | null;
}

/** 5 standing places, then 7 seats. */
const hall = {
  name: 'Report Hall',
  address: '1 Ledger Street, Seoul',
  sections: [
    { name: 'Floor', kind: 'general-admission', capacity: 5 },
    { name: 'Upper Stalls', rows: [{ name: 'A', seats: 7 }] },
  ],
};
// A comma and quotes in a name: the CSV must quote it.
const VIP = 'VIP, "Gold"';

/** RFC 4180 back to rows (quoted fields, doubled quotes), for checking the CSV reply. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let fieldText = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted && char === '"' && text[i + 1] === '"') {
      fieldText += '"';
      i++;
    } else if (quoted && char === '"') quoted = false;
    else if (quoted) fieldText += char;
    else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(fieldText);
      fieldText = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(fieldText);
      rows.push(row);
      row = [];
      fieldText = '';
      i++;
    } else fieldText += char;
  }
  expect([row, fieldText]).toEqual([[], '']);
  return rows;
}

describeWithPostgres('a concert’s sales report (operator)', () => {
  const { db, server } = useTestServer({ OPERATOR_KEY: KEY, MAX_ACTIVE: '100' });
  let nextUser = 1_000;

  const report = (concertId: number | string, headers: Record<string, string> = operator) =>
    server.client.call<Report>('GET', `/api/v1/admin/concerts/${concertId}/report`, { headers });

  it('counts seats per section × category and sums money from the ledger; the CSV says the same', async () => {
    const venue = await server.client.call<{ venueId: number }>('POST', '/api/v1/admin/venues', {
      headers: operator,
      body: hall,
    });
    const created = await server.client.call<{ concertId: number }>(
      'POST',
      '/api/v1/admin/concerts',
      {
        headers: operator,
        body: {
          title: 'Ledger Night',
          venueId: venue.data.venueId,
          showAt: new Date(Date.now() + 48 * 3_600_000).toISOString(),
          refundFeePercent: 10,
          priceCategories: [
            { name: VIP, price: 120_000, sections: ['Upper Stalls'] },
            { name: 'Standing', price: 50_000, sections: ['Floor'] },
          ],
        },
      },
    );
    expect(created.status).toBe(201);
    const { concertId } = created.data;
    const firstToken = await server.client.activeToken(nextUser++);
    const seats = (await server.client.seats(firstToken, concertId)).data
      .availableSeats as unknown as Seat[];
    const vip = seats.filter((seat) => seat.priceCategory === VIP);
    const standing = seats.filter((seat) => seat.priceCategory === 'Standing');
    expect([vip.length, standing.length]).toEqual([7, 5]);

    const buy = async (seatId: number, pay = true) => {
      const userId = nextUser++;
      await setBalance(db.pool, userId, 500_000);
      const token = await server.client.activeToken(userId);
      expect((await server.client.hold(token, concertId, seatId)).status).toBe(201);
      if (!pay) return { userId, reservationId: 0 };
      const paid = await server.client.pay(token, seatId);
      expect(paid.status).toBe(201);
      return { userId, reservationId: paid.data.reservationId };
    };
    await buy(vip[0]!.seatId);
    const refunded = await buy(vip[1]!.seatId);
    await buy(standing[0]!.seatId);
    await buy(standing[1]!.seatId, false);
    const cancelled = await server.client.call<{ refundAmount: number }>(
      'POST',
      `/api/v1/reservations/${refunded.reservationId}/cancel`,
      { headers: { 'client-id': String(refunded.userId) } },
    );
    expect([cancelled.status, cancelled.data.refundAmount]).toEqual([200, 108_000]);

    const reply = await report(concertId);
    expect([reply.status, reply.code]).toEqual([200, 'SUCCESS']);
    expect(reply.data).toMatchObject({ concertId, title: 'Ledger Night', cancelled: false });
    expect(reply.data.sections).toEqual([
      {
        sectionKey: 'floor',
        sectionName: 'Floor',
        category: 'Standing',
        price: 50_000,
        capacity: 5,
        free: 3,
        held: 1,
        sold: 1,
      },
      {
        sectionKey: 'upper-stalls',
        sectionName: 'Upper Stalls',
        category: VIP,
        price: 120_000,
        capacity: 7,
        free: 6,
        held: 0,
        sold: 1,
      },
    ]);

    const ledger = async (type: string) =>
      (
        await db.pool.query<{ sum: number }>(
          `SELECT coalesce(sum(amount), 0)::int AS sum FROM point_transactions
           WHERE type = $1 AND reservation_id IN (SELECT id FROM reservations WHERE concert_id = $2)`,
          [type, concertId],
        )
      ).rows[0]!.sum;
    const [revenue, refunds] = [await ledger('USE'), await ledger('REFUND')];
    expect([revenue, refunds]).toEqual([290_000, 108_000]);
    expect(reply.data.totals).toEqual({
      seats: 12,
      free: 9,
      held: 1,
      sold: 2,
      revenue,
      refunds,
      net: revenue - refunds,
      reservations: 2,
      cancelled: 1,
      buyers: 2,
    });

    const csv = await fetch(`${server.url}/api/v1/admin/concerts/${concertId}/report`, {
      headers: { ...operator, accept: 'text/csv' },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe(
      `attachment; filename="concert-${concertId}-report.csv"`,
    );
    const text = await csv.text();
    expect(text).toContain('"VIP, ""Gold"""');
    const numbers = (cells: string[]) => cells.map((cell) => (cell === '' ? null : Number(cell)));
    const [header, floor, upper, total, ...rest] = parseCsv(text);
    expect(rest).toEqual([]);
    expect(header).toEqual([
      'section',
      'category',
      'price',
      'capacity',
      'free',
      'held',
      'sold',
      'revenue',
      'refunds',
      'net',
      'reservations',
      'cancelled',
      'buyers',
    ]);
    expect([floor![0], floor![1], ...numbers(floor!.slice(2))]).toEqual([
      'Floor',
      'Standing',
      50_000,
      5,
      3,
      1,
      1,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    expect([upper![0], upper![1], ...numbers(upper!.slice(2))]).toEqual([
      'Upper Stalls',
      VIP,
      120_000,
      7,
      6,
      0,
      1,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    expect([total![0], ...numbers(total!.slice(1))]).toEqual([
      'TOTAL',
      null,
      null,
      12,
      9,
      1,
      2,
      revenue,
      refunds,
      revenue - refunds,
      2,
      1,
      2,
    ]);
  });

  it('reports a concert whose seats were made directly as one section without category', async () => {
    const { concertId } = await createConcert(db.pool, { seats: 3, price: 10_000 });
    const reply = await report(concertId);
    expect(reply.status).toBe(200);
    expect(reply.data.sections).toEqual([
      {
        sectionKey: null,
        sectionName: null,
        category: null,
        price: null,
        capacity: 3,
        free: 3,
        held: 0,
        sold: 0,
      },
    ]);
    expect(reply.data.totals).toMatchObject({ seats: 3, free: 3, revenue: 0, buyers: 0 });
  });

  it('answers 404 CONCERT_NOT_FOUND for an unknown concert and 401 without the operator key', async () => {
    const unknown = await report(987_654);
    expect([unknown.status, unknown.code]).toEqual([404, 'CONCERT_NOT_FOUND']);
    const { concertId } = await createConcert(db.pool, { seats: 1 });
    const anonymous = await report(concertId, {});
    expect([anonymous.status, anonymous.code]).toEqual([401, 'OPERATOR_KEY_REQUIRED']);
    const wrong = await report(concertId, { authorization: 'Bearer wrong-key-0123456789abcdef' });
    expect([wrong.status, wrong.code]).toEqual([401, 'OPERATOR_KEY_INVALID']);
    const bad = await report('abc');
    expect([bad.status, bad.code]).toEqual([400, 'INVALID_REQUEST']);
  });
});
