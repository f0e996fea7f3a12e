/** Confirmed reservations of one concert. */
export interface RankEntry {
  concertId: number;
  count: number;
}

/**
 * The ranking's copy in Redis (the seed's sorted set), served to the popular list. PostgreSQL's
 * concert_ranking stays the record: the ranking consumer counts each event once there (its inbox
 * row and the increment are one statement) and then copies the concert's new count here with
 * ZADD GT — an absolute value that only ever rises, so redelivered, reordered or concurrent
 * copies all converge on the latest count and none counts twice. A set without its completeness
 * marker (Redis restarted empty, flushed, or only refilled by copies since) is rebuilt from
 * PostgreSQL before it is read; so is one whose copy failed while Redis was away.
 */
export interface RankingMirror {
  /** Copies a concert's count after PostgreSQL committed it; never throws. */
  record(entry: RankEntry): Promise<void>;
  /**
   * Copies a count that went down (a cancellation) — the one copy that may lower the set, so it
   * sets the score as it is; never throws. One concert's events reach the consumer in order, so
   * a later raise cannot have been copied before it (a retried event may be off by one until the
   * concert's next event or the next rebuild).
   */
  lowered(entry: RankEntry): Promise<void>;
  /** The top `limit` by count (ties: lower concert id first), rebuilt first if lost; throws when Redis fails. */
  top(limit: number): Promise<RankEntry[]>;
  /** Rebuilds the set from PostgreSQL when it was lost (start-up); never throws. */
  ensure(): Promise<void>;
}
