import { sql, type SQL } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { concertSaleLock } from '../../db/locks.js';
import { query, queryOne, transaction, violatedConstraint } from '../../db/sql.js';
import { refusable } from '../../shared/outcome.js';
import type { AuditEntry, AuditLog } from '../audit/audit.store.js';
import type { CatalogueStore, ConcertDetail, PriceCategory } from './catalogue.store.js';
import {
  clearSeats,
  generateSeats,
  refuseIfCancelled,
  refuseIfSold,
  reprice,
  writeCategories,
  type Refuse,
} from './catalogue.seats.postgres.js';
import { createPostgresCatalogueReports } from './catalogue.report.postgres.js';

interface DetailRow {
  id: number;
  title: string;
  description: string;
  venue_id: number | null;
  venue: string;
  show_datetime: Date;
  sale_opens_at: Date | null;
  sale_closes_at: Date | null;
  ticket_limit: number;
  hold_seconds: number | null;
  refund_cutoff_hours: number;
  refund_fee_percent: number;
  created_at: Date;
  updated_at: Date;
  seat_count: number;
  categories: PriceCategory[];
}

/** A concert with its seat count and its categories, each naming its sections in map order. */
const details = (where: SQL) => sql`
  SELECT c.id, c.title, c.description, c.venue_id, c.venue, c.show_datetime, c.sale_opens_at,
         c.sale_closes_at, c.ticket_limit, c.hold_seconds, c.refund_cutoff_hours, c.refund_fee_percent,
         c.created_at, c.updated_at,
         (SELECT count(*) FROM seats s WHERE s.concert_id = c.id) AS seat_count,
         coalesce((SELECT jsonb_agg(jsonb_build_object('name', pc.name, 'price', pc.price,
                    'sections', coalesce((SELECT jsonb_agg(cs.name ORDER BY cs.position)
                                          FROM concert_sections cs WHERE cs.price_category_id = pc.id), '[]'::jsonb))
                    ORDER BY pc.position)
                   FROM concert_price_categories pc WHERE pc.concert_id = c.id), '[]'::jsonb) AS categories
  FROM concerts c WHERE ${where}`;

const iso = (time: Date | null) => (time ? new Date(time).toISOString() : null);

function toDetail(row: DetailRow): ConcertDetail {
  return {
    concertId: row.id,
    title: row.title,
    description: row.description,
    venueId: row.venue_id,
    venueName: row.venue,
    showAt: new Date(row.show_datetime).toISOString(),
    saleOpensAt: iso(row.sale_opens_at),
    saleClosesAt: iso(row.sale_closes_at),
    ticketLimit: row.ticket_limit,
    holdSeconds: row.hold_seconds,
    refundCutoffHours: row.refund_cutoff_hours,
    refundFeePercent: row.refund_fee_percent,
    seatCount: row.seat_count,
    priceCategories: row.categories,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

const detailOf = async (tx: Executor, concertId: number): Promise<ConcertDetail | null> => {
  const row = await queryOne<DetailRow>(tx, details(sql`c.id = ${concertId}`));
  return row ? toDetail(row) : null;
};

/** What the audit log keeps of a concert: all of it (its seats are counted, not listed). */
const auditView = (concert: ConcertDetail): Partial<ConcertDetail> => ({
  ...concert,
  createdAt: undefined,
  updatedAt: undefined,
});

/** A change the sale-window check constraint refused, as an outcome. */
const saleWindowRefused = (error: unknown, refuse: Refuse): never => {
  if (violatedConstraint(error) === 'concerts_sale_window') refuse({ reason: 'sale-window' });
  throw error;
};

export function createPostgresCatalogueStore(
  database: Database,
  deps: { audit: Pick<AuditLog, 'appendIn'> },
): CatalogueStore {
  const record = (
    tx: Executor,
    entry: Omit<AuditEntry, 'outcome' | 'code' | 'targetType' | 'actor' | 'requestId'>,
    context: { actor: string; requestId: string },
  ) =>
    deps.audit.appendIn(tx, {
      ...context,
      ...entry,
      outcome: 'SUCCESS',
      code: null,
      targetType: 'concert',
    });

  return {
    ...createPostgresCatalogueReports(database),

    async venueSections(venueId) {
      const rows = await query<{ name: string | null }>(
        database,
        sql`SELECT s.name FROM venues v LEFT JOIN venue_sections s ON s.venue_id = v.id
            WHERE v.id = ${venueId} ORDER BY s.position`,
      );
      if (rows.length === 0) return null;
      return rows.flatMap((row) => (row.name === null ? [] : [row.name]));
    },

    create: (concert, context) =>
      refusable((refuse: Refuse) =>
        transaction(database, async (tx) => {
          // The venue's row is key-share locked by the foreign key: its map cannot change until
          // this commits (a venue PATCH locks the row for update, 0033).
          const row = await queryOne<{ id: number }>(
            tx,
            sql`INSERT INTO concerts (title, description, venue, venue_id, show_datetime, sale_opens_at,
                  sale_closes_at, ticket_limit, hold_seconds, refund_cutoff_hours, refund_fee_percent)
                SELECT ${concert.title}, ${concert.description}, v.name, v.id, ${concert.showAt},
                  coalesce(${concert.saleOpensAt}::timestamptz, now()), ${concert.saleClosesAt},
                  ${concert.ticketLimit}, ${concert.holdSeconds}, ${concert.refundCutoffHours},
                  ${concert.refundFeePercent}
                FROM venues v WHERE v.id = ${concert.plan.venueId}
                RETURNING id`,
          ).catch((error: unknown) => saleWindowRefused(error, refuse));
          if (!row) return refuse({ reason: 'venue-not-found' });
          await writeCategories(tx, row.id, concert.plan, refuse);
          await generateSeats(tx, row.id, concert.plan.venueId);
          const created = await detailOf(tx, row.id);
          if (!created) throw new Error(`concert ${row.id} vanished in its own transaction`);
          await record(
            tx,
            {
              action: 'concert.create',
              targetId: String(row.id),
              before: null,
              after: auditView(created),
            },
            context,
          );
          return created;
        }),
      ),

    async list({ limit, before }) {
      const rows = await query<DetailRow>(
        database,
        sql`${details(before === undefined ? sql`true` : sql`c.id < ${before}`)}
            ORDER BY c.id DESC LIMIT ${limit}`,
      );
      return rows.map(toDetail);
    },

    get: (concertId) => detailOf(database, concertId),

    update: (concertId, change, context) =>
      refusable((refuse: Refuse) =>
        transaction(database, async (tx) => {
          // Holds in flight on this concert finish first; new ones wait for this change.
          await query(tx, sql`SELECT ${concertSaleLock(concertId, 'exclusive')}`);
          const before = await detailOf(tx, concertId);
          if (!before) return refuse({ reason: 'concert-not-found' });
          await refuseIfCancelled(tx, concertId, refuse);
          const { plan } = change;
          if (plan) await refuseIfSold(tx, concertId, refuse);
          const venueId = plan?.venueId ?? null;
          const newVenue = plan !== undefined && plan.venueId !== before.venueId;
          if (newVenue) {
            const venue = await queryOne(
              tx,
              sql`SELECT 1 FROM venues WHERE id = ${plan.venueId} FOR KEY SHARE`,
            );
            if (!venue) refuse({ reason: 'venue-not-found' });
          }
          const updated = await queryOne<{ id: number }>(
            tx,
            sql`UPDATE concerts SET
                  title = coalesce(${change.title ?? null}, title),
                  description = coalesce(${change.description ?? null}, description),
                  show_datetime = coalesce(${change.showAt ?? null}::timestamptz, show_datetime),
                  sale_opens_at = coalesce(${change.saleOpensAt ?? null}::timestamptz, sale_opens_at),
                  sale_closes_at = coalesce(${change.saleClosesAt ?? null}::timestamptz, sale_closes_at),
                  ticket_limit = coalesce(${change.ticketLimit ?? null}::int, ticket_limit),
                  hold_seconds = coalesce(${change.holdSeconds ?? null}::int, hold_seconds),
                  refund_cutoff_hours = coalesce(${change.refundCutoffHours ?? null}::int, refund_cutoff_hours),
                  refund_fee_percent = coalesce(${change.refundFeePercent ?? null}::int, refund_fee_percent),
                  venue_id = coalesce(${venueId}::bigint, venue_id),
                  venue = coalesce((SELECT name FROM venues WHERE id = ${venueId}::bigint), venue),
                  updated_at = now()
                WHERE id = ${concertId}
                RETURNING id`,
          ).catch((error: unknown) => saleWindowRefused(error, refuse));
          if (!updated) return refuse({ reason: 'concert-not-found' });
          if (plan) {
            if (!newVenue) await reprice(tx, concertId, plan, refuse);
            else {
              await clearSeats(tx, concertId);
              await writeCategories(tx, concertId, plan, refuse);
              await generateSeats(tx, concertId, plan.venueId);
            }
          }
          const after = await detailOf(tx, concertId);
          if (!after) throw new Error(`concert ${concertId} vanished in its own transaction`);
          await record(
            tx,
            {
              action: 'concert.update',
              targetId: String(concertId),
              before: auditView(before),
              after: auditView(after),
            },
            context,
          );
          return after;
        }),
      ),

    remove: (concertId, context) =>
      refusable((refuse: Refuse) =>
        transaction(database, async (tx) => {
          await query(tx, sql`SELECT ${concertSaleLock(concertId, 'exclusive')}`);
          const before = await detailOf(tx, concertId);
          if (!before) return refuse({ reason: 'concert-not-found' });
          await refuseIfCancelled(tx, concertId, refuse);
          await refuseIfSold(tx, concertId, refuse);
          await clearSeats(tx, concertId);
          await query(tx, sql`DELETE FROM concert_ranking WHERE concert_id = ${concertId}`);
          // Its waiting room goes with it (docs/rooms.md): joins then answer ROOM_NOT_FOUND, and
          // tokens still in its line admit nobody and end at their idle lifetime.
          await query(tx, sql`DELETE FROM rooms WHERE concert_id = ${concertId}`);
          await query(tx, sql`DELETE FROM concerts WHERE id = ${concertId}`);
          await record(
            tx,
            {
              action: 'concert.delete',
              targetId: String(concertId),
              before: auditView(before),
              after: null,
            },
            context,
          );
          return null;
        }),
      ),
  };
}
