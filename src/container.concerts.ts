import type { Config } from './config.js';

/** The concert service's settings: the popular list's size and cache, the seat maps' snapshots (0061). */
export const concertSettings = (
  config: Pick<Config, 'POPULAR_LIMIT' | 'POPULAR_CACHE_MS' | 'SEAT_MAP_CACHE_MS'>,
) => ({
  popularLimit: config.POPULAR_LIMIT,
  popularCacheMs: config.POPULAR_CACHE_MS,
  seatMapCacheMs: config.SEAT_MAP_CACHE_MS,
});
