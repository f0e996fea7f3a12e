import type { Outcome } from '../../shared/outcome.js';
import type { AuditContext } from '../audit/audit.store.js';

/** The sale settings of a concert (docs/decisions/0036). */
export interface SaleSettings {
  saleOpensAt: string | null;
  saleClosesAt: string | null;
  ticketLimit: number;
  /** null: the global SEAT_HOLD_TTL_SECONDS (the demo's concerts). */
  holdSeconds: number | null;
  refundCutoffHours: number;
  refundFeePercent: number;
}

export interface PriceCategory {
  name: string;
  price: number;
  sections: string[];
}

/** A concert as operators see it. */
export interface ConcertDetail extends SaleSettings {
  concertId: number;
  title: string;
  description: string;
  /** null: a concert whose seats were made directly (the demo's). */
  venueId: number | null;
  venueName: string;
  showAt: string;
  seatCount: number;
  priceCategories: PriceCategory[];
  createdAt: string;
  updatedAt: string;
}

/** The seat map a concert is built from: its venue's sections with their category. */
export interface SeatPlan {
  venueId: number;
  /** Categories in the order written. */
  categories: { name: string; price: number }[];
  /** Every section of the venue in map order: its URL key and the index of its category. */
  sections: { name: string; key: string; category: number }[];
}

export interface NewConcert extends Omit<SaleSettings, 'saleOpensAt' | 'saleClosesAt'> {
  title: string;
  description: string;
  showAt: Date;
  /** null: opens now (the transaction's clock). */
  saleOpensAt: Date | null;
  saleClosesAt: Date;
  plan: SeatPlan;
}

export interface ConcertChange {
  title?: string;
  description?: string;
  showAt?: Date;
  saleOpensAt?: Date;
  saleClosesAt?: Date;
  ticketLimit?: number;
  holdSeconds?: number;
  refundCutoffHours?: number;
  refundFeePercent?: number;
  /** New seats: another venue, or other categories or mapping (only while nothing is held or sold). */
  plan?: SeatPlan;
}

export type CatalogueRefusal =
  | { reason: 'concert-not-found' }
  | { reason: 'venue-not-found' }
  /** The venue's sections are not the ones the plan was checked against (changed meanwhile). */
  | { reason: 'venue-changed' }
  /** A seat is held or sold: the seats can no longer change (or the concert be deleted). */
  | { reason: 'has-sales' }
  /** The sale window the change would leave breaks opens < closes ≤ show. */
  | { reason: 'sale-window' }
  /** The show was cancelled (0039): the concert stays as it was, the record of its refunds. */
  | { reason: 'cancelled' };

/**
 * Operators' concerts: each change in one transaction with its audit record. Seats are generated
 * from the venue's map in the creating transaction; the database refuses changes of seats that
 * are held or sold.
 */
export interface CatalogueStore extends CatalogueReports {
  /** The venue's section names in map order; null when there is no such venue. */
  venueSections(venueId: number): Promise<string[] | null>;
  create(
    concert: NewConcert,
    audit: AuditContext,
  ): Promise<Outcome<ConcertDetail, CatalogueRefusal>>;
  /** Newest first; `before` pages on by concert id. */
  list(page: { limit: number; before?: number }): Promise<ConcertDetail[]>;
  get(concertId: number): Promise<ConcertDetail | null>;
  update(
    concertId: number,
    change: ConcertChange,
    audit: AuditContext,
  ): Promise<Outcome<ConcertDetail, CatalogueRefusal>>;
  /** Removes a concert nobody holds or bought a seat of, with its seats. */
  remove(concertId: number, audit: AuditContext): Promise<Outcome<null, CatalogueRefusal>>;
}

/** One section × price category of a concert's sales report; the demo's seats: section and category null. */
export interface ReportLine {
  sectionKey: string | null;
  sectionName: string | null;
  category: string | null;
  price: number | null;
  capacity: number;
  free: number;
  held: number;
  sold: number;
}

/** A concert's sales: seats from the holds, money from the ledger (point_transactions). */
export interface ConcertReport {
  concertId: number;
  title: string;
  showAt: string;
  cancelled: boolean;
  sections: ReportLine[];
  totals: {
    seats: number;
    free: number;
    held: number;
    sold: number;
    revenue: number;
    refunds: number;
    net: number;
    reservations: number;
    cancelled: number;
    buyers: number;
  };
}

/** The sales report's reads, spread into the store by its Postgres adapter. */
export interface CatalogueReports {
  /** null: no such concert. */
  report(concertId: number): Promise<ConcertReport | null>;
}
