import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { id, ok, responses, successEnvelope } from '../../shared/http.js';
import type { Guards } from '../auth/guards.js';
import type { CatalogueService } from './catalogue.service.js';
import type { ConcertReport } from './catalogue.store.js';

const count = (description: string) => Type.Integer({ minimum: 0, description });
const won = (description: string) => Type.Integer({ description: `${description} (won).` });
const orNull = <T extends ReturnType<typeof Type.String>>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const reportLine = Type.Object({
  sectionKey: orNull(Type.String({ description: 'URL key; null for seats made directly.' })),
  sectionName: orNull(Type.String({ description: 'Section name; null: the demo’s one section.' })),
  category: orNull(Type.String({ description: 'Price category; null for seats made directly.' })),
  price: Type.Union([Type.Integer(), Type.Null()], { description: 'The category’s price.' }),
  capacity: count('Seats.'),
  free: count('Neither held nor sold.'),
  held: count('Held now (not expired), not yet paid.'),
  sold: count('Sold (a live reservation).'),
});

const reportSchema = Type.Object({
  concertId: Type.Integer(),
  title: Type.String(),
  showAt: Type.String({ format: 'date-time' }),
  cancelled: Type.Boolean({ description: 'The show was cancelled.' }),
  sections: Type.Array(reportLine, { description: 'One line per section × price category.' }),
  totals: Type.Object({
    seats: count('Seats.'),
    free: count('Free seats.'),
    held: count('Held seats.'),
    sold: count('Sold seats.'),
    revenue: won('Gross sales: the USE ledger rows of the concert’s reservations'),
    refunds: won('The REFUND ledger rows of its reservations'),
    net: won('revenue − refunds'),
    reservations: count('Live reservations.'),
    cancelled: count('Cancelled reservations.'),
    buyers: count('Distinct users with a live reservation.'),
  }),
});

const reportExample: ConcertReport = {
  concertId: 7,
  title: 'Spring Gala',
  showAt: '2027-05-01T19:00:00.000Z',
  cancelled: false,
  sections: [
    {
      sectionKey: 'floor',
      sectionName: 'Floor',
      category: 'VIP',
      price: 150000,
      capacity: 100,
      free: 97,
      held: 1,
      sold: 2,
    },
  ],
  totals: {
    seats: 100,
    free: 97,
    held: 1,
    sold: 2,
    revenue: 450000,
    refunds: 135000,
    net: 315000,
    reservations: 2,
    cancelled: 1,
    buyers: 2,
  },
};

const header = ['section', 'category', 'price', 'capacity', 'free', 'held', 'sold'];
const totalsHeader = ['revenue', 'refunds', 'net', 'reservations', 'cancelled', 'buyers'];

/**
 * RFC 4180 field: quoted when it holds a comma, quote or line break, quotes doubled. No CSV
 * package is installed and writing one row format does not justify a dependency.
 */
const field = (value: string | number | null): string => {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};
const row = (values: (string | number | null)[]) => values.map(field).join(',') + '\r\n';

/** The report as CSV: one row per section × category, then a totals row with the money. */
export function reportCsv(report: ConcertReport): string {
  const { totals } = report;
  const lines = report.sections.map((line) =>
    row([
      line.sectionName ?? '—',
      line.category,
      line.price,
      line.capacity,
      line.free,
      line.held,
      line.sold,
      ...totalsHeader.map(() => null),
    ]),
  );
  const total = row([
    'TOTAL',
    null,
    null,
    totals.seats,
    totals.free,
    totals.held,
    totals.sold,
    totals.revenue,
    totals.refunds,
    totals.net,
    totals.reservations,
    totals.cancelled,
    totals.buyers,
  ]);
  return row([...header, ...totalsHeader]) + lines.join('') + total;
}

/** GET /api/v1/admin/concerts/{concertId}/report: JSON, or CSV with `Accept: text/csv`. */
export function reportRoute(app: App, deps: { catalogue: CatalogueService; guards: Guards }): void {
  const admin = deps.guards.admin;
  const envelope = successEnvelope(reportSchema, reportExample);
  app.get(
    '/:concertId/report',
    {
      config: { rateLimitGroup: 'account' },
      preValidation: admin.check,
      schema: {
        tags: ['admin'],
        summary: 'A concert’s sales report',
        description:
          'Seats free/held/sold per section and price category; revenue (USE ledger rows), refunds (REFUND ' +
          'rows), net, live and cancelled reservations, buyers. Money is summed from the ledger. With ' +
          '`Accept: text/csv`: the same as CSV (a header row, one row per section × category, a TOTAL row).',
        headers: admin.headers,
        security: admin.security,
        params: Type.Object({ concertId: id('Concert id.') }),
        response: {
          ...responses({ status: 200, schema: envelope, description: 'The report.' }, [
            ...admin.errors,
            'CONCERT_NOT_FOUND',
          ]),
          200: {
            description: 'application/json: the report. text/csv (`Accept: text/csv`): as CSV.',
            content: {
              'application/json': {
                schema: envelope,
                example: { code: 'SUCCESS', message: 'OK', data: reportExample },
              },
              'text/csv': {
                schema: Type.String({ description: 'RFC 4180 CSV, UTF-8.' }),
                example: reportCsv(reportExample),
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const report = await deps.catalogue.report(request.params.concertId);
      if (!(request.headers.accept ?? '').includes('text/csv')) return ok(report);
      return reply
        .type('text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="concert-${report.concertId}-report.csv"`,
        )
        .send(reportCsv(report));
    },
  );
}
