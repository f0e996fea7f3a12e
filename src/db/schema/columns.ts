import { bigint, timestamp } from 'drizzle-orm/pg-core';

/**
 * Column kinds of the model. Money is integer won in bigint columns; the application keeps every
 * amount below 2^53 (MAX_BALANCE), so reading them as JS numbers is exact.
 */
export const id = (name: string) => bigint(name, { mode: 'number' });
export const money = (name: string) => bigint(name, { mode: 'number' });
export const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
