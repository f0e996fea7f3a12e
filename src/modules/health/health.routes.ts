import { sql } from 'drizzle-orm';
import { Type } from 'typebox';
import type { Database } from '../../db/client.js';
import { pendingMigrationCount } from '../../db/migrate.js';
import type { App } from '../../shared/app-types.js';
import { AppError } from '../../shared/errors.js';
import { ok, responses, successEnvelope } from '../../shared/http.js';

const tags = ['health'];

export function registerHealthRoutes(
  app: App,
  deps: { database: Database; isClosing: () => boolean },
): void {
  app.get(
    '/health/live',
    {
      schema: {
        tags,
        summary: 'The process is up',
        response: responses(
          {
            status: 200,
            schema: successEnvelope(Type.Object({ status: Type.Literal('live') }), {
              status: 'live',
            }),
            description: 'Alive.',
          },
          [],
        ),
      },
    },
    () => ok({ status: 'live' as const }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags,
        summary: 'Ready for traffic: database reachable and migrated',
        response: responses(
          {
            status: 200,
            schema: successEnvelope(
              Type.Object({
                status: Type.Literal('ready'),
                database: Type.String(),
                pendingMigrations: Type.Integer(),
              }),
              { status: 'ready', database: 'postgres', pendingMigrations: 0 },
            ),
            description: 'Ready.',
          },
          [],
        ),
      },
    },
    async () => {
      if (deps.isClosing())
        throw new AppError('SERVICE_UNAVAILABLE', 'Shutting down.', { reason: 'closing' });
      try {
        await deps.database.orm.execute(sql`SELECT 1`);
      } catch {
        throw new AppError('SERVICE_UNAVAILABLE', 'The database is unreachable.', {
          reason: 'database',
        });
      }
      const pending = await pendingMigrationCount(deps.database);
      if (pending > 0) {
        throw new AppError('SERVICE_UNAVAILABLE', `${pending} migration(s) not applied.`, {
          reason: 'migrations',
          pending,
        });
      }
      return ok({ status: 'ready' as const, database: deps.database.kind, pendingMigrations: 0 });
    },
  );
}
