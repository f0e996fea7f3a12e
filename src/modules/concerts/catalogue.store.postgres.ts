import { sql, type SQL } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { concertSaleLock } from '../../db/locks.js';
import { query, queryOne, transaction, violatedConstraint } from '../../db/sql.js';
import { refusable } from '../../shared/outcome.js';
import type { AuditEntry, AuditLog } from '../audit/audit.store.js';
import type {
  CatalogueRefusal,
  CatalogueStore,
  ConcertDetail,
  PriceCategory,
  SeatPlan,
} from './catalogue.store.js';

type Refuse = (refusal: CatalogueRefusal) => never;

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

/**
 * The concert's categories and sections from the plan, checked against the venue's map as it is
 * now: a section renamed, added or removed since the plan was checked refuses the change.
 */
async function writeCategories(
  tx: Executor,
  concertId: number,
  plan: SeatPlan,
  refuse: Refuse,
): Promise<void> {
  const categories = plan.categories.map((category, position) => ({ position, ...category }));
  await query(
    tx,
    sql`INSERT INTO concert_price_categories (concert_id, position, name, price)
        SELECT ${concertId}, x.position, x.name, x.price
        FROM jsonb_to_recordset(${JSON.stringify(categories)}::jsonb) AS x(position int, name text, price bigint)`,
  );
  const written = await queryOne<{ sections: number; venue_sections: number }>(
    tx,
    sql`WITH section AS (
          INSERT INTO concert_sections (concert_id, position, key, name, kind, capacity, price_category_id)
          SELECT ${concertId}, vs.position, x.key, vs.name, vs.kind, vs.capacity, pc.id
          FROM venue_sections vs
          JOIN jsonb_to_recordset(${JSON.stringify(plan.sections)}::jsonb) AS x(name text, key text, category int)
            ON x.name = vs.name
          JOIN concert_price_categories pc ON pc.concert_id = ${concertId} AND pc.position = x.category
          WHERE vs.venue_id = ${plan.venueId}
          RETURNING 1)
        SELECT (SELECT count(*) FROM section) AS sections,
               (SELECT count(*) FROM venue_sections WHERE venue_id = ${plan.venueId}) AS venue_sections`,
  );
  if (written?.sections !== plan.sections.length || written.venue_sections !== plan.sections.length)
    refuse({ reason: 'venue-changed' });
}

/**
 * Generates the concert's seats from its sections in ONE statement: seat_number is the place in
 * map order (sections, then seats in a section) from 1; the section, row and label are copied; a
 * general-admission section gives numbered places "GA-1" … "GA-<capacity>".
 */
async function generateSeats(tx: Executor, concertId: number, venueId: number): Promise<void> {
  await query(
    tx,
    sql`INSERT INTO seats (concert_id, seat_number, price, section_key, section_name, row_label, seat_label, price_category_id)
        SELECT ${concertId}, row_number() OVER (ORDER BY cs.position, p.position), pc.price,
               cs.key, cs.name, p.row_name, p.label, pc.id
        FROM concert_sections cs
        JOIN venue_sections vs ON vs.venue_id = ${venueId} AND vs.position = cs.position
        JOIN concert_price_categories pc ON pc.id = cs.price_category_id
        CROSS JOIN LATERAL (
          SELECT e.position, e.row_name, e.label FROM venue_seats e WHERE e.section_id = vs.id
          UNION ALL
          SELECT g, NULL, 'GA-' || g FROM generate_series(1, vs.capacity) g WHERE vs.kind = 'general-admission'
        ) p
        WHERE cs.concert_id = ${concertId}`,
  );
}

/**
 * Refuses when a seat of the concert is held (live) or sold. Payments do not take the sale lock:
 * a payment in flight on a hold that expired by this transaction's clock holds that hold's row,
 * so those rows are locked first — the payment commits (SOLD, seen below) or fails first.
 */
async function refuseIfSold(tx: Executor, concertId: number, refuse: Refuse): Promise<void> {
  await query(
    tx,
    sql`SELECT 1 FROM seat_holds h JOIN seats s ON s.id = h.seat_id
        WHERE s.concert_id = ${concertId} AND h.status = 'HELD' AND h.expires_at <= now()
        FOR UPDATE OF h`,
  );
  const sales = await queryOne<{ sold: boolean }>(
    tx,
    sql`SELECT EXISTS (SELECT 1 FROM seat_holds h JOIN seats s ON s.id = h.seat_id
                       WHERE s.concert_id = ${concertId} AND (h.status = 'SOLD' OR h.expires_at > now()))
            OR EXISTS (SELECT 1 FROM reservations WHERE concert_id = ${concertId}) AS sold`,
  );
  if (sales?.sold) refuse({ reason: 'has-sales' });
}

/** Removes the concert's seats (the expired holds on them first), sections and categories. */
async function clearSeats(tx: Executor, concertId: number): Promise<void> {
  await query(
    tx,
    sql`DELETE FROM seat_holds h USING seats s WHERE s.id = h.seat_id AND s.concert_id = ${concertId}`,
  );
  await query(tx, sql`DELETE FROM seats WHERE concert_id = ${concertId}`);
  await query(tx, sql`DELETE FROM concert_sections WHERE concert_id = ${concertId}`);
  await query(tx, sql`DELETE FROM concert_price_categories WHERE concert_id = ${concertId}`);
}

/** New categories and mapping on the same venue: the seats keep their ids and get new prices. */
async function reprice(
  tx: Executor,
  concertId: number,
  plan: SeatPlan,
  refuse: Refuse,
): Promise<void> {
  await query(tx, sql`UPDATE seats SET price_category_id = NULL WHERE concert_id = ${concertId}`);
  await query(tx, sql`DELETE FROM concert_sections WHERE concert_id = ${concertId}`);
  await query(tx, sql`DELETE FROM concert_price_categories WHERE concert_id = ${concertId}`);
  await writeCategories(tx, concertId, plan, refuse);
  await query(
    tx,
    sql`UPDATE seats s SET price = pc.price, price_category_id = pc.id
        FROM concert_sections cs JOIN concert_price_categories pc ON pc.id = cs.price_category_id
        WHERE cs.concert_id = ${concertId} AND s.concert_id = ${concertId} AND s.section_key = cs.key`,
  );
}

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
          await refuseIfSold(tx, concertId, refuse);
          await clearSeats(tx, concertId);
          await query(tx, sql`DELETE FROM concert_ranking WHERE concert_id = ${concertId}`);
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
