import { sql } from 'drizzle-orm';
import type { RedisClient } from '../../redis/client.js';
import { Type } from 'typebox';
import type { Database } from '../../db/client.js';
import { pendingMigrationCount } from '../../db/migrate.js';
import { query } from '../../db/sql.js';
import type { App } from '../../shared/app-types.js';
import { AppError } from '../../shared/errors.js';
import { ok, responses, successEnvelope } from '../../shared/http.js';
import type { NotReady, Readiness } from '../../shared/readiness.js';
import type { OutboxLag } from '../events/events.js';

const tags = ['health'];

export interface HealthDeps {
  database: Database;
  redis: RedisClient | undefined;
  outboxLag: () => Promise<OutboxLag>;
  isClosing: () => boolean;
  /** Workers and Kafka clients reporting in (in memory). */
  readiness: Pick<Readiness, 'problems'>;
  /** The outbox's oldest unsent event may be this old (seconds); 0: not checked. */
  maxOutboxLagSeconds: number;
}

/** Each check's failure as a reason; the probe runs them all so the 503 names every one. */
async function notReadyIf(
  check: () => Promise<NotReady | undefined>,
  failed: NotReady,
): Promise<NotReady | undefined> {
  try {
    return await check();
  } catch {
    return failed;
  }
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
        summary:
          'Ready for traffic: dependencies up, workers running, outbox caught up, Kafka joined',
        description:
          'Fails (503 SERVICE_UNAVAILABLE) naming every reason in data.reasons [{reason, component, message}]: closing, database, migrations, redis, worker-stalled (a worker has not completed a run for READY_WORKER_MISSED_RUNS intervals), outbox-lag (oldest unsent event older than READY_MAX_OUTBOX_LAG_SECONDS), kafka-producer, kafka-queue-log, kafka-consumer (the Kafka clients have not connected, joined their groups and caught up since start). Also reports the outbox lag. GET /health/live only says the process answers.',
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
        throw new AppError('SERVICE_UNAVAILABLE', 'Shutting down.', {
          reason: 'closing',
          reasons: [{ reason: 'closing', component: 'server', message: 'Shutting down.' }],
        });
      let lag: OutboxLag | undefined;
      let pending = 0;
      const found = await Promise.all([
        notReadyIf(
          async () => {
            await query(deps.database, sql`SELECT 1`);
            pending = await pendingMigrationCount(deps.database);
            if (pending === 0) return undefined;
            return {
              reason: 'migrations',
              component: 'database',
              message: `${pending} migration(s) not applied.`,
            };
          },
          { reason: 'database', component: 'database', message: 'The database is unreachable.' },
        ),
        notReadyIf(
          async () => {
            await deps.redis?.ping();
            return undefined;
          },
          { reason: 'redis', component: 'redis', message: 'Redis is unreachable.' },
        ),
        notReadyIf(
          async () => {
            // The one bounded query of the probe beside SELECT 1 (the index on unsent rows).
            lag = await deps.outboxLag();
            const max = deps.maxOutboxLagSeconds;
            if (max === 0 || lag.oldestUnsentSeconds <= max) return undefined;
            return {
              reason: 'outbox-lag',
              component: 'outbox',
              message: `${lag.unsent} event(s) unsent, the oldest ${lag.oldestUnsentSeconds} s old (allowed: ${max} s).`,
            };
          },
          // Unreadable: the database reason above says why.
          { reason: 'database', component: 'outbox', message: 'The outbox could not be read.' },
        ),
      ]);
      const reasons = [
        ...found.filter((problem): problem is NotReady => problem !== undefined),
        ...deps.readiness.problems(),
      ];
      const [first] = reasons;
      // No outbox reading means its check failed and gave a reason.
      if (first || !lag) {
        throw new AppError(
          'SERVICE_UNAVAILABLE',
          reasons.length === 1 && first
            ? first.message
            : `Not ready: ${reasons.map((problem) => problem.reason).join(', ')}.`,
          {
            reason: first?.reason,
            reasons,
            ...(lag ? { outbox: lag } : {}),
            ...(pending > 0 ? { pending } : {}),
          },
        );
      }
      return ok({
        status: 'ready' as const,
        database: deps.database.kind,
        pendingMigrations: 0,
        redis: deps.redis ? ('ok' as const) : ('not used' as const),
        outbox: lag,
      });
    },
  );
}
