import { Type } from 'typebox';
import { toAppError } from '../../http/error-mapping.js';
import type { App } from '../../shared/app-types.js';
import { id, isoTime, ok, responses, successEnvelope } from '../../shared/http.js';
import type { Guards } from '../auth/guards.js';
import type { AuditedAction, AuditService } from './audit.service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** An operator action: its refusals are recorded in the audit log (recordRefusals). */
    audit?: AuditedAction & { targetParam?: string };
  }
}

const tags = ['admin'];

const entrySchema = Type.Object({
  auditId: id('Audit entry id (newer entries have larger ids).'),
  at: isoTime('When the action committed (or was refused).'),
  actor: Type.String({
    description: '`operator-key:<fingerprint>` (AUTH_MODE=client-id) or `user:<id>` (admin JWT).',
  }),
  action: Type.String({ description: 'venue.create, venue.update, …' }),
  outcome: Type.Union([Type.Literal('SUCCESS'), Type.Literal('REFUSED')]),
  code: Type.Union([Type.String(), Type.Null()], { description: 'The refusal’s error code.' }),
  targetType: Type.String(),
  targetId: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown({ description: 'The target before the action (null: it did not exist).' }),
  after: Type.Unknown({ description: 'The target after it; a refusal’s message.' }),
  requestId: Type.String({ description: 'The request id (X-Request-Id) of the action.' }),
});

const text = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });

/** Who does an operator action, and in which request: the audit context of a guarded route. */
export const auditContext = (request: { operator?: { actor: string }; id: string }) => ({
  actor: request.operator?.actor ?? 'unknown',
  requestId: request.id,
});

/**
 * Records the refusals of a plugin's operator actions: a route whose config names an `audit`
 * action and whose operator passed the guard gets a REFUSED entry for any 4xx it answers (bad
 * input, a conflict). Callers the guard refused are not recorded: they are only in the request
 * log, so nobody without the key can make the log grow (docs/decisions/0034).
 */
export function recordRefusals(app: App, audit: AuditService): void {
  app.addHook('onError', async (request, _reply, error) => {
    const action = request.routeOptions.config.audit;
    if (!action || !request.operator) return;
    const refusal = toAppError(error);
    if (refusal.status < 400 || refusal.status >= 500) return;
    const params = request.params as Record<string, unknown> | undefined;
    const target = action.targetParam === undefined ? undefined : params?.[action.targetParam];
    await audit.refused(
      { actor: request.operator.actor, requestId: request.id },
      {
        action: action.action,
        targetType: action.targetType,
        targetId: typeof target === 'number' || typeof target === 'string' ? String(target) : null,
        code: refusal.code,
        message: refusal.message,
      },
    );
  });
}

/** The audit log, under /api/v1/admin/audit (src/app.ts). */
export function auditRoutes(app: App, deps: { audit: AuditService; guards: Guards }): void {
  const { audit, guards } = deps;
  app.get(
    '',
    {
      config: { rateLimitGroup: 'account' },
      preValidation: guards.admin.check,
      schema: {
        tags,
        summary: 'The audit log',
        description:
          'Every operator action, newest first: who, what, on which target, before and after, when, in which ' +
          'request; refused actions of an authenticated operator too. Page with `before` = the previous ' +
          'page’s `nextBefore`.',
        headers: guards.admin.headers,
        security: guards.admin.security,
        querystring: Type.Object(
          {
            action: Type.Optional(text('Only this action (venue.create, …).')),
            targetType: Type.Optional(text('Only this kind of target (venue, …).')),
            targetId: Type.Optional(text('Only this target.')),
            actor: Type.Optional(text('Only this actor.')),
            outcome: Type.Optional(Type.Union([Type.Literal('SUCCESS'), Type.Literal('REFUSED')])),
            from: Type.Optional(isoTime('Entries at or after this time.')),
            to: Type.Optional(isoTime('Entries before this time.')),
            before: Type.Optional(id('Entries older than this audit id.')),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(
              Type.Object({
                entries: Type.Array(entrySchema),
                nextBefore: Type.Union([id('The next page: pass as `before`.'), Type.Null()]),
              }),
              { entries: [], nextBefore: null },
            ),
            description: 'A page of the audit log.',
          },
          guards.admin.errors,
        ),
      },
    },
    async (request) => {
      const { from, to, limit, ...filters } = request.query;
      const entries = await audit.list({
        ...filters,
        ...(from === undefined ? {} : { from: new Date(from) }),
        ...(to === undefined ? {} : { to: new Date(to) }),
        limit,
      });
      const last = entries.at(-1);
      return ok({
        entries,
        nextBefore: entries.length === limit && last ? last.auditId : null,
      });
    },
  );
}
