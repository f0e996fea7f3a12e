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
  popular(limit: number): Promise<PopularConcertDto[]>;
  /** The concerts among `ids` that exist, in no particular order. */
  summaries(ids: number[]): Promise<ConcertSummary[]>;
}
