import { createSnapshots } from '../../shared/snapshots.js';
import type { RoomState } from './rooms.store.js';

/** Where a listed concert's sale stands (decision 0064). */
export type SaleStatus = 'on-sale' | 'opening-soon' | 'sold-out';

/** One concert of the buyers' public list: what its card shows, no token needed. */
export interface ListedConcert {
  concertId: number;
  concertTitle: string;
  concertVenue: string;
  concertDateTime: string;
  /** Cheapest and dearest seat, in won; null for a concert without seats. */
  priceMin: number | null;
  priceMax: number | null;
  sale: SaleStatus;
  /**
   * When an opening-soon concert opens: its room's scheduled opening (the draw), else its sale
   * window's start; null otherwise.
   */
  opensAt: string | null;
  /** The room's pre-queue window start (joins before it are refused); null: none or open already. */
  preQueueOpensAt: string | null;
  /** Whether the concert has a waiting room of its own (else the house room serves it). */
  hasRoom: boolean;
  roomState: RoomState | null;
  /** Seats not sold (free or held). */
  seatsLeft: number;
  soldOut: boolean;
}

/** A page of the list, and how many concerts the whole list has. */
export interface ListedPage {
  concerts: ListedConcert[];
  page: number;
  pageSize: number;
  total: number;
}

/** The most concerts the list reads (the first by show time): its cost is bounded. */
export const MAX_LISTED = 1_000;

/**
 * The buyers' public concert list (GET /api/v1/queue/rooms): every concert on sale, opening soon
 * or sold out whose show is ahead, read by one query at most once per `cacheMs` per instance
 * whatever the number of readers, and paged in memory. A failed read is not kept.
 */
export function createSaleListing(deps: {
  read: (limit: number) => Promise<ListedConcert[]>;
  cacheMs: number;
  now?: () => number;
}) {
  const snapshots = createSnapshots(deps.cacheMs, { now: deps.now });
  const all = (): Promise<ListedConcert[]> => snapshots.value('list', () => deps.read(MAX_LISTED));
  return {
    async page(page: number, pageSize: number): Promise<ListedPage> {
      const concerts = await all();
      const start = (page - 1) * pageSize;
      return {
        concerts: concerts.slice(start, start + pageSize),
        page,
        pageSize,
        total: concerts.length,
      };
    },
  };
}

export type SaleListing = ReturnType<typeof createSaleListing>;
