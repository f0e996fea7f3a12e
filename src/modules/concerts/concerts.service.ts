import { AppError } from '../../shared/errors.js';
import type { QueueService } from '../queue/queue.service.js';
import type { TokenRecord } from '../queue/queue.store.js';
import type { ConcertDto, ConcertStore, PopularConcertDto, SeatDto } from './concerts.store.js';

export function createConcertService(deps: {
  store: ConcertStore;
  queue: Pick<QueueService, 'assertAccess'>;
  popularLimit: number;
  popularCacheMs: number;
}) {
  const { store, queue } = deps;
  // The popular list is the same for everyone and changes only when a payment commits: each
  // instance answers from memory for popularCacheMs, so a burst of readers costs one query.
  let popular: { at: number; value: Promise<PopularConcertDto[]> } | undefined;

  return {
    list(record: TokenRecord): Promise<ConcertDto[]> {
      queue.assertAccess(record, 'browse-concerts');
      return store.list();
    },

    async seats(record: TokenRecord, concertId: number): Promise<SeatDto[]> {
      queue.assertAccess(record, 'browse-seats', concertId);
      const seats = await store.seats(concertId);
      if (!seats)
        throw new AppError('CONCERT_NOT_FOUND', `Concert ${concertId} does not exist.`, {
          field: 'concertId',
        });
      return seats;
    },

    popular(): Promise<PopularConcertDto[]> {
      const now = Date.now();
      if (!popular || now - popular.at >= deps.popularCacheMs) {
        const value = store.popular(deps.popularLimit);
        popular = { at: now, value };
        value.catch(() => (popular = undefined));
      }
      return popular.value;
    },
  };
}

export type ConcertService = ReturnType<typeof createConcertService>;
