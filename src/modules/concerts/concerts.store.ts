export interface ConcertDto {
  concertId: number;
  concertTitle: string;
  concertVenue: string;
  concertDateTime: string;
  /** The show is still ahead and at least one seat is neither held nor sold. */
  isAvailable: boolean;
}

export interface SeatDto {
  seatId: number;
  seatNumber: number;
  price: number;
  isAvailable: boolean;
  /** Sold, held by someone right now (a live hold) or free: what a seat map colours it. */
  state: 'free' | 'held' | 'sold';
  /** From the venue's map (null for seats made directly, the demo's). */
  sectionKey: string | null;
  section: string | null;
  row: string | null;
  label: string | null;
  priceCategory: string | null;
}

/** One section of a concert on a venue, its seats counted by state. */
export interface SectionDto {
  sectionKey: string;
  name: string;
  kind: 'seated' | 'general-admission';
  priceCategory: string;
  price: number;
  capacity: number;
  free: number;
  held: number;
  sold: number;
}

export interface PopularConcertDto {
  concertId: number;
  concertTitle: string;
  concertVenue: string;
  concertDateTime: string;
  reservedCount: number;
}

/** What the popular list shows of a concert besides its count (fixed once the concert exists). */
export type ConcertSummary = Omit<PopularConcertDto, 'reservedCount'>;

export interface ConcertStore {
  list(): Promise<ConcertDto[]>;
  /** Seats of one concert in seat order; null when the concert does not exist. */
  seats(concertId: number): Promise<SeatDto[] | null>;
  /** The concert's sections in map order (none for a concert without a venue); null: no concert. */
  sections(concertId: number): Promise<SectionDto[] | null>;
  /** One section's seats in seat order; why not when the concert or the section does not exist. */
  sectionSeats(
    concertId: number,
    sectionKey: string,
  ): Promise<SeatDto[] | 'concert-not-found' | 'section-not-found'>;
  popular(limit: number): Promise<PopularConcertDto[]>;
  /** The concerts among `ids` that exist, in no particular order. */
  summaries(ids: number[]): Promise<ConcertSummary[]>;
}
