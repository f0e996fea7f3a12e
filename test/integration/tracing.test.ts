import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createClient } from '../support/client.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { describeWithKafka, startKafkaMock } from '../support/kafka.js';
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../support/otlp-receiver.js';
import { spawnServer } from '../support/process.js';
import { startReceiver } from '../support/receiver.js';
import { describeWithRedis, redisUrl, useTestRedis } from '../support/redis.js';

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

/** A W3C traceparent of a trace the test starts itself, so it knows the payment's trace id. */
const newTraceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
};

/** The spans one payment's trace must hold, whatever carried its event. */
const wholePath = (spans: ReceivedSpan[]): boolean => {
  const has = (test: (span: ReceivedSpan) => boolean) => spans.some(test);
  return (
    has((s) => s.kind === SERVER && s.scope === '@opentelemetry/instrumentation-http') &&
    has((s) => s.scope === '@fastify/otel') &&
    has((s) => s.scope === '@opentelemetry/instrumentation-pg') &&
    has((s) => s.scope === '@opentelemetry/instrumentation-ioredis') &&
    has((s) => s.kind === PRODUCER && s.name === 'outbox publish') &&
    ['ranking', 'token-expiry', 'data-platform'].every((consumer) =>
      has((s) => s.kind === CONSUMER && s.name === `${consumer} process`),
    ) &&
    has((s) => s.name === 'data-platform deliver') &&
    has((s) => s.kind === CLIENT && s.scope === '@opentelemetry/instrumentation-undici')
  );
};

/**
 * Tracing end to end, on a server process of its own (its entry starts the SDK before the
 * service's modules load, as `npm start` and `npm run serve` do) with the Redis waiting room, on
 * each bus: one payment is one trace, from its HTTP request through its SQL, the outbox relay's
 * publish, each consumer and the data-platform send, whose request carries the trace on. Without
 * OTEL_EXPORTER_OTLP_ENDPOINT nothing is traced or carried.
 */
describeWithPostgres('OpenTelemetry tracing', () => {
  describeWithRedis('through a server process', () => {
    let db: TestDatabase;
    const redis = useTestRedis();
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    afterAll(async () => {
      await db?.drop();
    });

    /** A server process, the data platform it sends to, and one paid seat (the payment traced by the test's own context). */
    const payOnce = async (env: Record<string, string>) => {
      const bus = env.EVENT_BUS ?? 'redis';
      const platform = await startReceiver();
      cleanups.push(() => platform.close());
      const server = await spawnServer({
        DATABASE_URL: db.url,
        QUEUE_BACKEND: 'redis',
        EVENT_BUS: bus,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: redis.prefix(),
        DATA_PLATFORM_URL: platform.url,
        OUTBOX_INTERVAL_MS: '100',
        DELIVERY_INTERVAL_MS: '50',
        ...env,
      });
      cleanups.push(async () => {
        server.child.kill('SIGTERM');
        await server.exited;
      });
      const client = createClient(server.url);
      const concert = await createConcert(db.pool, { seats: 1, price: 1_000 });
      const user = 1_000 + concert.concertId;
      await setBalance(db.pool, user, 1_000);
      const token = await client.activeToken(user);
      const seatId = concert.seatIds[0]!;
      expect((await client.hold(token, concert.concertId, seatId)).status).toBe(201);
      const { traceId, traceparent } = newTraceparent();
      const paid = await client.call('POST', '/api/v1/reservations', {
        headers: { 'queue-token': token, traceparent },
        body: { reservationUuid: randomUUID(), seatId },
      });
      expect(paid.status).toBe(201);
      const { rows } = await db.pool.query<{ event_id: string; trace_context: string | null }>(
        `SELECT event_id, trace_context FROM outbox WHERE key = $1`,
        [String(concert.concertId)],
      );
      expect(rows).toHaveLength(1);
      // The data platform's copy is the last step of the path (on Kafka after the groups join).
      await expect.poll(() => platform.received.length, { timeout: 30_000 }).toBe(1);
      return { traceId, event: rows[0]!, sent: platform.received[0]! };
    };

    const traced = async (otlp: OtlpReceiver, env: Record<string, string>) => {
      const { traceId, event, sent } = await payOnce({
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        ...env,
      });
      expect(event.trace_context).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(sent.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      await expect.poll(() => wholePath(otlp.trace(traceId)), { timeout: 15_000 }).toBe(true);

      const trace = otlp.trace(traceId);
      const byId = new Map(trace.map((span) => [span.spanId, span]));
      // A publish the bus refused (Kafka before its topics exist) is tried again: a span each.
      const publishes = trace.filter((span) => span.name === 'outbox publish');
      for (const publish of publishes) {
        expect(publish.attributes['messaging.message.id']).toBe(event.event_id);
        expect(byId.get(publish.parentSpanId)).toBeDefined();
      }
      // The consumers continue the relay's publish, which continues the payment's request.
      const publishIds = new Set(publishes.map((span) => span.spanId));
      for (const span of trace.filter((s) => s.kind === CONSUMER))
        expect(publishIds.has(span.parentSpanId), span.name).toBe(true);
      // The platform's request was sent from the send's client span.
      const send = trace.find((s) => s.scope === '@opentelemetry/instrumentation-undici')!;
      expect(sent.traceparent?.split('-')[2]).toBe(send.spanId);
      // No span of this event's way lives in another trace.
      const ofEvent = otlp.spans.filter(
        (span) => span.attributes['messaging.message.id'] === event.event_id,
      );
      expect(new Set(ofEvent.map((span) => span.traceId))).toEqual(new Set([traceId]));
    };
    const startOtlp = async () => {
      const otlp = await startOtlpReceiver();
      cleanups.push(() => otlp.close());
      return otlp;
    };

    it('shows one payment as one trace on the Redis Streams bus: request, SQL, Redis, relay, consumers, data-platform send', async () => {
      await traced(await startOtlp(), { EVENT_BUS: 'redis' });
    });

    it('shows one payment as one trace on the in-process bus', async () => {
      await traced(await startOtlp(), { EVENT_BUS: 'inprocess' });
    });

    describeWithKafka('on Kafka', () => {
      it('shows one payment as one trace on the Kafka bus', async () => {
        const cluster = await startKafkaMock([]);
        cleanups.push(() => cluster.stop());
        await traced(await startOtlp(), {
          EVENT_BUS: 'kafka',
          KAFKA_BROKERS: cluster.brokers,
          KAFKA_SESSION_TIMEOUT_MS: '6000',
        });
      });
    });

    it('traces and carries nothing without OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
      const { event, sent } = await payOnce({});
      // The request's own traceparent is not even read: no propagator is installed.
      expect(event.trace_context).toBeNull();
      expect(sent.traceparent).toBeUndefined();
    });
  });
});
