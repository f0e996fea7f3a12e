import type { Database } from '../db/client.js';
import type { AuditContext } from '../modules/audit/audit.store.js';
import type { BalanceService } from '../modules/balance/balance.service.js';
import type { CatalogueService } from '../modules/concerts/catalogue.service.js';
import type { VenueService } from '../modules/venues/venues.service.js';
import { seatPrices, sellOut } from './demo.sale.js';

const DAY_MS = 86_400_000;
/** The arena's sale opens this long after the first start: long enough to queue before it. */
export const DEMO_OPENING_DELAY_MS = 5 * 60_000;
/** Demo buyers of the sold-out concert: users from this id on, one seat each. */
export const DEMO_FIRST_BUYER = 900_001;

const audit: AuditContext = { actor: 'demo-loader', requestId: 'demo-data' };

/** One row per name, each with `seats` seats. */
const rows = (names: string[], seats: number) => names.map((name) => ({ name, seats }));

/** A small hall: 120 seats in three sections, one price category each. */
const hall = {
  name: 'Overture Recital Hall',
  address: '2406 Nambusunhwan-ro, Seocho-gu, Seoul',
  sections: [
    { name: 'Stalls', rows: rows(['A', 'B', 'C', 'D', 'E', 'F'], 12) },
    { name: 'Circle', rows: rows(['G', 'H'], 14) },
    { name: 'Balcony', rows: rows(['J', 'K'], 10) },
  ],
};
const hallCategories = [
  { name: 'R', price: 99_000, sections: ['Stalls'] },
  { name: 'S', price: 77_000, sections: ['Circle'] },
  { name: 'A', price: 55_000, sections: ['Balcony'] },
];

/** An arena: 1,500 standing on the floor and ten seated blocks of 20 rows × 15 (4,500 places). */
const arena = {
  name: 'Overture Arena',
  address: '424 Olympic-ro, Songpa-gu, Seoul',
  sections: [
    { name: 'Floor', kind: 'general-admission' as const, capacity: 1_500 },
    ...Array.from({ length: 10 }, (_, b) => ({
      name: String(101 + b),
      labels: '{section}-{row}-{seat}',
      rows: Array.from({ length: 20 }, (_, r) => ({ name: String(r + 1), seats: 15 })),
    })),
  ],
};
const block = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
const arenaCategories = [
  { name: 'Standing', price: 132_000, sections: ['Floor'] },
  { name: 'VIP', price: 165_000, sections: block(101, 102) },
  { name: 'R', price: 121_000, sections: block(103, 106) },
  { name: 'S', price: 99_000, sections: block(107, 110) },
];

/** A show `days` after `start`'s day at `hour` KST (UTC+9), like the simple demo concerts. */
const showAt = (start: Date, days: number, hour: number) =>
  new Date(
    Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()) +
      days * DAY_MS +
      (hour - 9) * 3_600_000,
  ).toISOString();

export interface DemoCatalogue {
  onSale: number;
  opening: { concertId: number; saleOpensAt: string };
  soldOut: { concertId: number; seats: number };
}

/**
 * The realistic part of the demo, made through the catalogue like an operator would (every rule
 * checked, every action audited as `demo-loader`): a small hall with a concert on sale now and one
 * sold out to demo buyers, and an arena whose concert opens DEMO_OPENING_DELAY_MS after `start`.
 * Called once, by the start that claimed the empty database (src/db/seed.ts).
 */
export async function loadDemoCatalogue(
  deps: {
    database: Database;
    venues: Pick<VenueService, 'create'>;
    catalogue: Pick<CatalogueService, 'create'>;
    balance: Pick<BalanceService, 'charge'>;
  },
  start: Date,
): Promise<DemoCatalogue> {
  const { venues, catalogue } = deps;
  const recital = await venues.create(hall, audit);
  const arenaVenue = await venues.create(arena, audit);
  const onSale = await catalogue.create(
    {
      title: 'Spring Strings: The Four Seasons',
      description: 'Vivaldi by candlelight: on sale now.',
      venueId: recital.venueId,
      showAt: showAt(start, 10, 19),
      priceCategories: hallCategories,
    },
    audit,
  );
  const saleOpensAt = new Date(start.getTime() + DEMO_OPENING_DELAY_MS).toISOString();
  const opening = await catalogue.create(
    {
      title: 'Neon Seoul World Tour: Arena Night',
      description: 'The sale opens a few minutes after the first start: queue before it does.',
      venueId: arenaVenue.venueId,
      showAt: showAt(start, 30, 19),
      saleOpensAt,
      priceCategories: arenaCategories,
    },
    audit,
  );
  const soldOut = await catalogue.create(
    {
      title: 'Midnight Piano Recital',
      description: 'Every seat sold to demo buyers: what a sold-out sale looks like.',
      venueId: recital.venueId,
      showAt: showAt(start, 7, 22),
      priceCategories: hallCategories,
    },
    audit,
  );
  const prices = await seatPrices(deps.database, soldOut.concertId);
  // Each demo buyer charges the price of their seat through the balance service (its ledger row).
  for (const [i, price] of prices.entries())
    await deps.balance.charge({ userId: DEMO_FIRST_BUYER + i, amount: price });
  const sold = await sellOut(deps.database, soldOut.concertId, DEMO_FIRST_BUYER);
  return {
    onSale: onSale.concertId,
    opening: { concertId: opening.concertId, saleOpensAt },
    soldOut: { concertId: soldOut.concertId, seats: sold },
  };
}
