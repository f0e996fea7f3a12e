/** The pre-queue of scheduled openings (decision 0056); PostgreSQL whatever the queue backend. */

/** A pre-queue entry as a join or a poll reads it, with its room's opening. */
export interface PreQueueEntry {
  roomId: number;
  userId: number;
  token: string;
  receiptId: string;
  /** The lottery place; null before the draw and for arrivals after it. */
  place: number | null;
  moved: boolean;
  opensAt: Date;
  opened: boolean;
  /** Entries of the room that enter the line before this one, plus one (provisional place). */
  rank: number;
}

/** One page of a room's draw (docs/lottery.md: GET /api/v1/queue/rooms/{concertId}/draw). */
export interface DrawPageView {
  concertId: number;
  seed: string | null;
  commitment: string | null;
  total: number;
  page: number;
  pageSize: number;
  receipts: string[];
}

/** A room's opening as the public sees it. */
export interface OpeningView {
  opensAt: string | null;
  preQueueOpensAt: string | null;
  commitment: string | null;
  seed: string | null;
  openedAt: string | null;
  /** Entries not yet in the line (before the opening: all of them). */
  preQueue: number;
}

/**
 * The pre-queue store. Exactly-once rests on the room row: an entry is written only while
 * holding it FOR SHARE with the room not yet transferred; the draw takes it FOR UPDATE (setting
 * opened_at once); the end of the transfer takes it FOR UPDATE before checking nothing is left.
 */
export interface PreQueueStore {
  /**
   * The user's entry in the room's pre-queue, made now if there is none; undefined once the
   * room's pre-queue is all in the line (the join goes to the line itself).
   */
  enter(roomId: number, userId: number): Promise<PreQueueEntry | undefined>;
  byToken(token: string): Promise<PreQueueEntry | undefined>;
  /** The entries of those of `tokens` that have one, in one round trip. */
  byTokens(tokens: readonly string[]): Promise<PreQueueEntry[]>;
  /** Rooms whose opening is due and whose pre-queue is not all in the line (oldest first). */
  due(limit: number): Promise<{ roomId: number; opened: boolean }[]>;
  /**
   * The draw, at most once per room: places by ascending SHA-256(seed ":" receiptId), the seed
   * published in the same transaction. How many were drawn; undefined when not due or done.
   */
  draw(roomId: number): Promise<number | undefined>;
  /** The next entries to enter the line, in line order (drawn places, then later arrivals). */
  toMove(roomId: number, limit: number): Promise<{ user_id: number; token: string }[]>;
  moved(roomId: number, userIds: number[]): Promise<void>;
  /** Ends the transfer when nothing is left to move; true when the room is transferred. */
  finish(roomId: number): Promise<boolean>;
  /** One page of the draw; undefined: no such room. */
  drawPage(roomId: number, page: number, pageSize: number): Promise<DrawPageView | undefined>;
  lottery(roomId: number): Promise<OpeningView>;
}
