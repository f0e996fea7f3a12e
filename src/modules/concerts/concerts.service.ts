import { AppError } from '../../shared/errors.js';
import type { QueueService } from '../queue/queue.service.js';
import type { TokenRecord } from '../queue/queue.store.js';
import type { Logger } from 'pino';
import type { RankingMirror } from '../ranking/ranking.mirror.js';
import type {
  ConcertDto,
  ConcertStore,
  ConcertSummary,
  PopularConcertDto,
  SeatDto,
  SectionDto,
} from './concerts.store.js';
import { createSnapshots, type Snapshot } from '../../shared/snapshots.js';

const concertNotFound = (concertId: number) =>
  new AppError('CONCERT_NOT_FOUND', `Concert ${concertId} does not exist.`, {
    field: 'concertId',
  });

/** Concert summaries kept for the Redis-served popular list (more concerts than this: start over). */
const SUMMARY_CACHE_SIZE = 10_000;

export function createConcertService(deps: {
  store: ConcertStore;
  queue: Pick<QueueService, 'assertAccess'>;
  popularLimit: number;
  popularCacheMs: number;
  /** How long a seat map's snapshot answers every page (0: each read queries; decision 0061). */
  seatMapCacheMs?: number;
  /** The ranking's Redis copy: the popular list is served from it, PostgreSQL when it fails. */
  ranking?: Pick<RankingMirror, 'top'>;
  logger?: Logger;
}) {
  const { store, queue, ranking } = deps;
  // Concerts never change once created: their titles, venues and dates are kept in memory, so a
  // popular list from Redis costs the database nothing once its concerts are known.
  const summaries = new Map<number, ConcertSummary>();
  let rankingFailing = false;
  const seatMaps = createSnapshots(deps.seatMapCacheMs ?? 0, { etag: true });
  // The popular list is the same for everyone and changes only when a payment commits: each
  // instance answers from memory for popularCacheMs, so a burst of readers costs one query.
  const popular = createSnapshots(deps.popularCacheMs);

  const summariesOf = async (ids: number[]): Promise<Map<number, ConcertSummary>> => {
    const missing = ids.filter((id) => !summaries.has(id));
    if (missing.length > 0) {
      if (summaries.size + missing.length > SUMMARY_CACHE_SIZE) summaries.clear();
      for (const summary of await store.summaries(missing))
        summaries.set(summary.concertId, summary);
    }
    return summaries;
  };

  const popularFromRanking = async (
    source: Pick<RankingMirror, 'top'>,
  ): Promise<PopularConcertDto[]> => {
    let top;
    try {
      top = await source.top(deps.popularLimit);
      if (rankingFailing) deps.logger?.info('popular list: served from Redis again');
      rankingFailing = false;
    } catch (error) {
      if (!rankingFailing)
        deps.logger?.warn({ err: error }, 'popular list: Redis failed; served from PostgreSQL');
      rankingFailing = true;
      return store.popular(deps.popularLimit);
    }
    const known = await summariesOf(top.map((entry) => entry.concertId));
    return top.flatMap((entry) => {
      const summary = known.get(entry.concertId);
      return summary ? [{ ...summary, reservedCount: entry.count }] : [];
    });
  };

  return {
    list(record: TokenRecord): Promise<ConcertDto[]> {
      queue.assertAccess(record, 'browse-concerts');
      return store.list();
    },

    async seats(record: TokenRecord, concertId: number): Promise<Snapshot<SeatDto[]>> {
      queue.assertAccess(record, 'browse-seats', concertId);
      const seats = await seatMaps.read(`seats/${concertId}`, () => store.seats(concertId));
      if (!seats.value) throw concertNotFound(concertId);
      return { value: seats.value, etag: seats.etag };
    },

    /** A concert's sections with their prices and seats counted (free, held, sold). */
    async sections(record: TokenRecord, concertId: number): Promise<Snapshot<SectionDto[]>> {
      queue.assertAccess(record, 'browse-seats', concertId);
      const sections = await seatMaps.read(`sections/${concertId}`, () =>
        store.sections(concertId),
      );
      if (!sections.value) throw concertNotFound(concertId);
      return { value: sections.value, etag: sections.etag };
    },

    /** One section's seats: a large venue's map read a section at a time. */
    async sectionSeats(
      record: TokenRecord,
      concertId: number,
      sectionKey: string,
    ): Promise<Snapshot<SeatDto[]>> {
      queue.assertAccess(record, 'browse-seats', concertId);
      const seats = await seatMaps.read(`section/${concertId}/${sectionKey}`, () =>
        store.sectionSeats(concertId, sectionKey),
      );
      if (seats.value === 'concert-not-found') throw concertNotFound(concertId);
      if (seats.value === 'section-not-found')
        throw new AppError(
          'SECTION_NOT_FOUND',
          `Concert ${concertId} has no section "${sectionKey}".`,
          { field: 'sectionKey' },
        );
      return { value: seats.value, etag: seats.etag };
    },

    popular(): Promise<PopularConcertDto[]> {
      return popular.value('popular', () =>
        ranking ? popularFromRanking(ranking) : store.popular(deps.popularLimit),
      );
    },
  };
}

export type ConcertService = ReturnType<typeof createConcertService>;
