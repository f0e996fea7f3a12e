import { createHash } from 'node:crypto';

/** A read as an instance keeps it: the value and, when asked for, its ETag. */
export interface Snapshot<T> {
  value: T;
  etag: string | undefined;
}

/** More keys than this kept at once (e.g. concerts × sections): start over. */
const MAX_SNAPSHOTS = 10_000;

/**
 * Reads that are the same for every caller (a seat map, the popular list, the public concert
 * list), answered on this instance from one snapshot per key for up to `freshMs`: a burst of
 * readers costs one query per key and period, and readers during a query share it. A failed read
 * is not kept (the next reader asks again). With `etag`, each snapshot carries a hash of its JSON
 * (the same content, the same tag, on every instance), so a client whose copy is current gets a
 * 304 (decision 0061). `freshMs` 0: every read queries.
 */
export function createSnapshots(
  freshMs: number,
  options: { etag?: boolean; now?: () => number } = {},
) {
  const now = options.now ?? Date.now;
  const kept = new Map<string, { at: number; snapshot: Promise<Snapshot<unknown>> }>();
  const load = <T>(read: () => Promise<T>): Promise<Snapshot<T>> =>
    read().then((value) => ({ value, etag: options.etag ? etagOf(value) : undefined }));
  const snapshots = {
    read<T>(key: string, read: () => Promise<T>): Promise<Snapshot<T>> {
      if (freshMs === 0) return load(read);
      const at = now();
      const entry = kept.get(key);
      if (entry && at - entry.at < freshMs) return entry.snapshot as Promise<Snapshot<T>>;
      if (kept.size >= MAX_SNAPSHOTS) kept.clear();
      const snapshot = load(read);
      const fresh = { at, snapshot };
      kept.set(key, fresh);
      snapshot.catch(() => {
        if (kept.get(key) === fresh) kept.delete(key);
      });
      return snapshot;
    },
    /** The value alone (no ETag wanted). */
    async value<T>(key: string, read: () => Promise<T>): Promise<T> {
      return (await snapshots.read(key, read)).value;
    },
  };
  return snapshots;
}

const etagOf = (value: unknown): string =>
  `"${createHash('sha256')
    .update(JSON.stringify(value ?? null))
    .digest('base64url')
    .slice(0, 27)}"`;
