import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { bodyErrors, id, ok, pageQuery, responses, successEnvelope } from '../../shared/http.js';
import { auditContext, recordRefusals } from '../audit/audit.routes.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Guards } from '../auth/guards.js';
import { concertBody, concertDetail, concertPatch, detailExample } from './catalogue.schemas.js';
import type { CatalogueService } from './catalogue.service.js';
import { reportRoute } from './catalogue.report.js';

const tags = ['admin'];

const concertIdParams = Type.Object({ concertId: id('Concert id.') });

/** Operators' concerts, under /api/v1/admin/concerts (src/app.ts); every change audited. */
export function catalogueRoutes(
  app: App,
  deps: { catalogue: CatalogueService; audit: AuditService; guards: Guards },
): void {
  const { catalogue, guards } = deps;
  const admin = guards.admin;
  recordRefusals(app, deps.audit);
  reportRoute(app, deps);

  app.post(
    '',
    {
      config: {
        rateLimitGroup: 'account',
        audit: { action: 'concert.create', targetType: 'concert' },
      },
      preValidation: admin.check,
      schema: {
        tags,
        summary: 'Create a concert on a venue',
        description:
          'Its seats are generated from the venue’s map in the same transaction (seat numbers 1… in map order; ' +
          'general-admission places labelled "GA-1" …), priced by the categories: every section of the venue in ' +
          'exactly one. Sale settings default to: open now, close at the show, ticket limit 1, the global hold ' +
          'lifetime, refunds up to 24 h before the show without fee.',
        headers: admin.headers,
        security: admin.security,
        body: concertBody,
        response: responses(
          {
            status: 201,
            schema: successEnvelope(concertDetail, detailExample, 'Created'),
            description: 'The concert, its seats counted.',
          },
          [
            ...admin.errors,
            ...bodyErrors,
            'VENUE_NOT_FOUND',
            'INVALID_PRICE_CATEGORIES',
            'INVALID_SALE_SETTINGS',
          ],
        ),
      },
    },
    async (request, reply) => {
      reply.code(201);
      return ok(await catalogue.create(request.body, auditContext(request)), 'Created');
    },
  );

  app.get(
    '',
    {
      config: { rateLimitGroup: 'account' },
      preValidation: admin.check,
      schema: {
        tags,
        summary: 'Concerts (operators’ view)',
        description: 'Newest first, with sale settings and price categories. Page with `before`.',
        headers: admin.headers,
        security: admin.security,
        querystring: Type.Object(pageQuery('Concerts', 100), { additionalProperties: false }),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(Type.Array(concertDetail), [detailExample]),
            description: 'Concerts.',
          },
          admin.errors,
        ),
      },
    },
    async (request) => ok(await catalogue.list(request.query)),
  );

  app.get(
    '/:concertId',
    {
      config: { rateLimitGroup: 'account' },
      preValidation: admin.check,
      schema: {
        tags,
        summary: 'A concert (operators’ view)',
        headers: admin.headers,
        security: admin.security,
        params: concertIdParams,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(concertDetail, detailExample),
            description: 'The concert.',
          },
          [...admin.errors, 'CONCERT_NOT_FOUND'],
        ),
      },
    },
    async (request) => ok(await catalogue.get(request.params.concertId)),
  );

  app.patch(
    '/:concertId',
    {
      config: {
        rateLimitGroup: 'account',
        audit: { action: 'concert.update', targetType: 'concert', targetParam: 'concertId' },
      },
      preValidation: admin.check,
      schema: {
        tags,
        summary: 'Change a concert',
        description:
          'Title, description, show time and sale settings always (opens < closes ≤ show); the price categories ' +
          'and the venue only while no seat is held or sold (409 CONCERT_HAS_SALES). New categories on the same ' +
          'venue reprice the seats in place (their ids stay); another venue regenerates them.',
        headers: admin.headers,
        security: admin.security,
        params: concertIdParams,
        body: concertPatch,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(concertDetail, detailExample, 'Updated'),
            description: 'The concert as changed.',
          },
          [
            ...admin.errors,
            ...bodyErrors,
            'CONCERT_NOT_FOUND',
            'VENUE_NOT_FOUND',
            'INVALID_PRICE_CATEGORIES',
            'INVALID_SALE_SETTINGS',
            'CONCERT_HAS_SALES',
            'CONCERT_CANCELLED',
          ],
        ),
      },
    },
    async (request) =>
      ok(
        await catalogue.update(request.params.concertId, request.body, auditContext(request)),
        'Updated',
      ),
  );

  app.delete(
    '/:concertId',
    {
      config: {
        rateLimitGroup: 'account',
        audit: { action: 'concert.delete', targetType: 'concert', targetParam: 'concertId' },
      },
      preValidation: admin.check,
      schema: {
        tags,
        summary: 'Delete an unsold concert',
        description:
          'Removes the concert and its seats while no seat is held or sold; otherwise 409 CONCERT_HAS_SALES (a ' +
          'concert with sales can only be cancelled).',
        headers: admin.headers,
        security: admin.security,
        params: concertIdParams,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(Type.Object({ deleted: Type.Literal(true) }), {
              deleted: true,
            }),
            description: 'Deleted.',
          },
          [...admin.errors, 'CONCERT_NOT_FOUND', 'CONCERT_HAS_SALES', 'CONCERT_CANCELLED'],
        ),
      },
    },
    async (request) => {
      await catalogue.remove(request.params.concertId, auditContext(request));
      return ok({ deleted: true as const }, 'Deleted');
    },
  );
}
