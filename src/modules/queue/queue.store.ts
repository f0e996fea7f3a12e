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
  state: TokenState;
  now: Date;
}

/** What the client is told about its place in line. */
export interface TokenView {
  token: string;
  /** Whose token it is (never shown to clients; lets a poll check the caller). */
  userId: number;
  status: TokenStatus;
  /** 0 when ACTIVE or EXPIRED; the exact 1-based place in line when WAITING. */
  position: number;
  expiresAt: Date | null;
}

/** Many tokens read at one instant, for the live position streams. */
export interface WatchedTokens {
  /** The view of every token the store knows (unknown tokens are absent). */
  views: Map<string, TokenView>;
  /** Admissions per second over the store's rate window, counted across all instances. */
  admissionRate: number;
}

/** How long a window the measured admission rate covers unless a store is told otherwise. */
export const DEFAULT_RATE_WINDOW_SECONDS = 60;

export interface AdmissionResult {
  expired: number;
  admitted: number;
  active: number;
  waiting: number;
}

/**
 * The waiting room. Every implementation keeps: one live token per user (re-entry returns it
 * with its place), strict arrival order, at most maxActive ACTIVE tokens, exact positions,
 * and admission that is safe when any number of instances run it at once.
 */
export interface QueueStore {
  /** Joins the line, or returns the user's live token unchanged (same token, same place). */
  join(userId: number): Promise<TokenView>;
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
  /** Expires due tokens and admits from the head of the line into free slots. */
  admit(): Promise<AdmissionResult>;
}

/** What a client is told about a token read at `record.now` with its place in line. */
export function tokenView(record: TokenRecord, position: number, idleMs: number): TokenView {
  const status = effectiveStatus(record.state, record.now, idleMs);
  return {
    token: record.token,
    userId: record.userId,
    status,
    position: status === 'WAITING' ? position : 0,
    expiresAt: status === 'EXPIRED' ? record.state.expiresAt : visibleExpiry(record.state, idleMs),
  };
}
