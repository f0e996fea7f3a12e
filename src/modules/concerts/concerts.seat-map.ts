import { createHash } from 'node:crypto';

/** A seat-map read as an instance keeps it: the value and its ETag (none when not kept). */
export interface Snapshot<T> {
  value: T;
  etag: string | undefined;
}

/** More seat maps than this kept at once (concerts × sections): start over. */
const MAX_SNAPSHOTS = 10_000;

/**
 * The seat map as every open page reads it (its sections and a section's seats, every 2 s from
 * web/src/main.ts): the same for every buyer, so an instance answers each read from one snapshot
 * for up to `freshMs` — 1,000 open pages on a concert cost one query per snapshot instead of one
 * per page — and gives it an ETag, so a page whose copy is still current gets a 304 with no body
 * (docs/decisions/0061). A change made anywhere (a hold, a payment, a hold's expiry) shows within
 * `freshMs`; the database still decides every hold. `freshMs` 0: every read queries, no ETag.
 */
export function createSeatMapSnapshots(freshMs: number, now: () => number = Date.now) {
  const kept = new Map<string, { at: number; snapshot: Promise<Snapshot<unknown>> }>();
  return {
    read<T>(key: string, load: () => Promise<T>): Promise<Snapshot<T>> {
      if (freshMs === 0) return load().then((value) => ({ value, etag: undefined }));
      const at = now();
      const entry = kept.get(key);
      if (entry && at - entry.at < freshMs) return entry.snapshot as Promise<Snapshot<T>>;
      if (kept.size >= MAX_SNAPSHOTS) kept.clear();
      const snapshot = load().then((value) => ({ value, etag: etagOf(value) }));
      const fresh = { at, snapshot };
      kept.set(key, fresh);
      // A failed read is not kept: the next page asks the database again.
      snapshot.catch(() => {
        if (kept.get(key) === fresh) kept.delete(key);
      });
      return snapshot;
    },
  };
}

/** The same content, the same tag, on every instance: a hash of the value's JSON. */
const etagOf = (value: unknown): string =>
  `"${createHash('sha256')
    .update(JSON.stringify(value ?? null))
    .digest('base64url')
    .slice(0, 27)}"`;
