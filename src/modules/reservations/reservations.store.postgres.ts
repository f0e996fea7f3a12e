import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { query } from '../../db/sql.js';
import type { AuditLog } from '../audit/audit.store.js';
import type { BookingTokens } from '../queue/queue.booking.js';
import { createPostgresCancellations } from './reservations.cancel.postgres.js';
import { createPostgresPayments } from './reservations.pay.postgres.js';
import type { ReservationStore } from './reservations.store.js';
import { refundAmount } from './reservations.rules.js';

export function createPostgresReservationStore(
  database: Database,
  options: {
    /** The caller's queue token as the payment transaction sees it. */
    tokens: Pick<BookingTokens, 'open'>;
    /** Operators' cancellations are recorded in their transaction. */
    audit: Pick<AuditLog, 'appendIn'>;
  },
): ReservationStore {
  const { tokens, audit } = options;

  return {
    ...createPostgresPayments(database, tokens),
    ...createPostgresCancellations(database, audit),

    async listByUser(userId, limit) {
      const rows = await query<{
        id: number;
        concert_id: number;
        title: string;
        show_datetime: Date;
        seat_id: number;
        seat_number: number;
        price: number;
        created_at: Date;
        cancelled_at: Date | null;
        refund_amount: number | null;
        refundable: boolean;
        refund_fee_percent: number;
      }>(
        database,
        sql`SELECT r.id, r.concert_id, c.title, c.show_datetime, r.seat_id, s.seat_number, r.price, r.created_at,
              r.cancelled_at, r.refund_amount, c.refund_fee_percent,
              now() < c.show_datetime - make_interval(hours => c.refund_cutoff_hours) AS refundable
            FROM reservations r JOIN concerts c ON c.id = r.concert_id JOIN seats s ON s.id = r.seat_id
            WHERE r.user_id = ${userId} ORDER BY r.id DESC LIMIT ${limit}`,
        { prepared: true },
      );
      return rows.map((row) => ({
        reservationId: row.id,
        concertId: row.concert_id,
        concertTitle: row.title,
        concertDateTime: row.show_datetime.toISOString(),
        seatId: row.seat_id,
        seatNumber: row.seat_number,
        price: row.price,
        reservedAt: row.created_at.toISOString(),
        status: row.cancelled_at === null ? ('CONFIRMED' as const) : ('CANCELLED' as const),
        refundAmount: row.refund_amount,
        cancelledAt: row.cancelled_at?.toISOString() ?? null,
        // The cancel route's own rule and the same cut-off its transaction checks.
        refundQuote:
          row.cancelled_at === null && row.refundable
            ? refundAmount(row.price, row.refund_fee_percent)
            : null,
      }));
    },
  };
}
