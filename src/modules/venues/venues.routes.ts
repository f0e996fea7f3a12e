import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { bodyErrors, id, ok, pageQuery, responses, successEnvelope } from '../../shared/http.js';
import { auditContext, recordRefusals } from '../audit/audit.routes.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Guards } from '../auth/guards.js';
import {
  summaryExample,
  venueBody,
  venueDetail,
  venuePatch,
  venueSummary,
} from './venues.schemas.js';
import type { VenueService } from './venues.service.js';
import type { VenueDetail } from './venues.store.js';

const tags = ['admin'];

/**
 * A 100,000-seat map in the explicit form is a few megabytes; only these two routes take more
 * than BODY_LIMIT_BYTES.
 */
const MAP_BODY_LIMIT = 8 * 1024 * 1024;

const venueIdParams = Type.Object({ venueId: id('Venue id.') });

/** The stored map in the explicit form a request may use. */
const explicit = (venue: VenueDetail) => ({
  ...venue,
  sections: venue.sections.map((section) => ({
    name: section.name,
    kind: section.kind,
    capacity: section.capacity,
    rows: section.rows.map((row) => ({
      name: row.name,
      seats: row.labels.map((label) => ({ label })),
    })),
  })),
});

/** Venues and seat maps, under /api/v1/admin/venues (src/app.ts); operators only. */
export function venueRoutes(
  app: App,
  deps: { venues: VenueService; audit: AuditService; guards: Guards },
): void {
  const { venues, guards } = deps;
  const admin = guards.admin;
  recordRefusals(app, deps.audit);

  app.post(
    '',
    {
      bodyLimit: MAP_BODY_LIMIT,
      config: { rateLimitGroup: 'account', audit: { action: 'venue.create', targetType: 'venue' } },
      preValidation: admin.check,
      schema: {
        tags,
        summary: 'Create a venue with its seat map',
        description:
          'Sections → rows → seats. A row lists its seats (`seats: [{label}]`) or counts them (`seats: 40`, ' +
          'numbered from `start` by `step`, labelled by the section’s `labels` pattern, default "{row}-{seat}"); a ' +
          'general-admission section has a capacity. Names are unique (sections in the venue, rows in a section), ' +
          'labels unique in their section, at most 100,000 places. A refusal names the section or row in `data.field`.',
        headers: admin.headers,
        security: admin.security,
        body: venueBody,
        response: responses(
          {
            status: 201,
            schema: successEnvelope(venueSummary, summaryExample, 'Created'),
            description: 'The venue, its sections counted (GET it for every seat).',
          },
          [...admin.errors, ...bodyErrors, 'INVALID_SEAT_MAP'],
        ),
      },
    },
    async (request, reply) => {
      reply.code(201);
      return ok(await venues.create(request.body, auditContext(request)), 'Created');
    },
  );

  app.get(
    '',
    {
      config: { rateLimitGroup: 'account' },
      preValidation: admin.check,
      schema: {
        tags,
        summary: 'Venues',
        description: 'Newest first, with their sections counted. Page with `before`.',
        headers: admin.headers,
        security: admin.security,
        querystring: Type.Object(pageQuery('Venues', 100), { additionalProperties: false }),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(Type.Array(venueSummary), [summaryExample]),
            description: 'Venues.',
          },
          admin.errors,
        ),
      },
    },
    async (request) => ok(await venues.list(request.query)),
  );

  app.get(
    '/:venueId',
    {
      config: { rateLimitGroup: 'account' },
      preValidation: admin.check,
      schema: {
        tags,
        summary: 'A venue with its whole seat map',
        description: 'Every seat listed (the explicit form: what a PATCH may send back).',
        headers: admin.headers,
        security: admin.security,
        params: venueIdParams,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(venueDetail, {
              ...summaryExample,
              sections: [
                { name: 'Floor', kind: 'general-admission', capacity: 500, rows: [] },
                {
                  name: 'A',
                  kind: 'seated',
                  capacity: 2,
                  rows: [{ name: 'A', seats: [{ label: 'A-1' }, { label: 'A-2' }] }],
                },
              ],
            }),
            description: 'The venue and its map.',
          },
          [...admin.errors, 'VENUE_NOT_FOUND'],
        ),
      },
    },
    async (request) => ok(explicit(await venues.get(request.params.venueId))),
  );

  app.patch(
    '/:venueId',
    {
      bodyLimit: MAP_BODY_LIMIT,
      config: {
        rateLimitGroup: 'account',
        audit: { action: 'venue.update', targetType: 'venue', targetParam: 'venueId' },
      },
      preValidation: admin.check,
      schema: {
        tags,
        summary: 'Change a venue',
        description:
          'Name and address always; the seat map (`sections`, replaced whole) only while no concert uses the ' +
          'venue (409 VENUE_IN_USE).',
        headers: admin.headers,
        security: admin.security,
        params: venueIdParams,
        body: venuePatch,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(venueSummary, summaryExample, 'Updated'),
            description: 'The venue as changed.',
          },
          [...admin.errors, ...bodyErrors, 'INVALID_SEAT_MAP', 'VENUE_NOT_FOUND', 'VENUE_IN_USE'],
        ),
      },
    },
    async (request) =>
      ok(
        await venues.update(request.params.venueId, request.body, auditContext(request)),
        'Updated',
      ),
  );
}
