import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { bodyErrors, id, ok, pageQuery, responses, successEnvelope } from '../../shared/http.js';
import { auditContext, recordRefusals } from '../audit/audit.routes.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Guards } from '../auth/guards.js';
import {
  sectionKeyParam,
  summaryExample,
  venueBody,
  venueDetail,
  venuePatch,
  venueSection,
  venueSummary,
} from './venues.schemas.js';
import type { VenueService } from './venues.service.js';
import type { MapSection } from './venues.rules.js';
import type { VenueDetail } from './venues.store.js';

const tags = ['admin'];

/**
 * A 100,000-seat map in the explicit form is a few megabytes; only these two routes take more
 * than BODY_LIMIT_BYTES.
 */
const MAP_BODY_LIMIT = 8 * 1024 * 1024;

const venueIdParams = Type.Object({ venueId: id('Venue id.') });

/** Stored rows in the explicit form a request may use. */
const explicitRows = (rows: MapSection['rows']) =>
  rows.map((row) => ({ name: row.name, seats: row.labels.map((label) => ({ label })) }));

/** The stored map in the explicit form a request may use, each section with its key. */
const explicit = (venue: VenueDetail) => ({
  ...venue,
  sections: venue.sections.map((section) => ({
    key: section.key,
    name: section.name,
    kind: section.kind,
    capacity: section.capacity,
    rowCount: section.rows.length,
    rows: explicitRows(section.rows),
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
        summary: 'A venue with its seat map',
        description:
          'Every seat listed (the explicit form: what a PATCH may send back). A large map (300 KB at 20,000 ' +
          'seats) reads better a section at a time: `seats=false` lists the sections with their keys and ' +
          'counts only, and GET …/sections/{sectionKey} gives one section’s seats.',
        headers: admin.headers,
        security: admin.security,
        params: venueIdParams,
        querystring: Type.Object(
          {
            seats: Type.Boolean({
              default: true,
              description: 'false: the sections counted, no seat listed.',
            }),
          },
          { additionalProperties: false },
        ),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(venueDetail, {
              ...summaryExample,
              sections: [
                { ...summaryExample.sections[0], rows: [] },
                {
                  ...summaryExample.sections[1],
                  capacity: 2,
                  rowCount: 1,
                  rows: [{ name: 'A', seats: [{ label: 'A-1' }, { label: 'A-2' }] }],
                },
              ],
            }),
            description: 'The venue and its map (or its sections counted, with `seats=false`).',
          },
          [...admin.errors, 'VENUE_NOT_FOUND'],
        ),
      },
    },
    async (request) => {
      const { venueId } = request.params;
      return ok(
        request.query.seats ? explicit(await venues.get(venueId)) : await venues.summary(venueId),
      );
    },
  );

  app.get(
    '/:venueId/sections/:sectionKey',
    {
      config: { rateLimitGroup: 'account' },
      preValidation: admin.check,
      schema: {
        tags,
        summary: 'One section of a venue with its seats',
        description:
          'The section’s rows and seats in the explicit form; its key comes from the venue’s `sections[].key`.',
        headers: admin.headers,
        security: admin.security,
        params: Type.Object({ venueId: id('Venue id.'), sectionKey: sectionKeyParam }),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(venueSection, {
              venueId: 1,
              ...summaryExample.sections[1],
              capacity: 2,
              rowCount: 1,
              rows: [{ name: 'A', seats: [{ label: 'A-1' }, { label: 'A-2' }] }],
            }),
            description: 'The section and its seats.',
          },
          [...admin.errors, 'VENUE_NOT_FOUND', 'SECTION_NOT_FOUND'],
        ),
      },
    },
    async (request) => {
      const section = await venues.section(request.params.venueId, request.params.sectionKey);
      return ok({ ...section, rows: explicitRows(section.rows) });
    },
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
