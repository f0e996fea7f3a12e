import { sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { query } from './sql.js';

const SEATS_PER_CONCERT = 50;
const DAY_MS = 86_400_000;

/** Price of a seat by its number: front rows cost more. Prices in won. */
type PriceTiers = readonly { upTo: number; price: number }[];

const demoConcerts: readonly {
  title: string;
  venue: string;
  daysAhead: number;
  hour: number;
  tiers: PriceTiers;
}[] = [
  {
    title: 'Overture Philharmonic: New Year Gala',
    venue: 'Seoul Arts Center Concert Hall',
    daysAhead: 14,
    hour: 19,
    tiers: [
      { upTo: 10, price: 150_000 },
      { upTo: 30, price: 110_000 },
      { upTo: 50, price: 77_000 },
    ],
  },
  {
    title: 'Han River Jazz Night',
    venue: 'Blue Square Mastercard Hall',
    daysAhead: 21,
    hour: 20,
    tiers: [
      { upTo: 20, price: 88_000 },
      { upTo: 50, price: 66_000 },
    ],
  },
  {
    title: 'Neon Seoul K-Pop Festival',
    venue: 'KSPO Dome',
    daysAhead: 45,
    hour: 18,
    tiers: [
      { upTo: 5, price: 220_000 },
      { upTo: 25, price: 154_000 },
      { upTo: 50, price: 99_000 },
    ],
  },
  {
    title: 'Busan Harbour Rock Evening',
    venue: 'BEXCO Auditorium',
    daysAhead: 60,
    hour: 19,
    tiers: [{ upTo: 50, price: 5_000 }],
  },
  {
    title: 'Chamber Strings Matinee (already performed)',
    venue: 'Lotte Concert Hall',
    daysAhead: -3,
    hour: 15,
    tiers: [{ upTo: 50, price: 40_000 }],
  },
];

const priceOf = (tiers: PriceTiers, seatNumber: number): number =>
  (tiers.find((tier) => seatNumber <= tier.upTo) ?? tiers[tiers.length - 1])?.price ?? 0;

/**
 * Loads the demo concerts (seats 1–50 each) when the database has no concert yet. Dates are
 * relative to today so the demo always has upcoming shows. Instances starting together take a
 * transaction-scoped advisory lock, so the data is loaded once.
 */
export async function seedDemoData(database: Database, now = new Date()): Promise<boolean> {
  return database.transaction(async (tx) => {
    await query(tx, sql`SELECT pg_advisory_xact_lock(7284113002)`);
    const [existing] = await query<{ present: boolean }>(
      tx,
      sql`SELECT EXISTS (SELECT 1 FROM concerts) AS present`,
    );
    if (existing?.present) return false;
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    for (const concert of demoConcerts) {
      // Show times are given in KST (UTC+9).
      const showDatetime = new Date(
        today + concert.daysAhead * DAY_MS + (concert.hour - 9) * 3_600_000,
      );
      const [row] = await query<{ id: number }>(
        tx,
        sql`INSERT INTO concerts (title, venue, show_datetime)
            VALUES (${concert.title}, ${concert.venue}, ${showDatetime.toISOString()})
            RETURNING id`,
      );
      if (!row) throw new Error('concert insert returned no row');
      const seatRows = Array.from(
        { length: SEATS_PER_CONCERT },
        (_, index) => sql`(${row.id}, ${index + 1}, ${priceOf(concert.tiers, index + 1)})`,
      );
      await query(
        tx,
        sql`INSERT INTO seats (concert_id, seat_number, price) VALUES ${sql.join(seatRows, sql`, `)}`,
      );
    }
    return true;
  });
}
