import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { Type } from 'typebox';
import type { Database } from '../../db/client.js';
import { pendingMigrationCount } from '../../db/migrate.js';
import { query } from '../../db/sql.js';
import type { App } from '../../shared/app-types.js';
import { AppError } from '../../shared/errors.js';
import { ok, responses, successEnvelope } from '../../shared/http.js';
import type { OutboxLag } from '../events/events.js';

const tags = ['health'];

export interface HealthDeps {
  database: Database;
  redis: Redis | undefined;
  outboxLag: () => Promise<OutboxLag>;
  isClosing: () => boolean;
}

/** Probes, under /health (src/app.ts). */
export function healthRoutes(app: App, deps: HealthDeps): void {
  app.get(
    '/live',
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
    '/ready',
    {
      schema: {
        tags,
        summary: 'Ready for traffic: database reachable and migrated (and Redis, when used)',
        description:
          'Also reports the outbox lag: committed events not yet accepted by the bus, and the age of the oldest.',
        response: responses(
          {
            status: 200,
            schema: successEnvelope(
              Type.Object({
                status: Type.Literal('ready'),
                database: Type.String(),
                pendingMigrations: Type.Integer(),
                redis: Type.Enum(['ok', 'not used']),
                outbox: Type.Object({ unsent: Type.Integer(), oldestUnsentSeconds: Type.Number() }),
              }),
              {
                status: 'ready',
                database: 'postgres',
                pendingMigrations: 0,
                redis: 'not used',
                outbox: { unsent: 0, oldestUnsentSeconds: 0 },
              },
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
        await query(deps.database, sql`SELECT 1`);
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
      if (deps.redis) {
        try {
          await deps.redis.ping();
        } catch {
          throw new AppError('SERVICE_UNAVAILABLE', 'Redis is unreachable.', { reason: 'redis' });
        }
      }
      return ok({
        status: 'ready' as const,
        database: deps.database.kind,
        pendingMigrations: 0,
        redis: deps.redis ? ('ok' as const) : ('not used' as const),
        outbox: await deps.outboxLag(),
      });
    },
  );
}
