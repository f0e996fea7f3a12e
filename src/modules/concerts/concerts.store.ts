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

export interface ConcertStore {
  list(): Promise<ConcertDto[]>;
  /** Seats of one concert in seat order; null when the concert does not exist. */
  seats(concertId: number): Promise<SeatDto[] | null>;
  popular(limit: number): Promise<PopularConcertDto[]>;
}
