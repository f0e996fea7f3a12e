import type { RoomSettings } from '../rooms/rooms.store.js';
import {
  effectiveStatus,
  visibleExpiry,
  type TokenState,
  type TokenStatus,
} from './queue.rules.js';

/** One token as a store reads it, with the store's clock at that moment. */
export interface TokenRecord {
  token: string;
  userId: number;
  /** The token's room: its concert's id, 0 for the house room. */
  roomId: number;
  state: TokenState;
  now: Date;
}

/** One entry of a batched join: the user and the token it takes (queue.opening.ts). */
export interface MoveEntry {
  userId: number;
  token: string;
}

/** What the client is told about its place in line. */
export interface TokenView {
  token: string;
  /** Whose token it is (never shown to clients; lets a poll check the caller). */
  userId: number;
  /** The token's room: its concert's id, 0 for the house room. */
  roomId: number;
  /** SOLD_OUT: waiting in a sold-out room (queue.soldout.ts); the entry keeps its place. */
  status: TokenStatus | 'SOLD_OUT';
  /** 0 when ACTIVE or EXPIRED; the exact 1-based place in line when WAITING (or SOLD_OUT). */
  position: number;
  expiresAt: Date | null;
  /** A pre-queue entry's public lottery receipt (queue.opening.ts); absent/null otherwise. */
  receiptId?: string | null;
  /** The opening of the token's room while it is in the pre-queue. */
  opensAt?: Date | null;
}

/** Many tokens read at one instant, for the live position streams. */
export interface WatchedTokens {
  /** The view of every token the store knows (unknown tokens are absent). */
  views: Map<string, TokenView>;
  /**
   * The house room's steady admission rate (admissions per second across all instances, robust
   * to one burst: steadyAdmissionRate in queue.estimate.ts, over the store's rate window).
   */
  admissionRate: number;
  /** The same for every room of the tokens read, and the house room. */
  rates: Map<number, number>;
}

/** How long a window the measured admission rate covers unless a store is told otherwise. */
export const DEFAULT_RATE_WINDOW_SECONDS = 60;

export interface AdmissionResult {
  expired: number;
  admitted: number;
  /** Of the house room (the seed's numbers; rooms: roomStats). */
  active: number;
  waiting: number;
}

/** One room's numbers, for its public view. */
export interface RoomStats {
  waiting: number;
  active: number;
  /** Admissions per minute over the store's rate window, across all instances. */
  admissionRate: number;
}

/**
 * The waiting rooms. Every implementation keeps, per room (docs/rooms.md): one live token per
 * user (re-entry returns it with its place), strict arrival order, at most the room's maxActive
 * ACTIVE tokens, exact positions, its state and admission rate, and admission that is safe when
 * any number of instances run it at once. A token's room is in its value (roomOfToken).
 */
export interface QueueStore {
  /**
   * Joins the room's line, or returns the user's live token of that room unchanged (same token,
   * same place). ACTIVE at once only in an `open` room without a rate limit, with room and
   * nobody waiting. Without a room: the house room. `token`: the value a new token takes (a
   * pre-queue entry's, chosen at its pre-queue join; queue.opening.ts); random when absent.
   */
  join(userId: number, room?: RoomSettings, token?: string): Promise<TokenView>;
  /**
   * Joins many users to the room's line in the order given (a batch of a pre-queue's move, at
   * most 500; queue.opening.ts), each with its chosen token, in one statement / script / produce
   * batch, by the rules of `join`. An entry whose user already has a live token in the room, or
   * whose token the line already knows, changes nothing: a batch run again after a partial move
   * neither duplicates nor reorders.
   */
  joinMany(room: RoomSettings, entries: readonly MoveEntry[]): Promise<void>;
  /** Status and exact position; counts as a poll for the idle lifetime. null when unknown. */
  poll(token: string): Promise<TokenView | null>;
  /**
   * Status and exact position of many tokens in one round trip, plus the admission rate; counts
   * as a poll for each (an open live stream keeps its WAITING token alive).
   */
  watch(tokens: readonly string[]): Promise<WatchedTokens>;
  /** The token for a protected request: no position, no write. null when unknown. */
  find(token: string): Promise<TokenRecord | null>;
  /** Expires a live token (leaving the line or finishing); the slot frees at once. */
  expire(token: string): Promise<boolean>;
  /**
   * Expires due tokens and admits from the head of each room's line into its free slots, within
   * its rate and never while it is paused; serves only the rooms with work. `prepare` reads what
   * admission depends on outside the store (the sold-out flags, queue.soldout.ts) and resolves
   * whether it could: the run calls it before it decides, and a Redis store admits nobody into a
   * slot that `expire` freed after the last `prepare` that could read began (decision 0057,
   * "Stale flags").
   */
  admit(prepare?: () => Promise<boolean>): Promise<AdmissionResult>;
  /** A room's line length, active count and measured admission rate. */
  roomStats(roomId: number): Promise<RoomStats>;
}

/** What a client is told about a token read at `record.now` with its place in line. */
export function tokenView(record: TokenRecord, position: number, idleMs: number): TokenView {
  const status = effectiveStatus(record.state, record.now, idleMs);
  return {
    token: record.token,
    userId: record.userId,
    roomId: record.roomId,
    status,
    position: status === 'WAITING' ? position : 0,
    expiresAt: status === 'EXPIRED' ? record.state.expiresAt : visibleExpiry(record.state, idleMs),
  };
}
